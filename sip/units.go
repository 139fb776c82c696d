package sip

import (
	"strings"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/seda"
)

// What the Builder writes of a dossier's unit, as Reader.Units reads it back: the same texts
// (cleaned as the writer cleans them, trimmed and capped as the reader keeps them), the same
// identifiers, agents, rules and objects. A run indexes its SIPs from these instead of parsing
// every manifest it has just written; TestBuilderUnitsAreWhatTheReaderReads holds the two equal.

// objectOf is the Object the reader gives for an object the writer just closed.
func (b *Builder) objectOf(ow *seda.ObjectWriter, mime string) Object {
	return Object{ID: ow.ID(), Group: string(ow.Group()), URI: ow.Path(), Algorithm: b.algo, Digest: ow.Digest(), Size: ow.Size(), MIME: mime}
}

// written is a text as the manifest holds it and the reader keeps it.
func written(s string) string {
	s, _ = seda.CleanText(s)
	return truncateText(strings.TrimSpace(s), maxText)
}

func dateText(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// writtenUnit is the Unit the reader makes of u, written under parent with id and objs.
func writtenUnit(id, parent string, u seda.Unit, objs []Object) Unit {
	c := u.Content
	out := Unit{ID: id, ParentID: parent, DescriptionLevel: c.DescriptionLevel, Title: written(c.Title), Description: written(c.Description),
		StartDate: dateText(c.StartDate), EndDate: dateText(c.EndDate)}
	for _, k := range c.OriginatingSystemID {
		out.OriginatingSystemIDs = append(out.OriginatingSystemIDs, written(k))
	}
	for _, id := range c.OriginatingAgencyArchiveUnitIdentifier {
		out.OriginatingAgencyArchiveUnitIDs = append(out.OriginatingAgencyArchiveUnitIDs, namedID(written(id)))
	}
	for _, k := range c.Keywords {
		out.Keywords = append(out.Keywords, Keyword{Content: written(k.Content), Type: written(k.Type)})
	}
	for _, a := range c.Agents {
		out.Agents = append(out.Agents, Agent{FirstName: written(a.FirstName), BirthName: written(a.BirthName), GivenName: written(a.GivenName),
			BirthDate: dateText(a.BirthDate)})
	}
	m := u.Management
	if a := m.Appraisal; a != nil && len(a.Rules) > 0 {
		out.Management.Appraisal = &AppraisalRule{Rule: a.Rules[0].Rule, StartDate: dateText(a.Rules[0].StartDate), FinalAction: string(a.FinalAction)}
	}
	if a := m.Access; a != nil && len(a.Rules) > 0 {
		out.Management.Access = &AccessRule{Rule: a.Rules[0].Rule, StartDate: dateText(a.Rules[0].StartDate)}
	}
	out.Objects = append([]Object(nil), objs...)
	return out
}

// namedID splits "NAME:value" as the reader does.
func namedID(text string) NamedID {
	if name, value, ok := strings.Cut(text, ":"); ok {
		return NamedID{Name: name, Value: value}
	}
	return NamedID{Value: text}
}

// maxUnitsBytes bounds what a Builder keeps of its units: 1,000 demo dossiers take about 1 MiB,
// a profile's default SIP.
const maxUnitsBytes = 16 << 20

// unitSize is about the memory a unit holds.
func unitSize(u Unit) int {
	n := 256 + len(u.ID) + len(u.ParentID) + len(u.Title) + len(u.Description) + len(u.StartDate) + len(u.EndDate)
	for _, s := range u.OriginatingSystemIDs {
		n += 16 + len(s)
	}
	for _, id := range u.OriginatingAgencyArchiveUnitIDs {
		n += 32 + len(id.Name) + len(id.Value)
	}
	for _, k := range u.Keywords {
		n += 48 + len(k.Content) + len(k.Reference) + len(k.Type)
	}
	for _, a := range u.Agents {
		n += 80 + len(a.FirstName) + len(a.BirthName) + len(a.FullName) + len(a.GivenName) + len(a.BirthDate)
	}
	for _, o := range u.Objects {
		n += 160 + len(o.ID) + len(o.Group) + len(o.Version) + len(o.URI) + len(o.Algorithm) + len(o.Digest) + len(o.MIME) + len(o.FormatID) + len(o.Filename)
	}
	return n
}
