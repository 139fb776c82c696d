package seda

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
)

// The manifest's units and objects are written by writePlain, a one-pass copy of what etree's
// indentation and canonical writer do. TestManifestXMLEquivalence writes whole SIPs from varied
// models twice, once as the writer does and once through etree alone (onePass false), and wants:
// the same manifest bytes; both well-formed for encoding/xml (a parser etree does not share), with
// the same canonical form; and the model's values in it, as CleanText and token make them.

// xmlTexts are values for free-text fields: everything that needs escaping or replacing.
var xmlTexts = []string{"", "a", "Dupont & fils <x> \"q\" 'a'", "tab\there\nnl\r\ncr", "é€😀\U0010FFFF",
	"bad\x00\x01\uFFFE\uFFFF", "\xff\xfe", " ", "  lead and trail  ", "]]>", "&amp; already escaped", "x>y", "\r", "\u2028sep", "a\u0085b"}

// xmlTokens are values for NonEmptyToken fields: never empty once whitespace is collapsed.
var xmlTokens = []string{"ID-1", " spaced   token ", "Dupont & <fils>", "é\x00x", "a\tb\nc\r\nd", "]]>", "\"quoted\" 'too'", "\xffbad"}

type modelGen struct {
	r *rand.Rand
	v Version
	// what the manifest must then say, in document order
	titles, ruleIDs []string
}

func (g *modelGen) text() string { return xmlTexts[g.r.IntN(len(xmlTexts))] }
func (g *modelGen) tok() string  { return xmlTokens[g.r.IntN(len(xmlTokens))] }
func (g *modelGen) maybe() bool  { return g.r.IntN(2) == 0 }
func (g *modelGen) optText() string {
	if g.maybe() {
		return ""
	}
	return g.text()
}
func (g *modelGen) optTok() string {
	if g.maybe() {
		return ""
	}
	return g.tok()
}
func (g *modelGen) date() civil.Date {
	if g.maybe() {
		return civil.Date{}
	}
	return civil.Date{Year: 1990 + g.r.IntN(40), Month: time.Month(1 + g.r.IntN(12)), Day: 1 + g.r.IntN(28)}
}
func (g *modelGen) optBool() *bool {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		b := true
		return &b
	}
	b := false
	return &b
}
func (g *modelGen) toks(n int) []string {
	var out []string
	for range g.r.IntN(n + 1) {
		out = append(out, g.tok())
	}
	return out
}

func (g *modelGen) ruleGroup() RuleGroup {
	var rg RuleGroup
	for range g.r.IntN(3) {
		rg.Rules = append(rg.Rules, RuleRef{Rule: g.tok(), StartDate: g.date()})
	}
	switch g.r.IntN(3) {
	case 1:
		rg.PreventInheritance = true
	case 2:
		rg.RefNonRuleID = g.toks(2)
	}
	return rg
}

// management gives every variant by number first (none, each category alone, all of them), then
// random combinations.
func (g *modelGen) management(variant int) Management {
	var m Management
	all := variant == 9 || variant > 9 && g.maybe()
	pick := func(i int) bool { return variant == i || all || variant > 9 && g.maybe() }
	if pick(1) {
		m.Storage = &StorageRule{RuleGroup: g.ruleGroup(), FinalAction: []string{StorageRestrictAccess, StorageTransfer, StorageCopy}[g.r.IntN(3)]}
	}
	if pick(2) {
		m.Appraisal = &AppraisalRule{RuleGroup: g.ruleGroup(), FinalAction: []string{AppraisalKeep, AppraisalDestroy}[g.r.IntN(2)]}
	}
	if pick(3) {
		rg := g.ruleGroup()
		m.Access = &rg
	}
	if pick(4) {
		rg := g.ruleGroup()
		m.Dissemination = &rg
	}
	if pick(5) {
		rg := g.ruleGroup()
		m.Reuse = &rg
	}
	if pick(6) {
		m.Classification = &ClassificationRule{RuleGroup: g.ruleGroup(), Audience: g.optTok(), Level: g.tok(), Owner: g.tok(),
			ReassessingDate: g.date(), NeedReassessingAuthorization: g.optBool()}
	}
	if pick(7) {
		b := g.maybe()
		m.NeedAuthorization = &b
	}
	if pick(8) && g.v.HasHoldRule() {
		for range 1 + g.r.IntN(2) {
			m.Hold = append(m.Hold, HoldRule{Rule: g.tok(), StartDate: g.date(), EndDate: g.date(), Owner: g.optText(),
				ReassessingDate: g.date(), Reason: g.optText(), PreventRearrangement: g.optBool()})
		}
	}
	for _, rg := range []*RuleGroup{ruleGroupOf(m.Storage), ruleGroupOf(m.Appraisal), m.Access, m.Dissemination, m.Reuse, ruleGroupOf(m.Classification)} {
		if rg != nil {
			for _, r := range rg.Rules {
				g.ruleIDs = append(g.ruleIDs, collapse(r.Rule))
			}
		}
	}
	for _, h := range m.Hold {
		g.ruleIDs = append(g.ruleIDs, collapse(h.Rule))
	}
	return m
}

func ruleGroupOf[T interface {
	*StorageRule | *AppraisalRule | *ClassificationRule
}](p T) *RuleGroup {
	switch p := any(p).(type) {
	case *StorageRule:
		if p != nil {
			return &p.RuleGroup
		}
	case *AppraisalRule:
		if p != nil {
			return &p.RuleGroup
		}
	case *ClassificationRule:
		if p != nil {
			return &p.RuleGroup
		}
	}
	return nil
}

func collapse(s string) string {
	v, err := token("test", s)
	if err != nil {
		panic(err)
	}
	return v
}

func (g *modelGen) content(level string) Content {
	c := Content{DescriptionLevel: level, Title: g.tok(),
		FilePlanPosition: g.toks(1), OriginatingSystemID: g.toks(2), ArchivalAgencyArchiveUnitIdentifier: g.toks(1),
		OriginatingAgencyArchiveUnitIdentifier: g.toks(2),
		Description:                            g.optText(), Type: g.optText(), DocumentType: g.optText(), Status: g.optTok(), Tags: g.toks(2),
		OriginatingAgency: g.optTok(), SubmissionAgency: g.optTok(), Source: g.optText(),
		CreatedDate: g.date(), StartDate: g.date(), EndDate: g.date()}
	if g.maybe() {
		c.Language = []string{"fr", "en-GB"}[:1+g.r.IntN(2)]
		c.DescriptionLanguage = "fr"
	}
	for range g.r.IntN(3) {
		k := Keyword{Content: g.text(), Reference: g.optTok()}
		if g.maybe() {
			k.Type = []string{"corpname", "famname", "geogname", "name", "occupation", "persname", "subject", "genreform", "function"}[g.r.IntN(9)]
		}
		c.Keywords = append(c.Keywords, k)
	}
	if g.v != V21 && g.maybe() {
		c.Agents = append(c.Agents, Agent{FirstName: g.text(), BirthName: g.optText(), GivenName: g.optText(), BirthDate: g.date()})
	}
	if !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.EndDate.Before(c.StartDate) {
		c.StartDate, c.EndDate = c.EndDate, c.StartDate
	}
	title, _ := CleanText(c.Title)
	g.titles = append(g.titles, title)
	return c
}

func (g *modelGen) header() Header {
	h := Header{Version: g.v, MessageIdentifier: g.tok(), Date: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC),
		Comment: g.optText(), ArchivalAgreement: g.optTok(), ArchivalAgency: g.tok(), TransferringAgency: g.tok(),
		ArchivalProfile: g.optTok(), OriginatingAgencyIdentifier: g.optTok(), SubmissionAgencyIdentifier: g.optTok(),
		LegalStatus: []string{"", "Public Archive", "Private Archive", "Public and Private Archive"}[g.r.IntN(4)],
		CodeListVersions: CodeListVersions{Reply: g.optTok(), MessageDigestAlgorithm: g.optTok(), MimeType: g.optTok(),
			FileFormat: g.optTok(), AccessRule: g.optTok(), Relationship: g.optTok()},
		DigestAlgorithm: []DigestAlgorithm{SHA256, SHA512}[g.r.IntN(2)]}
	if g.v.HasHoldRule() {
		h.CodeListVersions.HoldRule = g.optTok()
	}
	h.Management = g.management(10)
	return h
}

// writeModel writes one SIP from seed and returns its manifest and what it must say.
func writeModel(t *testing.T, seed uint64, v Version) ([]byte, *modelGen) {
	t.Helper()
	g := &modelGen{r: rand.New(rand.NewPCG(seed, 7)), v: v}
	var zbuf bytes.Buffer
	w, err := NewWriter(&zbuf, g.header(), WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.OpenUnit(Unit{ArchiveUnitProfile: g.optTok(), Management: g.management(int(seed % 12)), Content: g.content("Series")}); err != nil {
		t.Fatal(err)
	}
	depth := 1
	for i := range 4 + g.r.IntN(8) {
		var groups []GroupID
		for range g.r.IntN(3) {
			var grp GroupID
			for k := range 1 + g.r.IntN(3) {
				o := Object{Group: grp, Version: fmt.Sprintf("BinaryMaster_%d", k+1), Name: fmt.Sprintf("o-%d-%d-%d.bin", i, len(groups), k),
					MimeType: []string{"", "application/json", "image/jpeg"}[g.r.IntN(3)], FormatID: g.optTok(),
					FormatLitteral: g.optText(), Encoding: g.optTok(), Filename: g.optText()}
				if g.maybe() {
					o.LastModified = time.Date(2020, 2, 29, 23, 59, 59, g.r.IntN(1e9), time.FixedZone("x", 3600*g.r.IntN(3)))
				}
				ow, err := w.AddObject(o, strings.NewReader(strings.Repeat("x", g.r.IntN(3)*100))) // some empty: no Size
				if err != nil {
					t.Fatal(err)
				}
				grp = ow.Group()
			}
			groups = append(groups, grp)
		}
		u := Unit{ArchiveUnitProfile: g.optTok(), Management: g.management(i), Groups: groups}
		switch {
		case g.r.IntN(3) == 0 && depth < 4:
			u.Content = g.content("RecordGrp")
			if _, err := w.OpenUnit(u); err != nil {
				t.Fatal(err)
			}
			depth++
		case g.r.IntN(3) == 0 && depth > 1:
			if err := w.CloseUnit(); err != nil {
				t.Fatal(err)
			}
			depth--
			fallthrough
		default:
			u.Content = g.content("File")
			if _, err := w.AddUnit(u); err != nil {
				t.Fatal(err)
			}
		}
	}
	for ; depth > 0; depth-- {
		if err := w.CloseUnit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, g
}

// xnode is a parsed element, for the canonical form and the value checks.
type xnode struct {
	name  string
	attrs []string
	text  strings.Builder
	kids  []*xnode
}

// parseCanonical reads doc with encoding/xml (strict) into a tree.
func parseCanonical(doc []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	root := &xnode{}
	stack := []*xnode{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name.Space + " " + t.Name.Local}
			for _, a := range t.Attr {
				n.attrs = append(n.attrs, a.Name.Space+" "+a.Name.Local+"="+a.Value)
			}
			slices.Sort(n.attrs)
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text.Write(t)
		}
	}
}

// canonical writes the tree with its attributes sorted and, where an element has element children,
// its whitespace-only text (the indentation) dropped; leaf text is kept exactly.
func (n *xnode) canonical(b *strings.Builder) {
	fmt.Fprintf(b, "(%s %q", n.name, n.attrs)
	if len(n.kids) == 0 || strings.TrimSpace(n.text.String()) != "" {
		fmt.Fprintf(b, " %q", n.text.String())
	}
	for _, k := range n.kids {
		k.canonical(b)
	}
	b.WriteString(")")
}

// texts collects the text of every element whose local name is local, in document order.
func (n *xnode) texts(local string, out *[]string) {
	if strings.HasSuffix(n.name, " "+local) {
		*out = append(*out, n.text.String())
	}
	for _, k := range n.kids {
		k.texts(local, out)
	}
}

func TestManifestXMLEquivalence(t *testing.T) {
	defer func() { onePass = true }()
	for seed := range uint64(60) {
		v := []Version{V21, V22, V23}[seed%3]
		onePass = true
		plain, g := writeModel(t, seed, v)
		onePass = false
		viaEtree, _ := writeModel(t, seed, v)
		onePass = true
		if !bytes.Equal(plain, viaEtree) {
			i := 0
			for i < min(len(plain), len(viaEtree)) && plain[i] == viaEtree[i] {
				i++
			}
			lo := max(i-120, 0)
			t.Fatalf("seed %d (%s): manifests differ at byte %d:\n one-pass …%q…\n etree    …%q…", seed, v, i,
				plain[lo:min(i+80, len(plain))], viaEtree[lo:min(i+80, len(viaEtree))])
		}
		tp, err := parseCanonical(plain)
		if err != nil {
			t.Fatalf("seed %d: the writer's manifest is not well-formed for encoding/xml: %v", seed, err)
		}
		te, err := parseCanonical(viaEtree)
		if err != nil {
			t.Fatalf("seed %d: etree's manifest is not well-formed for encoding/xml: %v", seed, err)
		}
		var cp, ce strings.Builder
		tp.canonical(&cp)
		te.canonical(&ce)
		if cp.String() != ce.String() {
			t.Fatalf("seed %d: canonical forms differ:\n%s\n%s", seed, cp.String(), ce.String())
		}
		var titles, rules []string
		tp.texts("Title", &titles)
		tp.texts("Rule", &rules)
		// XML parsers report CR LF and CR as LF; CleanText already did so, and &#xD; is never needed.
		if !slices.Equal(titles, g.titles) {
			t.Fatalf("seed %d: Titles %q, want %q", seed, titles, g.titles)
		}
		// The header's Management rules come last in the document, the units' first.
		if !sameMultiset(rules, g.ruleIDs) {
			t.Fatalf("seed %d: Rules %q, want %q", seed, rules, g.ruleIDs)
		}
	}
}

func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// SEDA 2.1 has no Agent: writing one there would give a manifest its XSD refuses.
func TestAgentNeedsSEDA22(t *testing.T) {
	c := Content{DescriptionLevel: "File", Title: "t", Agents: []Agent{{FirstName: "Hervé", BirthDate: civil.Date{Year: 2000, Month: 1, Day: 16}}}}
	if _, err := c.element(V21); err == nil || err.Error() != "seda: Agent needs SEDA 2.2 or later (the message is SEDA 2.1)" {
		t.Errorf("2.1: err = %v", err)
	}
	e, err := c.element(V22)
	if err != nil {
		t.Fatal(err)
	}
	if a := e.FindElement("Agent"); a == nil || a.FindElement("FirstName").Text() != "Hervé" || a.FindElement("BirthDate").Text() != "2000-01-16" {
		t.Errorf("2.2: no Agent with the first name and birth date")
	}
	c.Agents[0].BirthDate = civil.Date{Year: 2001, Month: 2, Day: 29}
	if _, err := c.element(V22); err == nil || !strings.Contains(err.Error(), "Agent BirthDate") {
		t.Errorf("impossible birth date: err = %v", err)
	}
}
