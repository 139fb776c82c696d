package platform

import (
	"slices"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/profiles"
)

// Contracts are what VITAM must know of the establishment, with the identifiers its SIPs use:
// its ingest contract (naming the archival profiles of its profiles), its consultation and
// archives access contracts, and the agencies they and the SIPs name. Each profile is loaded as
// Profile gives it, so the archives service is the one its SIPs name.
func (e *Establishment) Contracts() (contracts.Set, error) {
	s := contracts.Scope{ID: e.ID, Name: e.Name, ArchivalAgreement: e.SEDA.ArchivalAgreement,
		OriginatingAgency: e.SEDA.OriginatingAgency, SubmissionAgency: e.SEDA.SubmissionAgency,
		TransferringAgency: e.SEDA.TransferringAgency, ArchivalAgency: e.SEDA.ArchivalAgency,
		ConsultationContract: e.VITAM.ConsultationContract, ArchivesContract: e.VITAM.ArchivesContract}
	var archives []profiles.Agency // each profile's archives service, when the establishment names none
	for _, name := range e.Profiles() {
		p, err := e.Profile(name)
		if err != nil {
			return contracts.Set{}, err
		}
		s.ArchivalProfiles = append(s.ArchivalProfiles, p.SEDA.ArchivalProfile)
		archives = append(archives, p.SEDA.ArchivalAgency)
	}
	if s.ArchivalAgency.Identifier == "" && len(archives) > 0 {
		s.ArchivalAgency = archives[0]
	}
	set, err := contracts.ForScope(s)
	if err != nil {
		return set, err
	}
	// Profiles sending to different archives services: every one their SIPs name is listed.
	for _, a := range archives {
		if a.Identifier == "" || slices.ContainsFunc(set.Agencies, func(x contracts.Agency) bool { return x.Identifier == a.Identifier }) {
			continue
		}
		name := a.Name
		if name == "" {
			name = a.Identifier
		}
		set.Agencies = append(set.Agencies, contracts.Agency{Identifier: a.Identifier, Name: name, Description: "Service d'archives"})
	}
	return set, nil
}
