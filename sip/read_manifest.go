package sip

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/ianaindex"

	"github.com/versement/versement/seda"
)

// Unit is an ArchiveUnit as the manifest describes it: what a consultation shows and an index
// records. Texts are as written, whitespace trimmed; dates are as written (xsd:date or dateTime).
type Unit struct {
	ID       string
	ParentID string // the unit it is nested in; "" at the top
	// RefID is set on a unit that only points to another one (ArchiveUnitRefId): it has nothing
	// else.
	RefID                           string
	DescriptionLevel                string
	Title                           string // the first Title
	Description                     string // the first Description
	OriginatingSystemIDs            []string
	OriginatingAgencyArchiveUnitIDs []NamedID
	Keywords                        []Keyword
	Agents                          []Agent
	StartDate, EndDate              string
	Management                      UnitRules
	Objects                         []Object // the BinaryDataObjects of the groups and objects it references
}

// NamedID is an identifier written "NAME:value" (OriginatingAgencyArchiveUnitIdentifier
// "COD_ETU:20000001"); one without ':' has only a Value.
type NamedID struct{ Name, Value string }

// Keyword is a Keyword of a unit's Content.
type Keyword struct{ Content, Reference, Type string }

// Agent is a person a unit's Content names (SEDA 2.2+ Agent).
type Agent struct{ FirstName, BirthName, FullName, GivenName, BirthDate string }

// UnitRules are the rules of a unit's Management the consultation needs; others are not read.
type UnitRules struct {
	Appraisal *AppraisalRule
	Access    *AccessRule
}

// AppraisalRule is the DUA: its first rule, and what happens at its end.
type AppraisalRule struct{ Rule, StartDate, FinalAction string }

// AccessRule is the access restriction: its first rule.
type AccessRule struct{ Rule, StartDate string }

// Object is a BinaryDataObject.
type Object struct {
	ID, Group, Version, URI string
	Algorithm, Digest       string // MessageDigest@algorithm and its value as written
	Size                    int64  // -1: not declared
	MIME, FormatID          string
	Filename                string
}

// scanner is one pass over the manifest. Objects are kept by group (the DataObjectPackage holds
// them before the units), units only while they are open: one per level of nesting.
type scanner struct {
	head    *TransferHeader
	fn      func(Unit) error
	stack   []string // local names of the open elements ("" outside the SEDA namespace)
	text    strings.Builder
	ns      string
	groups  map[string][]Object
	byID    map[string]Object // objects by id, for DataObjectReferenceId
	obj     *Object           // the BinaryDataObject being read
	groupID string            // the DataObjectGroup being read
	units   []*openUnit
	fnErr   error // what fn returned, handed back as it is
}

type openUnit struct {
	u        Unit
	depth    int // len(stack) with the ArchiveUnit on it
	groupRef []string
	objRef   []string
	kw       Keyword
	agent    Agent
}

// scan reads the manifest once, filling head (if not nil) and calling fn (if not nil) per unit.
func (r *Reader) scan(ctx context.Context, head *TransferHeader, fn func(Unit) error) error {
	rc, err := r.manifest.Open()
	if err != nil {
		return fmt.Errorf("SIP: open %s: %w", r.manifest.Name, err)
	}
	defer rc.Close()
	s := &scanner{head: head, fn: fn}
	if fn != nil {
		s.groups, s.byID = map[string][]Object{}, map[string]Object{}
	}
	lr := &io.LimitedReader{R: rc, N: MaxManifestBytes + 1}
	err = s.run(ctx, lr)
	if lr.N <= 0 {
		return fmt.Errorf("SIP: manifest is larger than the limit of %d bytes", MaxManifestBytes)
	}
	if err != nil && err != s.fnErr && !errors.Is(err, ctx.Err()) {
		name := r.name()
		if head != nil && head.MessageIdentifier != "" { // read before the fault
			name = "SIP " + truncateText(head.MessageIdentifier, 100)
		}
		return fmt.Errorf("%s: %s: %w", name, r.manifest.Name, err)
	}
	return err
}

// parseManifest is one pass over manifest bytes, without a zip: what the fuzzer drives.
func parseManifest(ctx context.Context, rd io.Reader, head *TransferHeader, fn func(Unit) error) error {
	s := &scanner{head: head, fn: fn, groups: map[string][]Object{}, byID: map[string]Object{}}
	return s.run(ctx, rd)
}

func (s *scanner) run(ctx context.Context, rd io.Reader) error {
	// encoding/xml hands out a text node whole: the cap keeps a hostile one from costing its size.
	d := xml.NewDecoder(seda.CapText(rd, maxText))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		enc, err := ianaindex.IANA.Encoding(label)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("encoding %q is not one versement can read", truncateText(label, 40))
		}
		return enc.NewDecoder().Reader(in), nil
	}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			if len(s.stack) > 0 || s.ns == "" {
				return errors.New("manifest ends before its root element does")
			}
			return nil
		}
		var syntax *xml.SyntaxError
		switch {
		case errors.As(err, &syntax):
			return fmt.Errorf("not well-formed XML: %w", err)
		case err != nil:
			return err // the zip's or the target's: a read error, not the manifest's
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("manifest has a <!…> declaration: DOCTYPEs and entities are refused")
		case xml.StartElement:
			if err := s.start(t); err != nil {
				return err
			}
		case xml.CharData:
			if s.text.Len()+len(t) <= maxText {
				s.text.Write(t)
			}
		case xml.EndElement:
			if err := s.end(); err != nil {
				return err
			}
		}
	}
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

func (s *scanner) start(t xml.StartElement) error {
	if len(s.stack) >= maxDepth {
		return fmt.Errorf("elements nested more than %d deep: refused", maxDepth)
	}
	s.text.Reset()
	if len(s.stack) == 0 {
		if t.Name.Local != "ArchiveTransfer" {
			return fmt.Errorf("root element is <%s>, not <ArchiveTransfer>: not a SEDA SIP", truncateText(t.Name.Local, 40))
		}
		s.ns = t.Name.Space
		v := seda.Version(strings.TrimPrefix(s.ns, "fr:gouv:culture:archivesdefrance:seda:v"))
		if v.Namespace() != s.ns || (v != seda.V21 && v != seda.V22 && v != seda.V23) {
			return fmt.Errorf("root namespace %q is not SEDA 2.1, 2.2 or 2.3", truncateText(s.ns, 80))
		}
		if s.head != nil {
			s.head.Version = v
		}
	}
	name := ""
	if t.Name.Space == s.ns {
		name = t.Name.Local
	}
	s.stack = append(s.stack, name)
	if s.fn == nil {
		return nil
	}
	switch name {
	case "ArchiveUnit":
		ou := &openUnit{depth: len(s.stack)}
		ou.u.ID = attr(t, "id")
		if len(s.units) > 0 {
			ou.u.ParentID = s.units[len(s.units)-1].u.ID
		}
		s.units = append(s.units, ou)
	case "BinaryDataObject":
		o := Object{ID: attr(t, "id"), Size: -1}
		if len(s.stack) >= 2 && s.stack[len(s.stack)-2] == "DataObjectGroup" {
			o.Group = s.groupID
		}
		s.obj = &o
	case "DataObjectGroup":
		s.groupID = attr(t, "id")
	case "MessageDigest":
		if s.obj != nil {
			s.obj.Algorithm = attr(t, "algorithm")
		}
	}
	return nil
}

// path is the names of the open elements from depth base on, joined with '/'.
func (s *scanner) path(base int) string { return strings.Join(s.stack[base:], "/") }

func (s *scanner) end() error {
	text := strings.TrimSpace(s.text.String())
	s.text.Reset()
	depth := len(s.stack)
	defer func() { s.stack = s.stack[:depth-1] }()
	if s.head != nil && depth <= 3 {
		switch s.path(0) {
		case "ArchiveTransfer/Date":
			s.head.Date = text
		case "ArchiveTransfer/MessageIdentifier":
			s.head.MessageIdentifier = text
		case "ArchiveTransfer/Comment":
			if s.head.Comment == "" {
				s.head.Comment = text
			}
		case "ArchiveTransfer/ArchivalAgreement":
			s.head.ArchivalAgreement = text
		case "ArchiveTransfer/ArchivalAgency/Identifier":
			s.head.ArchivalAgency = text
		case "ArchiveTransfer/TransferringAgency/Identifier":
			s.head.TransferringAgency = text
		}
	}
	if s.fn == nil {
		return nil
	}
	if s.obj != nil && len(s.units) == 0 {
		return s.endObject(text, depth)
	}
	if len(s.units) == 0 {
		return nil
	}
	ou := s.units[len(s.units)-1]
	if depth == ou.depth {
		return s.endUnit(ou)
	}
	return ou.field(s.path(ou.depth), text)
}

// endObject reads a BinaryDataObject's fields; the object is kept at its end tag.
func (s *scanner) endObject(text string, depth int) error {
	o := s.obj
	// The object's element is the deepest BinaryDataObject open.
	base := depth
	for base > 0 && s.stack[base-1] != "BinaryDataObject" {
		base--
	}
	switch s.path(base) {
	case "":
		s.obj = nil
		if o.Group == "" {
			o.Group = o.ID // an object in no group is its own
		}
		if len(s.groups[o.Group]) >= maxPerUnit {
			return fmt.Errorf("group %s has more than %d objects: refused", truncateText(o.Group, 80), maxPerUnit)
		}
		s.groups[o.Group] = append(s.groups[o.Group], *o)
		s.byID[o.ID] = *o
	case "DataObjectGroupId", "DataObjectGroupReferenceId": // the flat form (SEDA 2.1 without DataObjectGroup)
		o.Group = text
	case "DataObjectVersion":
		o.Version = text
	case "Uri":
		o.URI = text
	case "MessageDigest":
		o.Digest = text
	case "Size":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("object %s: Size %q is not a non-negative integer", truncateText(o.ID, 80), truncateText(text, 40))
		}
		o.Size = n
	case "FormatIdentification/MimeType":
		o.MIME = text
	case "FormatIdentification/FormatId":
		o.FormatID = text
	case "FileInfo/Filename":
		o.Filename = text
	}
	return nil
}

// endUnit resolves a unit's references to the objects read before it and hands it over.
func (s *scanner) endUnit(ou *openUnit) error {
	s.units = s.units[:len(s.units)-1]
	for _, g := range ou.groupRef {
		ou.u.Objects = append(ou.u.Objects, s.groups[g]...)
	}
	for _, id := range ou.objRef {
		if o, ok := s.byID[id]; ok {
			ou.u.Objects = append(ou.u.Objects, o)
		}
	}
	if len(ou.u.Objects) > maxPerUnit {
		return fmt.Errorf("unit %s references more than %d objects: refused", truncateText(ou.u.ID, 80), maxPerUnit)
	}
	if err := s.fn(ou.u); err != nil {
		s.fnErr = err
		return err
	}
	return nil
}

// field takes one element of a unit, at path below the unit.
func (ou *openUnit) field(path, text string) error {
	u := &ou.u
	n := 0
	switch path {
	case "ArchiveUnitRefId":
		u.RefID = text
	case "Content/DescriptionLevel":
		u.DescriptionLevel = text
	case "Content/Title":
		if u.Title == "" {
			u.Title = text
		}
	case "Content/Description":
		if u.Description == "" {
			u.Description = text
		}
	case "Content/OriginatingSystemId":
		u.OriginatingSystemIDs = append(u.OriginatingSystemIDs, text)
		n = len(u.OriginatingSystemIDs)
	case "Content/OriginatingAgencyArchiveUnitIdentifier":
		id := NamedID{Value: text}
		if name, value, ok := strings.Cut(text, ":"); ok {
			id = NamedID{Name: name, Value: value}
		}
		u.OriginatingAgencyArchiveUnitIDs = append(u.OriginatingAgencyArchiveUnitIDs, id)
		n = len(u.OriginatingAgencyArchiveUnitIDs)
	case "Content/StartDate":
		u.StartDate = text
	case "Content/EndDate":
		u.EndDate = text
	case "Content/Keyword/KeywordContent":
		ou.kw.Content = text
	case "Content/Keyword/KeywordReference":
		ou.kw.Reference = text
	case "Content/Keyword/KeywordType":
		ou.kw.Type = text
	case "Content/Keyword":
		u.Keywords, ou.kw = append(u.Keywords, ou.kw), Keyword{}
		n = len(u.Keywords)
	case "Content/Agent/FirstName":
		ou.agent.FirstName = text
	case "Content/Agent/BirthName":
		ou.agent.BirthName = text
	case "Content/Agent/FullName":
		ou.agent.FullName = text
	case "Content/Agent/GivenName":
		ou.agent.GivenName = text
	case "Content/Agent/BirthDate":
		ou.agent.BirthDate = text
	case "Content/Agent":
		u.Agents, ou.agent = append(u.Agents, ou.agent), Agent{}
		n = len(u.Agents)
	case "Management/AppraisalRule/Rule", "Management/AppraisalRule/StartDate", "Management/AppraisalRule/FinalAction":
		if u.Management.Appraisal == nil {
			u.Management.Appraisal = &AppraisalRule{}
		}
		a := u.Management.Appraisal
		if strings.HasSuffix(path, "/FinalAction") {
			a.FinalAction = text
		}
		firstRule(path, text, &a.Rule, &a.StartDate)
	case "Management/AccessRule/Rule", "Management/AccessRule/StartDate":
		if u.Management.Access == nil {
			u.Management.Access = &AccessRule{}
		}
		firstRule(path, text, &u.Management.Access.Rule, &u.Management.Access.StartDate)
	case "DataObjectReference/DataObjectGroupReferenceId":
		ou.groupRef = append(ou.groupRef, text)
		n = len(ou.groupRef)
	case "DataObjectReference/DataObjectReferenceId":
		ou.objRef = append(ou.objRef, text)
		n = len(ou.objRef)
	}
	if n > maxPerUnit {
		return fmt.Errorf("unit %s has more than %d %s: refused", truncateText(u.ID, 80), maxPerUnit, path)
	}
	return nil
}

// firstRule keeps a category's first Rule and first StartDate: a category may list several.
func firstRule(path, text string, rule, start *string) {
	switch {
	case strings.HasSuffix(path, "/Rule") && *rule == "":
		*rule = text
	case strings.HasSuffix(path, "/StartDate") && *start == "":
		*start = text
	}
}
