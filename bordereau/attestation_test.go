package bordereau

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
)

const demoProposal = "ELIM-APOGEE-DEMO-20260331-1A2B3C4D"

func demoAttestationHeader(dryRun bool) AttestationHeader {
	h := demoHeader()
	return AttestationHeader{
		Proposal: demoProposal, Profile: h.Profile, Establishment: h.Establishment, Date: date(2026, time.April, 15),
		Originating: h.Originating, Transferring: h.Transferring, Archival: h.Archival,
		Visa: VisaRecord{Reference: "AD-2026-017", Date: date(2026, time.April, 10), Signatory: "Mme <b>Durand</b>, directrice des archives",
			ImportedBy: "archiviste", ImportedAt: time.Date(2026, time.April, 11, 9, 30, 0, 0, time.UTC)},
		Executor: "dsi-exploit", DryRun: dryRun,
	}
}

// demoOutcomes are the dossiers of four lots: accepted, refused, accepted, unanswered; with every
// outcome, the reasons of package eliminate, one code no document knows, and text that must run
// neither as a formula nor as markup.
func demoOutcomes() []AttestationDossier {
	l := func(n int) string { return fmt.Sprintf("%s/L%03d", demoProposal, n) }
	etu := func(lot int, key, who, outcome, reason, detail, sip string) AttestationDossier {
		return AttestationDossier{Lot: l(lot), Class: "etudiants", Key: key, Identity: who, Start: date(2010, time.September, 1),
			DUAEnd: date(2023, time.August, 31), Rule: "APP-APO-ETU", Outcome: outcome, Reason: reason, Detail: detail, SIP: sip}
	}
	cop := func(key, outcome, reason, detail, sip string) AttestationDossier {
		return AttestationDossier{Lot: l(3), Class: "copies", Key: key, Identity: "Session 2023", Start: date(2023, time.June, 20),
			DUAEnd: date(2024, time.June, 20), Rule: "APP-APO-COPIES", Outcome: outcome, Reason: reason, Detail: detail, SIP: sip}
	}
	return []AttestationDossier{
		etu(1, "E0001", "DUPONT Marie", OutcomeDestroyed, "", "", "SIP-A"),
		etu(1, "E0002", `=HYPERLINK("http://evil")`, OutcomeDestroyed, "", "", "SIP-A"),
		etu(1, "E0003", "<script>alert(1)</script> Léa", OutcomeSpared, "hold", "", "SIP-A"),
		etu(1, "E0004", "MARTIN Éloïse", OutcomeSpared, "locked", "2031-06-30", "SIP-B"),
		etu(2, "E0005", "N'GUYEN Kim", OutcomeSpared, "refused", "", ""),
		cop("C0001", OutcomeInSource, "", "", ""),
		cop("C0002", OutcomeDestroyed, "", "", "SIP-C"),
		cop("C0003", OutcomeSpared, "tier-changed", "final", "SIP-C"),
		cop("C0004", OutcomeSpared, "mystery-code", "", "SIP-C"),
		etu(4, "E0006", "LEROY Paul", OutcomeSpared, "unanswered", "", ""),
	}
}

func demoAttestationLots() []AttestationLot {
	h := demoHeader()
	etu, cop := h.Rules[0], h.Rules[1]
	return []AttestationLot{
		// Added out of order: the attestation orders them by line id.
		{LineID: demoProposal + "/L003", Class: "copies", Rule: cop, DUAEndYear: 2024, Decision: DecisionAccepted, Proposed: 4, Destroyed: 1, Spared: 2},
		{LineID: demoProposal + "/L001", Class: "etudiants", Rule: etu, DUAEndYear: 2023, Decision: DecisionAccepted, Proposed: 4, Destroyed: 2, Spared: 2},
		{LineID: demoProposal + "/L002", Class: "etudiants", Rule: etu, DUAEndYear: 2024, Decision: DecisionRefused, Proposed: 1, Spared: 1},
		{LineID: demoProposal + "/L004", Class: "etudiants", Rule: etu, DUAEndYear: 2025, Proposed: 1, Spared: 1},
	}
}

func buildAttestation(t testing.TB, h AttestationHeader, ds []AttestationDossier) *Attestation {
	t.Helper()
	b, err := NewAttestationBuilder(h, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	for _, l := range demoAttestationLots() {
		b.AddLot(l)
	}
	for _, d := range ds {
		if err := b.AddDossier(d); err != nil {
			t.Fatal(err)
		}
	}
	b.AddSIP(RewrittenSIP{Old: "SIP-A", OldSHA256: strings.Repeat("a1", 32), New: "SIP-A-E1", NewSHA256: strings.Repeat("b2", 32), Target: "s3://archives/apogee", Removed: 2, Kept: 1})
	b.AddSIP(RewrittenSIP{Old: "SIP-B", OldSHA256: strings.Repeat("c3", 32), New: "SIP-B-E1", NewSHA256: strings.Repeat("d4", 32), Target: "s3://archives/apogee", Kept: 1, LockedUntil: date(2031, time.June, 30)})
	b.AddSIP(RewrittenSIP{Old: "SIP-C", OldSHA256: strings.Repeat("e5", 32), Target: "dir:///srv/archives", Removed: 1, Kept: 2, Deleted: true})
	// SIP-A's deletion is known after its rewriting: recorded again, not doubled.
	b.AddSIP(RewrittenSIP{Old: "SIP-A", OldSHA256: strings.Repeat("a1", 32), New: "SIP-A-E1", NewSHA256: strings.Repeat("b2", 32), Target: "s3://archives/apogee", Removed: 2, Kept: 1, Deleted: true})
	b.AddOperation(VITAMOperation{Kind: "analysis", ID: "aeeaaaaaachfmo3ean2ayamhkq3ysnyaaaaq", Status: "OK", Units: 3})
	b.AddOperation(VITAMOperation{Kind: "action", ID: "aeeaaaaaachfmo3ean2ayamhkq3ysoaaaaba", Status: "OK", Units: 3})
	a, err := b.Finish("42:" + strings.Repeat("0f", 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

type attestationRender struct {
	name string
	f    func(io.Writer, *Attestation, language.Tag) error
}

var attestationRenders = []attestationRender{
	{"html", WriteAttestationHTML},
	{"csv", WriteAttestationCSV},
	{"source-keys.csv", WriteSourceKeysCSV},
}

// TestAttestationGolden fixes every output of the attestation, in French and English, and of a
// dry run's page.
func TestAttestationGolden(t *testing.T) {
	a := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
	for _, tag := range []language.Tag{lang.French, lang.English} {
		for _, r := range attestationRenders {
			var b bytes.Buffer
			if err := r.f(&b, a, tag); err != nil {
				t.Fatal(err)
			}
			golden(t, fmt.Sprintf("attestation.%s.%s", tag, r.name), b.Bytes())
		}
	}
	var b bytes.Buffer
	if err := WriteAttestationJSON(&b, a); err != nil {
		t.Fatal(err)
	}
	golden(t, "attestation.json", b.Bytes())
	sim := buildAttestation(t, demoAttestationHeader(true), demoOutcomes())
	for _, tag := range []language.Tag{lang.French, lang.English} {
		b.Reset()
		if err := WriteAttestationHTML(&b, sim, tag); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("attestation-simulation.%s.html", tag), b.Bytes())
	}
}

// TestAttestationModel proves the totals, the lots' order and counts, the SIP recorded twice kept
// once, and the identifier.
func TestAttestationModel(t *testing.T) {
	a := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
	if a.Destroyed != 3 || a.Spared != 6 || a.InSource != 1 {
		t.Errorf("totals %d destroyed, %d spared, %d in source; want 3, 6, 1", a.Destroyed, a.Spared, a.InSource)
	}
	if a.SparedBy["locked"] != 1 || a.SparedBy["hold"] != 1 || a.SparedBy["mystery-code"] != 1 {
		t.Errorf("spared by reason %v", a.SparedBy)
	}
	var ids []string
	for _, l := range a.Lots {
		ids = append(ids, shortLot(l.LineID))
	}
	if !slices.Equal(ids, []string{"L001", "L002", "L003", "L004"}) || a.Lots[2].InSource != 1 {
		t.Errorf("lots %v, L003 in source %d", ids, a.Lots[2].InSource)
	}
	if len(a.SIPs) != 3 || !a.SIPs[0].Deleted {
		t.Errorf("SIPs %+v: SIP-A recorded again must be updated, not doubled", a.SIPs)
	}
	if !strings.HasPrefix(a.ID, demoProposal+"/A-") || len(a.ID) != len(demoProposal)+len("/A-")+8 {
		t.Errorf("id %q", a.ID)
	}
	sim := buildAttestation(t, demoAttestationHeader(true), demoOutcomes())
	if !strings.HasSuffix(sim.ID, "-SIM") {
		t.Errorf("a dry run's id %q does not end in -SIM", sim.ID)
	}
}

// TestAttestationIDStable: the same outcomes in another order give the same identifier; another
// outcome for one dossier (a lock that ended) gives another.
func TestAttestationIDStable(t *testing.T) {
	ds := demoOutcomes()
	a := buildAttestation(t, demoAttestationHeader(false), ds)
	rev := slices.Clone(ds)
	slices.Reverse(rev)
	if b := buildAttestation(t, demoAttestationHeader(false), rev); b.ID != a.ID {
		t.Errorf("reordered dossiers: id %s, want %s", b.ID, a.ID)
	}
	later := slices.Clone(ds)
	later[3].Outcome, later[3].Reason, later[3].Detail = OutcomeSpared, "hold", ""
	if b := buildAttestation(t, demoAttestationHeader(false), later); b.ID == a.ID {
		t.Errorf("another outcome kept the id %s", a.ID)
	}
}

// TestAttestationDryRun: a simulation says so in large letters at the top of the page, in its
// certificate and in its CSV, and never states that anything was destroyed; the real one never
// says simulation.
func TestAttestationDryRun(t *testing.T) {
	for _, c := range []struct {
		tag    language.Tag
		marker string
		done   string
	}{
		{lang.French, "SIMULATION — rien n&#39;a été détruit", "ont été détruits le 15/04/2026 sous le visa AD-2026-017 du 10/04/2026"},
		{lang.English, "SIMULATION — nothing was destroyed", "were destroyed on 2026-04-15 under the visa AD-2026-017 of 2026-04-10"},
	} {
		sim := buildAttestation(t, demoAttestationHeader(true), demoOutcomes())
		var b bytes.Buffer
		if err := WriteAttestationHTML(&b, sim, c.tag); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !strings.Contains(page, `<p class="sim" id="simulation">`+c.marker+`</p>`) {
			t.Errorf("%s: the dry run's page has no marker %q at its top", c.tag, c.marker)
		}
		if i, j := strings.Index(page, c.marker), strings.Index(page, "<h1>"); i < 0 || i > j {
			t.Errorf("%s: the marker is not above the title", c.tag)
		}
		if strings.Count(page, c.marker) != 2 {
			t.Errorf("%s: the marker is printed %d times, want 2 (top and certificate)", c.tag, strings.Count(page, c.marker))
		}
		if strings.Contains(page, c.done) {
			t.Errorf("%s: a dry run states the dossiers were destroyed", c.tag)
		}
		b.Reset()
		if err := WriteAttestationCSV(&b, sim, c.tag); err != nil {
			t.Fatal(err)
		}
		if rows := readCSV(t, b.Bytes()); len(rows) < 2 || rows[1][0] != html2text(c.marker) {
			t.Errorf("%s: the dry run's CSV does not say so on its second line: %q", c.tag, rows[:2])
		}
		real := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
		b.Reset()
		if err := WriteAttestationHTML(&b, real, c.tag); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "SIMULATION") || !strings.Contains(b.String(), c.done) {
			t.Errorf("%s: the real attestation says simulation, or lacks its statement %q", c.tag, c.done)
		}
	}
}

func html2text(s string) string { return strings.ReplaceAll(s, "&#39;", "'") }

// TestAttestationHTMLEscapes: the page escapes what the base and the visa hold, fetches nothing,
// and carries the certificate's legal references and the ledger's head.
func TestAttestationHTMLEscapes(t *testing.T) {
	a := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
	var b bytes.Buffer
	if err := WriteAttestationHTML(&b, a, lang.French); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; Léa") {
		t.Error("the identity's markup is not escaped")
	}
	if strings.Contains(s, "<b>Durand") || !strings.Contains(s, "Mme &lt;b&gt;Durand&lt;/b&gt;") {
		t.Error("the signatory's markup is not escaped")
	}
	for _, bad := range []string{"src=", "@import", "url(", "<script", "<img", "<iframe", "<object"} {
		if strings.Contains(s, bad) {
			t.Errorf("the page refers to an external resource or a script (%q)", bad)
		}
	}
	for _, want := range []string{
		"@page { size: A4", "Attestation d&#39;élimination", "Code du patrimoine, art. R212-14", "RGPD, art. 5.1.e",
		"42:" + strings.Repeat("0f", 32), `<span class="hash">` + strings.Repeat("b2", 32) + "</span>",
		"supprimé en entier : tous ses dossiers sont détruits", "verrouillé jusqu&#39;au 30/06/2031 : supprimé à la fin du verrou",
		"sous gel (conservation pour contentieux) depuis la proposition", "le tableau de gestion ne prévoit plus sa destruction <span class=\"detail\">(archives définitives)</span>",
		"son SIP est verrouillé (Object Lock) : détruit à la fin du verrou <span class=\"detail\">(30/06/2031)</span>",
		"<td>mystery-code</td>", "sans réponse dans le visa", "analyse d&#39;élimination", "aeeaaaaaachfmo3ean2ayamhkq3ysoaaaaba",
		"Dossiers en attente de la fin du verrou (Object Lock) de leur SIP : 1.", "11/04/2026 09:30 UTC", "3 détruits, 6 non éliminés, 1 dans la source",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Each list holds its own dossiers: a destroyed key is in the destroyed table only.
	destroyed := between(s, `id="destroyed"`, "</table>")
	spared := between(s, `id="spared"`, "</table>")
	inSource := between(s, `id="in-source"`, "</table>")
	for key, list := range map[string]string{"E0001": destroyed, "C0002": destroyed, "E0003": spared, "E0006": spared, "C0001": inSource} {
		for _, other := range []string{destroyed, spared, inSource} {
			in := strings.Contains(other, ">"+key+"<")
			if in != (other == list) {
				t.Errorf("dossier %s: in list %v", key, in)
			}
		}
	}
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(after, to)
	return before
}

// TestAttestationCSV: the CSV opens as ;-separated UTF-8 with a BOM, its dossiers' outcomes add up
// to the totals, no cell starts a formula; the DBA's list holds the dossiers in the source only.
func TestAttestationCSV(t *testing.T) {
	a := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
	var b bytes.Buffer
	if err := WriteAttestationCSV(&b, a, lang.French); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	head, lots := lotRows(t, rows, "Id ligne")
	if len(lots) != 4 || lots[1][slices.Index(head, "Décision")] != "refusé" || lots[3][slices.Index(head, "Décision")] != "sans réponse dans le visa" {
		t.Errorf("lots %q", lots)
	}
	head, ds := lotRows(t, rows, "Lot")
	if len(ds) != len(demoOutcomes()) {
		t.Fatalf("%d dossier rows, want %d", len(ds), len(demoOutcomes()))
	}
	count := map[string]int64{}
	col := slices.Index(head, "Sort")
	for _, d := range ds {
		count[d[col]]++
		for _, cell := range d {
			if strings.HasPrefix(cell, "=") {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}
	if count["détruit"] != a.Destroyed || count["non éliminé"] != a.Spared || count["dans la source (jamais archivé)"] != a.InSource {
		t.Errorf("outcomes %v; totals %d, %d, %d", count, a.Destroyed, a.Spared, a.InSource)
	}
	if d := ds[3]; d[slices.Index(head, "Précision")] != "30/06/2031" || d[slices.Index(head, "Motif")] != "son SIP est verrouillé (Object Lock) : détruit à la fin du verrou" {
		t.Errorf("locked dossier %q", d)
	}
	_, sips := lotRows(t, rows, "Ancien SIP")
	if len(sips) != 3 || sips[0][1] != strings.Repeat("a1", 32) || sips[0][7] != "supprimé" || sips[1][7] != "verrouillé jusqu'au 30/06/2031 : supprimé à la fin du verrou" {
		t.Errorf("SIP rows %q", sips)
	}
	b.Reset()
	if err := WriteSourceKeysCSV(&b, a, lang.English); err != nil {
		t.Fatal(err)
	}
	keys := readCSV(t, b.Bytes())
	want := [][]string{{"Class", "Key", "Lot", "DUA end"}, {"copies", "C0001", demoProposal + "/L003", "2024-06-20"}}
	if !slices.EqualFunc(keys, want, slices.Equal) {
		t.Errorf("source keys %q, want %q", keys, want)
	}
}

// TestAttestationJSON: the JSON decodes, its dossiers are every dossier with counts equal to the
// totals, and it may be written again (each writer reads the spill from its start).
func TestAttestationJSON(t *testing.T) {
	a := buildAttestation(t, demoAttestationHeader(false), demoOutcomes())
	for range 2 {
		var b bytes.Buffer
		if err := WriteAttestationJSON(&b, a); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Document string `json:"document"`
			Attestation
			Dossiers []AttestationDossier `json:"dossiers"`
		}
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		count := map[string]int64{}
		for _, d := range got.Dossiers {
			count[d.Outcome]++
		}
		if got.Document != "attestation-elimination" || got.ID != a.ID || len(got.Lots) != 4 || len(got.SIPs) != 3 || len(got.Operations) != 2 {
			t.Errorf("read back %s %s, %d lots, %d SIPs, %d operations", got.Document, got.ID, len(got.Lots), len(got.SIPs), len(got.Operations))
		}
		if count[OutcomeDestroyed] != got.Destroyed || count[OutcomeSpared] != got.Spared || count[OutcomeInSource] != got.InSource || got.Destroyed != 3 {
			t.Errorf("dossiers %v, totals %d, %d, %d", count, got.Destroyed, got.Spared, got.InSource)
		}
		if got.Visa != a.Visa || got.SIPs[1].LockedUntil != date(2031, time.June, 30) || got.Dossiers[1].Identity != `=HYPERLINK("http://evil")` {
			t.Errorf("visa %+v, SIP %+v, identity %q", got.Visa, got.SIPs[1], got.Dossiers[1].Identity)
		}
	}
}

// TestAttestationBuilderErrors checks what a caller is told when the attestation cannot be made.
func TestAttestationBuilderErrors(t *testing.T) {
	h := demoAttestationHeader(false)
	for _, c := range []struct {
		edit func(*AttestationHeader)
		want string
	}{
		{func(h *AttestationHeader) { h.Proposal = " " }, "bordereau: the attestation needs the proposal's identifier (AttestationHeader.Proposal)"},
		{func(h *AttestationHeader) { h.Visa.Reference = "" }, "bordereau: the attestation of proposal " + demoProposal + " needs the visa's reference: nothing is destroyed without a visa (R212-14)"},
		{func(h *AttestationHeader) { h.Date = date(0, 0, 0) }, "bordereau: the attestation of proposal " + demoProposal + " needs the date of the execution (AttestationHeader.Date)"},
	} {
		bad := h
		c.edit(&bad)
		if _, err := NewAttestationBuilder(bad, t.TempDir()); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}

	dir := t.TempDir()
	newB := func() *AttestationBuilder {
		b, err := NewAttestationBuilder(h, dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := newB()
	d := demoOutcomes()[0]
	d.Outcome = "vanished"
	if err := b.AddDossier(d); err == nil || err.Error() != `bordereau: dossier E0001 of class etudiants: outcome "vanished" is none of destroyed, spared, in-source` {
		t.Errorf("bad outcome: %v", err)
	}
	d = demoOutcomes()[0]
	d.Key = ""
	if err := b.AddDossier(d); err == nil || err.Error() != `bordereau: a dossier of class etudiants without its key or lot (key "", lot "`+demoProposal+`/L001")` {
		t.Errorf("no key: %v", err)
	}
	b.Abort()
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("Abort left %d files", len(files))
	}

	// Lots whose counts are not their dossiers'.
	b = newB()
	b.AddLot(AttestationLot{LineID: demoProposal + "/L001", Proposed: 2, Destroyed: 2})
	for _, d := range demoOutcomes()[:2] {
		d.Outcome = OutcomeSpared
		if err := b.AddDossier(d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Finish(""); err == nil || err.Error() != "bordereau: lot "+demoProposal+"/L001 says 2 proposed, 2 destroyed, 0 spared; its dossiers are 2, 0 destroyed, 2 spared, 0 in the source" {
		t.Errorf("counts that contradict the dossiers: %v", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("a refused Finish left %d files", len(files))
	}
	if _, err := b.Finish(""); err == nil || err.Error() != "bordereau: Finish called twice, or after Abort" {
		t.Errorf("Finish twice: %v", err)
	}

	// Dossiers of a lot not added.
	b = newB()
	if err := b.AddDossier(demoOutcomes()[4]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Finish(""); err == nil || err.Error() != "bordereau: dossiers of lot "+demoProposal+"/L002, which is not among the attestation's lots (AddLot)" {
		t.Errorf("stray lot: %v", err)
	}

	// Abort after Finish keeps the attestation's dossiers; Close removes them.
	b = newB()
	b.AddLot(AttestationLot{LineID: demoProposal + "/L001", Proposed: 1, Destroyed: 1})
	if err := b.AddDossier(demoOutcomes()[0]); err != nil {
		t.Fatal(err)
	}
	a, err := b.Finish("1:ab")
	if err != nil {
		t.Fatal(err)
	}
	b.Abort()
	if err := b.AddDossier(demoOutcomes()[0]); err == nil || err.Error() != "bordereau: AddDossier after Finish or Abort" {
		t.Errorf("AddDossier after Finish: %v", err)
	}
	n := 0
	for _, err := range a.Dossiers() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d dossiers after Abort, want 1", n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("Close left %d files", len(files))
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close twice: %v", err)
	}
}

// TestAttestationLargeSpills proves an execution of 60,000 dossiers keeps none of them in memory:
// the outputs stream them from the spill file, whole.
func TestAttestationLargeSpills(t *testing.T) {
	dir := t.TempDir()
	b, err := NewAttestationBuilder(demoAttestationHeader(false), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	const n = 60_000
	outcomes := []string{OutcomeDestroyed, OutcomeDestroyed, OutcomeSpared, OutcomeInSource}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		d := AttestationDossier{Lot: demoProposal + "/L001", Class: "etudiants", Key: fmt.Sprintf("E%06d", i), Identity: "NOM Prénom",
			DUAEnd: date(2020, time.August, 31), Rule: "APP-APO-ETU", Outcome: outcomes[i%4], SIP: "SIP-A"}
		if d.Outcome == OutcomeSpared {
			d.Reason = "hold"
		}
		if err := b.AddDossier(d); err != nil {
			t.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 2<<20 {
		t.Errorf("the live heap grew by %d bytes over %d dossiers: they are kept in memory", grown, n)
	}
	b.AddLot(AttestationLot{LineID: demoProposal + "/L001", Proposed: n, Destroyed: n / 2, Spared: n / 4})
	a, err := b.Finish("1:ab")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Destroyed != n/2 || a.Spared != n/4 || a.InSource != n/4 || a.Lots[0].InSource != n/4 {
		t.Errorf("totals %d, %d, %d", a.Destroyed, a.Spared, a.InSource)
	}
	var page, csvOut, keys, js countWriter
	for _, w := range []struct {
		w *countWriter
		f func(io.Writer) error
	}{
		{&page, func(w io.Writer) error { return WriteAttestationHTML(w, a, lang.French) }},
		{&csvOut, func(w io.Writer) error { return WriteAttestationCSV(w, a, lang.French) }},
		{&keys, func(w io.Writer) error { return WriteSourceKeysCSV(w, a, lang.French) }},
		{&js, func(w io.Writer) error { return WriteAttestationJSON(w, a) }},
	} {
		if err := w.f(w.w); err != nil {
			t.Fatal(err)
		}
	}
	if page.lines < n || csvOut.lines < n || keys.lines != n/4+1 || js.lines < n {
		t.Errorf("page %d lines, CSV %d, keys %d, JSON %d; want at least %d, %d, exactly %d, at least %d", page.lines, csvOut.lines, keys.lines, js.lines, n, n, n/4+1, n)
	}
}

// TestAttestationFrenchComplete renders the attestation in French and fails on any label printed
// without a French translation.
func TestAttestationFrenchComplete(t *testing.T) {
	var missing []string
	untranslated = func(msg string) { missing = append(missing, msg) }
	defer func() { untranslated = nil }()
	for _, dry := range []bool{false, true} {
		a := buildAttestation(t, demoAttestationHeader(dry), demoOutcomes())
		for _, r := range attestationRenders {
			if err := r.f(io.Discard, a, lang.French); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(missing)
	if missing = slices.Compact(missing); len(missing) > 0 {
		t.Errorf("printed in French without a translation: %q", missing)
	}
	tr := newTr(lang.French)
	for code, want := range map[string]string{"hold": "sous gel (conservation pour contentieux) depuis la proposition", "not-sent": "son SIP réécrit n'est pas encore à destination", "unknown": "unknown"} {
		if got := tr.reason(AttestationDossier{Reason: code}); got != want {
			t.Errorf("reason %q in French: %q, want %q", code, got, want)
		}
	}
}
