package bordereau

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func date(y int, m time.Month, d int) civil.Date { return civil.Date{Year: y, Month: m, Day: d} }

// demoHeader is a proposal of the Apogée demo with an extended schedule that samples.
func demoHeader() Header {
	return Header{
		Profile:       "apogee-demo",
		Establishment: "Université de Démo",
		Date:          date(2026, time.March, 31),
		Originating:   Agency{ID: "FR-UDEMO-SCOL", Name: "Direction des études et de la scolarité"},
		Transferring:  Agency{ID: "FR-UDEMO-DSI", Name: "Direction du numérique"},
		Archival:      Agency{ID: "FR-UDEMO-ARCH", Name: "Service des archives"},
		Rules: []Rule{
			{ID: "APP-APO-ETU", Title: "Dossier de l'étudiant (Apogée)", DUA: "7y", FinalAction: "sample",
				Basis: "Arrêté du 26 janvier 1995 (NOR RESM9500104A), art. 4", Status: "to-confirm"},
			{ID: "APP-APO-COPIES", Title: "Copies d'examen", DUA: "1y", FinalAction: "destroy",
				Basis: "Université de Bordeaux, UF informatique (pratique locale)", Status: "to-confirm"},
			{ID: "APP-APO-UNUSED", Title: "Not proposed", DUA: "10y", FinalAction: "destroy", Status: "verified"},
		},
	}
}

// demoDossiers are proposed dossiers over three lots of students and one of exam copies,
// including text that must not run as a formula in a spreadsheet nor as markup in a page.
func demoDossiers() []EliminationDossier {
	var ds []EliminationDossier
	student := func(key, who string, start civil.Date, dua civil.Date) EliminationDossier {
		return EliminationDossier{Class: "etudiants", Description: "Dossiers administratifs des étudiants", Rule: "APP-APO-ETU",
			Key: key, Identity: who, Start: start, End: start.AddYears(3), DUAEnd: dua, Rows: 12, Bytes: 2048,
			Reason: "DUA ended " + dua.String() + "; not selected by the sampling (letters B, T)"}
	}
	ds = append(ds,
		student("E0001", "DUPONT Marie", date(2010, time.September, 1), date(2023, time.August, 31)),
		student("E0002", "=HYPERLINK(\"http://evil\")", date(2011, time.September, 1), date(2023, time.September, 30)),
		student("E0003", "<script>alert(1)</script> Léa", date(2012, time.October, 2), date(2024, time.August, 31)),
		student("E0004", "MARTIN Éloïse", date(2009, time.September, 1), date(2024, time.June, 30)),
		student("E0005", "N'GUYEN Kim", date(2013, time.September, 1), date(2025, time.August, 31)),
	)
	for i := range 3 {
		ds = append(ds, EliminationDossier{Class: "copies", Description: "Copies d'examen", Rule: "APP-APO-COPIES",
			Key: fmt.Sprintf("C%04d", i+1), Identity: fmt.Sprintf("Session 2023, épreuve %d", i+1),
			Start: date(2023, time.June, 20+i), DUAEnd: date(2024, time.June, 20+i), Rows: 1, Bytes: 100_000,
			Reason: "DUA ended; final action destroy"})
	}
	return ds
}

func build(t testing.TB, h Header, ds []EliminationDossier) *Elimination {
	t.Helper()
	b, err := NewEliminationBuilder(h, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	e, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func demoVersement(t testing.TB) *Versement {
	t.Helper()
	b := NewVersementBuilder(VersementHeader{
		RunID: "RUN-20260331-0001", Date: date(2026, time.March, 31), Profile: "apogee-demo",
		Establishment: "Université de Démo",
		Originating:   Agency{ID: "FR-UDEMO-SCOL", Name: "Direction des études et de la scolarité"},
		Transferring:  Agency{ID: "FR-UDEMO-DSI", Name: "Direction du numérique"},
		Archival:      Agency{ID: "FR-UDEMO-ARCH", Name: "Service des archives"},
		Agreement:     "IC-UDEMO-APOGEE",
	})
	etu := Rule{ID: "APP-APO-ETU", Title: "Dossier de l'étudiant", DUA: "7y", FinalAction: "sample", Basis: "Arrêté du 26 janvier 1995, art. 4", Status: "to-confirm"}
	acc := Access{ID: "ACC-PERS-50", Title: "Vie privée : 50 ans (L213-2 I 3°)"}
	for i := range 4 {
		tier, sip := "intermediate", "SIP-RUN-20260331-0001-001"
		if i == 3 {
			tier, sip = "final", "SIP-RUN-20260331-0001-002"
		}
		a := acc
		a.End = date(2064+i, time.August, 31)
		if err := b.Add(VersementDossier{Class: "etudiants", Description: "Dossiers administratifs des étudiants", Tier: tier,
			Rule: etu, Access: a, Start: date(2014+i, time.September, 1), End: date(2017+i, time.August, 31), Rows: 10, Bytes: 4096, SIP: sip}); err != nil {
			t.Fatal(err)
		}
	}
	b.AddSIP(SIP{ID: "SIP-RUN-20260331-0001-001", File: "apogee-demo-intermediate-001.zip", SHA256: strings.Repeat("ab", 32), Bytes: 123456, Dossiers: 3, Target: "dir:///srv/versement/out"})
	b.AddSIP(SIP{ID: "SIP-RUN-20260331-0001-002", File: "apogee-demo-final-001.zip", SHA256: strings.Repeat("cd", 32), Bytes: 45678, Dossiers: 1, Target: "vitam://recette"})
	// The transfer and the ATR are known after: the same SIP is recorded again.
	b.AddSIP(SIP{ID: "SIP-RUN-20260331-0001-002", File: "apogee-demo-final-001.zip", SHA256: strings.Repeat("cd", 32), Bytes: 45678, Dossiers: 1, Target: "vitam://recette", Operation: "aeeaaaaaacgxxyz", ATR: "OK"})
	v, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./bordereau -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(go test ./bordereau -update rewrites it)", p, i+1, g, w)
			}
		}
	}
}

type render struct {
	ext string
	f   func(*bytes.Buffer, Document, language.Tag) error
}

var renders = []render{
	{"html", func(b *bytes.Buffer, d Document, tag language.Tag) error { return WriteHTML(b, d, tag) }},
	{"csv", func(b *bytes.Buffer, d Document, tag language.Tag) error { return WriteCSV(b, d, tag) }},
}

// TestGolden fixes every output of the three documents, in French and English: a change of a
// label, a date format, an id or an escape shows here.
func TestGolden(t *testing.T) {
	elim := build(t, demoHeader(), demoDossiers())
	emptyH := demoHeader()
	emptyH.EmptyReason = ReasonNoSamplingCriteria
	empty := build(t, emptyH, nil)
	vers := demoVersement(t)
	docs := []struct {
		name string
		doc  Document
	}{{"elimination", elim}, {"elimination-empty", empty}, {"versement", vers}}
	for _, d := range docs {
		for _, tag := range []language.Tag{lang.French, lang.English} {
			for _, r := range renders {
				var b bytes.Buffer
				if err := r.f(&b, d.doc, tag); err != nil {
					t.Fatal(err)
				}
				golden(t, fmt.Sprintf("%s.%s.%s", d.name, tag, r.ext), b.Bytes())
			}
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, d.doc); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b.Bytes()) {
			t.Errorf("%s: JSON is not valid:\n%s", d.name, b.Bytes())
		}
		golden(t, d.name+".json", b.Bytes())
	}
	for _, tag := range []language.Tag{lang.French, lang.English} {
		var b bytes.Buffer
		if err := WriteAnnexCSV(&b, elim, tag); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("elimination-annex.%s.csv", tag), b.Bytes())
	}
}

// readCSV checks the file is what a French spreadsheet opens: BOM, ';', CRLF; and returns its rows.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no UTF-8 BOM: %q", b[:min(20, len(b))])
	}
	body := b[3:]
	if bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		t.Error("a line ends without CRLF")
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not ;-separated CSV: %v", err)
	}
	return rows
}

// lotRows are the rows under a table's header (first cell head) that have as many cells as it
// (encoding/csv skips the blank line that ends the table).
func lotRows(t *testing.T, rows [][]string, head string) (header []string, lots [][]string) {
	t.Helper()
	for i, r := range rows {
		if r[0] != head {
			continue
		}
		for _, l := range rows[i+1:] {
			if len(l) != len(r) {
				break
			}
			lots = append(lots, l)
		}
		return r, lots
	}
	t.Fatalf("no lots header %q in %q", head, rows)
	return nil, nil
}

// TestCSVForSpreadsheets proves the CSV opens as ;-separated UTF-8 with a BOM, that the lots carry
// unique ids, the visa columns and French dates, and that no cell starts a formula.
func TestCSVForSpreadsheets(t *testing.T) {
	e := build(t, demoHeader(), demoDossiers())
	var b bytes.Buffer
	if err := WriteCSV(&b, e, lang.French); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	if rows[0][0] != "Bordereau d'élimination" {
		t.Errorf("first cell %q", rows[0][0])
	}
	head, lots := lotRows(t, rows, "Id ligne")
	for _, c := range []string{"Dates extrêmes (début)", "Dates extrêmes (fin)", "Sort final", "Décision", "Référence du visa", "Date du visa", "Signataire"} {
		if !slices.Contains(head, c) {
			t.Errorf("lots header %q lacks %q", head, c)
		}
	}
	if len(lots) != len(e.Lots) || len(lots) != 4 {
		t.Fatalf("%d lot rows, %d lots, want 4", len(lots), len(e.Lots))
	}
	seen := map[string]bool{}
	for i, l := range lots {
		if l[0] != e.Lots[i].ID || seen[l[0]] || !strings.HasPrefix(l[0], e.ID+"/L") {
			t.Errorf("lot row %d id %q (want %q, unique, under %s)", i, l[0], e.Lots[i].ID, e.ID)
		}
		seen[l[0]] = true
		if !strings.Contains(l[3], "/") {
			t.Errorf("lot %s start %q is not DD/MM/YYYY", l[0], l[3])
		}
	}
	if got := lots[1][3]; got != "01/09/2010" {
		t.Errorf("start of the first students' lot = %q, want 01/09/2010", got)
	}
	var annex bytes.Buffer
	if err := WriteAnnexCSV(&annex, e, lang.French); err != nil {
		t.Fatal(err)
	}
	arows := readCSV(t, annex.Bytes())
	if len(arows) != 1+len(demoDossiers()) {
		t.Errorf("annex has %d rows, want a header and %d dossiers", len(arows), len(demoDossiers()))
	}
	for _, r := range append(rows, arows...) {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q would run as a formula", c)
			}
		}
	}
	for _, r := range arows[1:] {
		if !seen[r[0]] {
			t.Errorf("annex line %q names a lot that is not in the bordereau", r)
		}
	}
}

// TestLotIDsStable proves the proposal and lot ids depend on the dossiers proposed, not on the
// order they came in, and change when a dossier changes: a visa answers the proposal it was given.
func TestLotIDsStable(t *testing.T) {
	ds := demoDossiers()
	a := build(t, demoHeader(), ds)
	rev := slices.Clone(ds)
	slices.Reverse(rev)
	b := build(t, demoHeader(), rev)
	ids := func(e *Elimination) []string {
		var s []string
		for _, l := range e.Lots {
			s = append(s, l.ID)
		}
		return s
	}
	if a.ID != b.ID || !slices.Equal(ids(a), ids(b)) {
		t.Errorf("two builds of the same dossiers: %s %v and %s %v", a.ID, ids(a), b.ID, ids(b))
	}
	if !strings.HasPrefix(a.ID, "ELIM-APOGEE-DEMO-20260331-") {
		t.Errorf("proposal id %q", a.ID)
	}
	changed := slices.Clone(ds)
	changed[0].Key = "E9999"
	c := build(t, demoHeader(), changed)
	if c.ID == a.ID {
		t.Errorf("a different dossier gave the same proposal id %s", c.ID)
	}
}

// TestEmptyExplained proves an empty proposal says why, in both languages, and that one with no
// reason is refused rather than printed as a header alone.
func TestEmptyExplained(t *testing.T) {
	b, err := NewEliminationBuilder(demoHeader(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Finish(); err == nil {
		t.Error("an empty proposal without a reason was accepted")
	}
	h := demoHeader()
	h.EmptyReason = ReasonNoSamplingCriteria
	e := build(t, h, nil)
	for tag, want := range map[language.Tag]string{
		lang.French:  "Aucun dossier n'est proposé à l'élimination : la règle intégrée conserve tous les dossiers",
		lang.English: "Nothing is proposed for elimination: the built-in rule keeps every dossier",
	} {
		for _, r := range renders {
			var out bytes.Buffer
			if err := r.f(&out, e, tag); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if r.ext == "html" {
				text = html.UnescapeString(text)
			}
			if !strings.Contains(text, want) || !strings.Contains(out.String(), "docs/retention.md") {
				t.Errorf("%s %s does not explain the empty proposal:\n%s", tag, r.ext, out.String())
			}
		}
	}
	h.EmptyReason = "100% kept by a hold"
	var out bytes.Buffer
	if err := WriteCSV(&out, build(t, h, nil), lang.French); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "100% kept by a hold") {
		t.Errorf("a reason holding %% was not printed as given:\n%s", out.String())
	}
}

// TestAddRefusesUnknownRule: a lot cites its rule's legal reference, so a rule the header does
// not know is an error, not a lot without a basis.
func TestAddRefusesUnknownRule(t *testing.T) {
	b, err := NewEliminationBuilder(demoHeader(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	d := demoDossiers()[0]
	d.Rule = "APP-NOPE"
	if err := b.Add(d); err == nil || !strings.Contains(err.Error(), "APP-NOPE") {
		t.Errorf("Add with an unknown rule: %v", err)
	}
}

// TestLargeProposalSpills proves a proposal of 60,000 dossiers keeps only its lots in memory: the
// annex is in the spill file, read back whole and in order, and Close removes it.
func TestLargeProposalSpills(t *testing.T) {
	dir := t.TempDir()
	b, err := NewEliminationBuilder(demoHeader(), dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 60_000
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		d := EliminationDossier{Class: "etudiants", Rule: "APP-APO-ETU", Key: fmt.Sprintf("E%06d", i),
			Identity: "NOM Prénom", Start: date(2000+i%10, time.September, 1), DUAEnd: date(2015+i%5, time.August, 31), Rows: 3, Bytes: 300}
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.lots) != 5 {
		t.Errorf("%d lots in memory, want 5 (one per year of DUA end)", len(b.lots))
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// 60,000 annex lines held in memory would be well over 6 MB; the builder holds 5 lots and a
	// 64 KiB buffer.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 2<<20 {
		t.Errorf("the live heap grew by %d bytes over %d dossiers: the annex is kept in memory", grown, n)
	}
	e, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Fatalf("spill folder holds %d files, want 1", len(files))
	}
	i := 0
	for l, err := range e.Annex() {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("E%06d", i); l.Key != want || l.Lot != e.Lots[i%5].ID {
			t.Fatalf("annex line %d: %+v, want key %s in lot %s", i, l, want, e.Lots[i%5].ID)
		}
		i++
	}
	if i != n || e.Dossiers != n || e.Rows != 3*n {
		t.Errorf("annex %d lines, %d dossiers, %d rows; want %d", i, e.Dossiers, e.Rows, n)
	}
	// The renderers stream the annex: the page and the CSV hold every dossier.
	var page, annex countWriter
	if err := WriteHTML(&page, e, lang.French); err != nil {
		t.Fatal(err)
	}
	if err := WriteAnnexCSV(&annex, e, lang.French); err != nil {
		t.Fatal(err)
	}
	if page.lines < n || annex.lines != n+1 {
		t.Errorf("page has %d lines, annex CSV %d, want at least %d and %d", page.lines, annex.lines, n, n+1)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("Close left %d files in the spill folder", len(files))
	}
}

// TestVersementSlip proves the slip's lots per class and tier, their dates extrêmes, the latest
// end of communicability, and that a SIP recorded again after its ATR is updated, not doubled.
func TestVersementSlip(t *testing.T) {
	v := demoVersement(t)
	if len(v.Lots) != 2 || v.Lots[0].Tier != "intermediate" || v.Lots[1].Tier != "final" {
		t.Fatalf("lots %+v", v.Lots)
	}
	l := v.Lots[0]
	if l.ID != "RUN-20260331-0001/V001" || l.Dossiers != 3 || l.Start != date(2014, time.September, 1) || l.End != date(2019, time.August, 31) {
		t.Errorf("intermediate lot %+v", l)
	}
	if len(l.Access) != 1 || l.Access[0].End != date(2066, time.August, 31) {
		t.Errorf("access %+v, want ACC-PERS-50 until 2066-08-31", l.Access)
	}
	if len(v.SIPs) != 2 || v.SIPs[1].ATR != "OK" || v.SIPs[1].Operation == "" {
		t.Errorf("SIPs %+v", v.SIPs)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, v, lang.French); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	if _, lots := lotRows(t, rows, "Id ligne"); len(lots) != 2 {
		t.Errorf("%d lot rows", len(lots))
	}
	if _, sips := lotRows(t, rows, "Identifiant du SIP"); len(sips) != 2 || sips[1][2] != strings.Repeat("cd", 32) {
		t.Errorf("SIP rows %q", sips)
	}
}

// TestHTMLEscapes: the page escapes what the base holds, and fetches nothing.
func TestHTMLEscapes(t *testing.T) {
	e := build(t, demoHeader(), demoDossiers())
	var b bytes.Buffer
	if err := WriteHTML(&b, e, lang.French); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; Léa") {
		t.Error("the identity's markup is not escaped")
	}
	for _, bad := range []string{"src=", "@import", "url(", "<script", "<img", "<iframe", "<object"} {
		if strings.Contains(s, bad) {
			t.Errorf("the page refers to an external resource or a script (%q)", bad)
		}
	}
	if strings.Count(s, "<link") != 1 || !strings.Contains(s, `<link rel="icon" href="data:,">`) {
		t.Error("the page links something other than its empty icon")
	}
	for _, want := range []string{"@page { size: A4", "break-before: page", "Visa du chef du service d&#39;archives", "Visa du chef du service producteur", "Sort final", "Dates extrêmes", "Service producteur"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestFromProfile proves the adapters fill a header from a built-in profile (its agencies, its
// schedule's rules with their legal references) and a dossier from a decision, which the builder
// then accepts: the pipeline's wiring is these calls.
func TestFromProfile(t *testing.T) {
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	h := HeaderFor(p, date(2026, time.March, 31))
	if h.Archival.ID == "" || h.Transferring.ID == "" || h.Originating.ID == "" || len(h.Rules) == 0 {
		t.Fatalf("header %+v", h)
	}
	for _, r := range h.Rules {
		if r.Basis == "" || r.DUA == "" || r.FinalAction == "" {
			t.Errorf("rule %+v lacks its basis, DUA or final action", r)
		}
	}
	c := &p.Classes[0]
	dec := retention.Decision{Tier: retention.ToDestroy, Rule: c.Rule, Key: "42", Start: date(2010, time.August, 31), DUAEnd: date(2020, time.August, 31)}
	dossier := &extract.Dossier{Class: c.Name, Tables: []extract.TableRows{{Rows: make([][]extract.Value, 2)}, {Rows: make([][]extract.Value, 3)}}}
	ed := EliminationDossierOf(c, dossier, profiles.Description{Title: "DUPONT Marie"}, dec, 0)
	if ed.Rows != 5 || ed.Start != dec.Start || ed.Identity != "DUPONT Marie" || !strings.Contains(ed.Reason, "destroy") {
		t.Errorf("dossier %+v", ed)
	}
	h.EmptyReason = ReasonNoSamplingCriteria
	e := build(t, h, []EliminationDossier{ed})
	if len(e.Lots) != 1 || e.Lots[0].Rule.ID != c.Rule || len(e.Rules) != 1 {
		t.Errorf("lots %+v, rules %+v", e.Lots, e.Rules)
	}
	vh := VersementHeaderFor(p, "RUN-1", date(2026, time.March, 31))
	if vh.Agreement != p.SEDA.ArchivalAgreement || vh.Archival != h.Archival {
		t.Errorf("slip header %+v", vh)
	}
	rule, _ := p.Schedule().Rule(c.Rule)
	dec.AccessID, dec.AccessEnd = "ACC-PERS-50", date(2060, time.August, 31)
	vd := VersementDossierOf(c, dossier, profiles.Description{}, dec, rule.Rule, "intermediate", "SIP-1", 1000)
	if vd.Access.End != dec.AccessEnd || vd.Rule.ID != c.Rule || vd.SIP != "SIP-1" || vd.Rows != 5 {
		t.Errorf("slip dossier %+v", vd)
	}
}

// TestJSONRoundTrip: what WriteJSON writes reads back into the model, annex included, so a machine
// gets the same lots and ids as the page.
func TestJSONRoundTrip(t *testing.T) {
	e := build(t, demoHeader(), demoDossiers())
	var b bytes.Buffer
	if err := WriteJSON(&b, e); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Document string `json:"document"`
		Elimination
		Annex []AnnexLine `json:"annex"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Document != "elimination" || got.ID != e.ID || len(got.Lots) != len(e.Lots) || len(got.Annex) != len(demoDossiers()) {
		t.Fatalf("read back %s %s, %d lots, %d annex lines", got.Document, got.ID, len(got.Lots), len(got.Annex))
	}
	for i, l := range got.Lots {
		if l.ID != e.Lots[i].ID || l.Start != e.Lots[i].Start || l.Dossiers != e.Lots[i].Dossiers {
			t.Errorf("lot %d read back as %+v, want %+v", i, l, e.Lots[i])
		}
	}
	if got.Annex[1].Identity != `=HYPERLINK("http://evil")` {
		t.Errorf("JSON changed the identity to %q: only spreadsheets need it defused", got.Annex[1].Identity)
	}
}

// TestBuilderMisuse: a finished builder takes no more dossiers, and Abort after Finish keeps the
// document's annex.
func TestBuilderMisuse(t *testing.T) {
	if _, err := NewEliminationBuilder(Header{Profile: "x"}, t.TempDir()); err == nil {
		t.Error("a proposal without a date was accepted")
	}
	b, err := NewEliminationBuilder(demoHeader(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(demoDossiers()[0]); err != nil {
		t.Fatal(err)
	}
	e, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b.Abort()
	if err := b.Add(demoDossiers()[1]); err == nil {
		t.Error("Add after Finish was accepted")
	}
	n := 0
	for _, err := range e.Annex() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("annex has %d lines after Abort, want 1", n)
	}
}

// countWriter counts the lines written through it and keeps nothing.
type countWriter struct{ lines int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestFrenchComplete renders every document in French and fails on any label printed without a
// French translation: the goldens only freeze what is printed, this says it is French ("1 year"
// was once printed on a French page).
func TestFrenchComplete(t *testing.T) {
	var missing []string
	untranslated = func(msg string) { missing = append(missing, msg) }
	defer func() { untranslated = nil }()
	emptyH := demoHeader()
	emptyH.EmptyReason = ReasonNoSamplingCriteria
	for _, doc := range []Document{build(t, demoHeader(), demoDossiers()), build(t, emptyH, nil), demoVersement(t)} {
		for _, r := range renders {
			var b bytes.Buffer
			if err := r.f(&b, doc, lang.French); err != nil {
				t.Fatal(err)
			}
		}
		if e, ok := doc.(*Elimination); ok {
			if err := WriteAnnexCSV(io.Discard, e, lang.French); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(missing)
	if missing = slices.Compact(missing); len(missing) > 0 {
		t.Errorf("printed in French without a translation: %q", missing)
	}
	tr := newTr(lang.French)
	for dua, want := range map[string]string{"1y": "1 an", "7y": "7 ans", "1y6m": "1 an 6 mois", "1d": "1 jour", "unlimited": "illimitée", "80y": "80 ans"} {
		if got := tr.DUA(dua); got != want {
			t.Errorf("DUA(%q) = %q in French, want %q", dua, got, want)
		}
	}
}

// TestUnknownBytesBlank: a dry run knows no byte size; the bordereau leaves the volume in bytes
// blank rather than print "0 octets" for dossiers that hold rows.
func TestUnknownBytesBlank(t *testing.T) {
	ds := demoDossiers()
	for i := range ds {
		ds[i].Bytes = 0
	}
	e := build(t, demoHeader(), ds)
	var b bytes.Buffer
	if err := WriteCSV(&b, e, lang.French); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	head, lots := lotRows(t, rows, "Id ligne")
	col := slices.Index(head, "Volume (octets)")
	for _, l := range lots {
		if l[col] != "" {
			t.Errorf("lot %s: bytes %q, want blank", l[0], l[col])
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, e, lang.French); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "0 octets") {
		t.Error("the page prints 0 octets for an unknown volume")
	}
}
