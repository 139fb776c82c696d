package sip

import (
	"time"

	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

// Header is the ArchiveTransfer header of a SIP of profile p. messageID is the SIP's ID, which
// names its content, so that a rerun recognises its own SIPs.
func Header(p *profiles.Profile, messageID string, date time.Time) seda.Header {
	return seda.Header{
		Version:                     seda.Version(p.SEDA.Version),
		MessageIdentifier:           messageID,
		Date:                        date,
		ArchivalAgreement:           p.SEDA.ArchivalAgreement,
		ArchivalAgency:              p.SEDA.ArchivalAgency.Identifier,
		TransferringAgency:          p.SEDA.TransferringAgency.Identifier,
		ArchivalProfile:             p.SEDA.ArchivalProfile,
		LegalStatus:                 p.SEDA.LegalStatus,
		OriginatingAgencyIdentifier: p.SEDA.OriginatingAgency,
		SubmissionAgencyIdentifier:  p.SEDA.SubmissionAgency,
		DigestAlgorithm:             seda.DigestAlgorithm(p.DigestAlgorithm()),
	}
}

// Content is the Content of a dossier's ArchiveUnit (DescriptionLevel File): the rendered title,
// description, keywords and dates, the dossier's key as OriginatingSystemId, its searchable
// identifiers as OriginatingAgencyArchiveUnitIdentifier "NAME:value" and, from SEDA 2.2 on, its
// person as an Agent (SEDA 2.1 has no Agent: the person's names stay in the keywords only). These
// are what ReadUnit gives back and what the consultation index is rebuilt from.
func Content(p *profiles.Profile, key string, d profiles.Description) seda.Content {
	c := seda.Content{
		DescriptionLevel:    "File",
		Title:               d.Title,
		Description:         d.Description,
		OriginatingSystemID: []string{key},
		StartDate:           d.StartDate,
		EndDate:             d.EndDate,
		OriginatingAgency:   p.SEDA.OriginatingAgency,
		SubmissionAgency:    p.SEDA.SubmissionAgency,
	}
	for _, k := range d.Keywords {
		c.Keywords = append(c.Keywords, seda.Keyword{Content: k.Content, Type: k.Type})
	}
	for _, id := range d.Identifiers {
		c.OriginatingAgencyArchiveUnitIdentifier = append(c.OriginatingAgencyArchiveUnitIdentifier, id.Name+":"+id.Value)
	}
	a := seda.Agent{FirstName: d.Person.FirstName, BirthName: d.Person.BirthName, GivenName: d.Person.UsageName, BirthDate: d.Person.BirthDate}
	if !a.IsZero() && seda.Version(p.SEDA.Version) != seda.V21 {
		c.Agents = []seda.Agent{a}
	}
	return c
}

// Series is the Content of the root unit a SIP's dossiers sit under (DescriptionLevel Series): the
// class, named by its description, with the tier in the title so that the intermediate and final
// SIPs of one class read apart.
func Series(p *profiles.Profile, c *profiles.Class, tier retention.Tier) seda.Content {
	title := c.Description
	if title == "" {
		title = c.Name
	}
	if tier != "" {
		title += " (" + string(tier) + ")"
	}
	desc := p.Description
	if desc != "" {
		desc += " — "
	}
	desc += "classe " + c.Name + ", règle " + c.Rule
	return seda.Content{
		DescriptionLevel:  "Series",
		Title:             title,
		Description:       desc,
		OriginatingAgency: p.SEDA.OriginatingAgency,
		SubmissionAgency:  p.SEDA.SubmissionAgency,
	}
}
