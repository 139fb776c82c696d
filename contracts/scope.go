package contracts

import (
	"fmt"
	"slices"

	"github.com/versement/versement/profiles"
)

// Scope is what one establishment of a platform names in VITAM, whatever its profiles: the
// ingest contract all its SIPs name, its agencies, and its two access contracts. The platform
// derives it from its file (platform.Establishment.Contracts), where the same identifiers go
// into every SIP the establishment's profiles build.
type Scope struct {
	ID, Name                               string // the establishment's
	ArchivalAgreement                      string
	ArchivalProfiles                       []string // of its profiles, if any
	OriginatingAgency, SubmissionAgency    string
	TransferringAgency, ArchivalAgency     profiles.Agency
	ConsultationContract, ArchivesContract string
}

// ForScope derives an establishment's contracts, as For does a profile's: one ingest contract,
// the consultation contract (its originating agency only, read only, every access logged by
// VITAM) and the archives service's (the same agency, every object version, read only), and the
// agencies they and the SIPs name.
func ForScope(s Scope) (Set, error) {
	switch {
	case s.ArchivalAgreement == "":
		return Set{}, fmt.Errorf("establishment %s has no seda.archival_agreement: VITAM refuses a SIP without the ingest contract it names", s.ID)
	case s.OriginatingAgency == "":
		return Set{}, fmt.Errorf("establishment %s has no seda.originating_agency: an access contract is limited to the agency whose dossiers it reads", s.ID)
	case s.ConsultationContract == "" || s.ArchivesContract == "":
		return Set{}, fmt.Errorf("establishment %s: no access contract identifiers", s.ID)
	}
	name := s.Name
	if name == "" {
		name = s.ID
	}
	in := Ingest{Identifier: s.ArchivalAgreement, Name: "Versement — " + name, Status: "ACTIVE",
		Description:     "Contrat d'entrée des SIP de l'établissement " + name + " (" + s.ID + ", versement)",
		CheckParentLink: "AUTHORIZED", MasterMandatory: true, DataObjectVersion: []string{"BinaryMaster"}, EveryFormatType: true}
	for _, p := range s.ArchivalProfiles {
		if p != "" && !slices.Contains(in.ArchiveProfiles, p) {
			in.ArchiveProfiles = append(in.ArchiveProfiles, p)
		}
	}
	agency := []string{s.OriginatingAgency}
	set := Set{Ingest: []Ingest{in}, Access: []Access{
		{Identifier: s.ConsultationContract, Name: "Consultation — " + name, Status: "ACTIVE",
			Description:         "Consultation des archives de l'établissement " + name + " par son service producteur, lecture seule, accès journalisés",
			OriginatingAgencies: agency, DataObjectVersion: []string{"BinaryMaster"}, AccessLog: "ACTIVE"},
		{Identifier: s.ArchivesContract, Name: "Service d'archives — " + name, Status: "ACTIVE",
			Description:         "Consultation par le service d'archives des archives de l'établissement " + name + ", lecture seule, accès journalisés",
			OriginatingAgencies: agency, EveryDataObjectVersion: true, DataObjectVersion: []string{}, AccessLog: "ACTIVE"},
	}}
	producer := "Service producteur — " + name
	if s.OriginatingAgency == s.TransferringAgency.Identifier && s.TransferringAgency.Name != "" {
		producer = s.TransferringAgency.Name
	}
	seen := map[string]bool{}
	for _, a := range []Agency{
		{s.OriginatingAgency, producer, "Service producteur des dossiers de l'établissement " + name},
		{s.SubmissionAgency, "Service versant — " + name, "Service qui verse les SIP de l'établissement " + name},
		{s.TransferringAgency.Identifier, s.TransferringAgency.Name, "Service de transfert de l'établissement " + name},
		{s.ArchivalAgency.Identifier, s.ArchivalAgency.Name, "Service d'archives"},
	} {
		if a.Identifier == "" || seen[a.Identifier] {
			continue
		}
		seen[a.Identifier] = true
		if a.Name == "" {
			a.Name = a.Identifier
		}
		set.Agencies = append(set.Agencies, a)
	}
	return set, nil
}
