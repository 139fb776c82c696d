package bordereau

import (
	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

// The adapters below fill the model from what the pipeline holds, so that wiring a bordereau into
// a run is one call per dossier. The model itself knows nothing of profiles or decisions.

// RuleOf is a schedule rule as a bordereau cites it.
func RuleOf(r retention.Rule) Rule {
	return Rule{ID: r.ID, Title: r.Title, DUA: r.DUA.String(), FinalAction: string(r.FinalAction), Basis: r.Basis, Status: string(r.Status)}
}

// HeaderFor is the header of the profile's proposal of elimination at asOf: its agencies and the
// rules of its schedule. The caller adds the establishment and, when nothing is due, the reason.
func HeaderFor(p *profiles.Profile, asOf civil.Date) Header {
	h := Header{Profile: p.Name, Date: asOf,
		Originating:  Agency{ID: p.SEDA.OriginatingAgency},
		Transferring: Agency{ID: p.SEDA.TransferringAgency.Identifier, Name: p.SEDA.TransferringAgency.Name},
		Archival:     Agency{ID: p.SEDA.ArchivalAgency.Identifier, Name: p.SEDA.ArchivalAgency.Name},
	}
	if s := p.Schedule(); s != nil {
		for _, r := range s.Rules {
			h.Rules = append(h.Rules, RuleOf(r.Rule))
		}
	}
	return h
}

// VersementHeaderFor is the header of the profile's transfer slip for one run.
func VersementHeaderFor(p *profiles.Profile, runID string, date civil.Date) VersementHeader {
	h := HeaderFor(p, date)
	return VersementHeader{RunID: runID, Date: date, Profile: p.Name, Originating: h.Originating,
		Transferring: h.Transferring, Archival: h.Archival, Agreement: p.SEDA.ArchivalAgreement}
}

// Rows counts the rows of a dossier, in every table: its volume on a bordereau.
func Rows(d *extract.Dossier) int64 {
	if d == nil {
		return 0
	}
	var n int64
	for _, t := range d.Tables {
		n += int64(len(t.Rows))
	}
	return n
}

// dates are the dossier's dates extrêmes: the description's, else the decision's start.
func dates(desc profiles.Description, dec retention.Decision) (civil.Date, civil.Date) {
	start, end := desc.StartDate, desc.EndDate
	if start.IsZero() {
		start = dec.Start
	}
	return start, end
}

// EliminationDossierOf is one dossier of the destroy tier as Add takes it. bytes is the size of its
// data when known (0 otherwise: a dry run renders no data object; the bordereau prints it blank).
func EliminationDossierOf(c *profiles.Class, d *extract.Dossier, desc profiles.Description, dec retention.Decision, bytes int64) EliminationDossier {
	start, end := dates(desc, dec)
	return EliminationDossier{Class: c.Name, Description: c.Description, Rule: dec.Rule, Key: dec.Key,
		Identity: desc.Title, Start: start, End: end, DUAEnd: dec.DUAEnd, Rows: Rows(d), Bytes: bytes, Reason: dec.Explain()}
}

// VersementDossierOf is one archived dossier as the slip's Add takes it: tier is where it went
// (intermediate or final), sip the identifier of the SIP holding it.
func VersementDossierOf(c *profiles.Class, d *extract.Dossier, desc profiles.Description, dec retention.Decision, rule retention.Rule, tier, sip string, bytes int64) VersementDossier {
	start, end := dates(desc, dec)
	acc := Access{ID: dec.AccessID, End: dec.AccessEnd}
	if rule.Access != nil {
		acc.Title = rule.Access.Title
	}
	return VersementDossier{Class: c.Name, Description: c.Description, Tier: tier, Rule: RuleOf(rule), Access: acc,
		Start: start, End: end, Rows: Rows(d), Bytes: bytes, SIP: sip}
}
