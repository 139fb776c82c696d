// Package contracts writes what VITAM must know before it accepts a profile's SIPs and answers its
// consultations, in the formats of VITAM's referential imports (admin-external, see
// ../shared/domain/vitam-access.md §6): the ingest contract the SIPs name in ArchivalAgreement,
// the access contracts a consultation names in X-Access-Contract-Id, and the agencies both refer
// to. The identifiers are the profile's own, so what is imported is what the SIPs use.
package contracts

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/versement/versement/profiles"
	"github.com/versement/versement/sip"
)

// Ingest is an ingest contract as VITAM imports it (IngestContractModel).
type Ingest struct {
	Identifier                   string   `json:"Identifier"`
	Name                         string   `json:"Name"`
	Description                  string   `json:"Description,omitempty"`
	Status                       string   `json:"Status"`
	ArchiveProfiles              []string `json:"ArchiveProfiles,omitempty"`
	CheckParentLink              string   `json:"CheckParentLink"`
	MasterMandatory              bool     `json:"MasterMandatory"`
	EveryDataObjectVersion       bool     `json:"EveryDataObjectVersion"`
	DataObjectVersion            []string `json:"DataObjectVersion"`
	FormatUnidentifiedAuthorized bool     `json:"FormatUnidentifiedAuthorized"`
	EveryFormatType              bool     `json:"EveryFormatType"`
}

// Access is an access contract as VITAM imports it (AccessContractModel).
type Access struct {
	Identifier             string   `json:"Identifier"`
	Name                   string   `json:"Name"`
	Description            string   `json:"Description,omitempty"`
	Status                 string   `json:"Status"`
	EveryOriginatingAgency bool     `json:"EveryOriginatingAgency"`
	OriginatingAgencies    []string `json:"OriginatingAgencies"`
	EveryDataObjectVersion bool     `json:"EveryDataObjectVersion"`
	DataObjectVersion      []string `json:"DataObjectVersion"`
	WritingPermission      bool     `json:"WritingPermission"`
	AccessLog              string   `json:"AccessLog"`
}

// Agency is a line of VITAM's agencies referential.
type Agency struct{ Identifier, Name, Description string }

// Set is what one profile needs imported.
type Set struct {
	Ingest   []Ingest
	Access   []Access
	Agencies []Agency
}

// For derives a profile's contracts. The consultation contract reads the profile's originating
// agency only, never writes, and has VITAM log every access (what the CNIL asks of intermediate
// archives: the producing service, separated by access rights); the archives service's contract
// reads every version of the same agency's objects. Neither may write: an elimination goes
// through the archives' own contract, which the archives service grants.
func For(p *profiles.Profile) (Set, error) {
	if p.SEDA.ArchivalAgreement == "" {
		return Set{}, fmt.Errorf("profile %s has no seda.archival_agreement: VITAM refuses a SIP without the ingest contract it names", p.Name)
	}
	if p.SEDA.OriginatingAgency == "" {
		return Set{}, fmt.Errorf("profile %s has no seda.originating_agency: an access contract is limited to the agency whose dossiers it reads", p.Name)
	}
	desc := p.Description
	if desc == "" {
		desc = p.Name
	}
	in := Ingest{Identifier: p.SEDA.ArchivalAgreement, Name: "Versement " + desc, Status: "ACTIVE",
		Description:     "Contrat d'entrée des SIP du profil " + p.Name + " (versement)",
		CheckParentLink: "AUTHORIZED", MasterMandatory: true, DataObjectVersion: []string{"BinaryMaster"}, EveryFormatType: true}
	if p.SEDA.ArchivalProfile != "" {
		in.ArchiveProfiles = []string{p.SEDA.ArchivalProfile}
	}
	agency := []string{p.SEDA.OriginatingAgency}
	s := Set{Ingest: []Ingest{in}, Access: []Access{
		{Identifier: AccessID(p, "CONSULTATION"), Name: "Consultation — " + desc, Status: "ACTIVE",
			Description:         "Consultation des archives du profil " + p.Name + " par le service producteur, lecture seule, accès journalisés",
			OriginatingAgencies: agency, DataObjectVersion: []string{"BinaryMaster"}, AccessLog: "ACTIVE"},
		{Identifier: AccessID(p, "ARCHIVES"), Name: "Service d'archives — " + desc, Status: "ACTIVE",
			Description:         "Consultation par le service d'archives des archives du profil " + p.Name + ", lecture seule, accès journalisés",
			OriginatingAgencies: agency, EveryDataObjectVersion: true, DataObjectVersion: []string{}, AccessLog: "ACTIVE"},
	}}
	seen := map[string]bool{}
	producer := "Service producteur"
	if p.SEDA.OriginatingAgency == p.SEDA.TransferringAgency.Identifier && p.SEDA.TransferringAgency.Name != "" {
		producer = p.SEDA.TransferringAgency.Name // the profile names the service
	}
	for _, a := range []Agency{
		{p.SEDA.OriginatingAgency, producer, "Service producteur des dossiers du profil " + p.Name},
		{p.SEDA.SubmissionAgency, "Service versant", "Service qui verse les SIP du profil " + p.Name},
		{p.SEDA.TransferringAgency.Identifier, p.SEDA.TransferringAgency.Name, "Service de transfert du profil " + p.Name},
		{p.SEDA.ArchivalAgency.Identifier, p.SEDA.ArchivalAgency.Name, "Service d'archives"},
	} {
		if a.Identifier == "" || seen[a.Identifier] {
			continue
		}
		seen[a.Identifier] = true
		if a.Name == "" {
			a.Name = a.Identifier
		}
		s.Agencies = append(s.Agencies, a)
	}
	return s, nil
}

// AccessID names one of a profile's access contracts: AC-APOGEE-CONSULTATION.
func AccessID(p *profiles.Profile, role string) string {
	return "AC-" + strings.ToUpper(sip.FileSafe(p.Name)) + "-" + role
}

// WriteIngest writes the ingest contracts as the body of POST /admin-external/v1/ingestcontracts.
func (s Set) WriteIngest(w io.Writer) error { return writeJSON(w, s.Ingest) }

// WriteAccess writes the access contracts as the body of POST /admin-external/v1/accesscontracts.
func (s Set) WriteAccess(w io.Writer) error { return writeJSON(w, s.Access) }

// WriteAgencies writes the agencies as the CSV of POST /admin-external/v1/agencies. VITAM replaces
// a tenant's whole referential with the file it is sent: merge these lines into the tenant's.
func (s Set) WriteAgencies(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Identifier", "Name", "Description"})
	for _, a := range s.Agencies {
		cw.Write([]string{a.Identifier, a.Name, a.Description})
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
