package bordereau

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	stdhtml "html"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
)

func attestationFixture(t *testing.T, dryRun bool) *Attestation {
	t.Helper()
	h := AttestationHeader{
		Proposal: "ELIM-APOGEE-DEMO-20260331-F0F95CD7", Profile: "apogee", Establishment: "Université de démonstration",
		Date:        civil.Date{Year: 2031, Month: 9, Day: 1},
		Originating: Agency{ID: "FRAN_NP_000001", Name: "Scolarité"},
		Visa: VisaRecord{Reference: "AD-2031-042", Date: civil.Date{Year: 2031, Month: 8, Day: 20}, Signatory: "Claire Dupont, directrice <archives>",
			ImportedBy: "jmartin", ImportedAt: time.Date(2031, 8, 21, 9, 0, 0, 0, time.UTC)},
		Executor: "ops", DryRun: dryRun,
	}
	b, err := NewAttestationBuilder(h, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Abort)
	lot := h.Proposal + "/L001"
	b.AddLot(AttestationLot{LineID: lot, Class: "etudiant", Rule: Rule{ID: "APO-ETU"}, DUAEndYear: 2030, Decision: DecisionAccepted, Proposed: 3, Destroyed: 1, Spared: 1})
	for _, d := range []AttestationDossier{
		{Lot: lot, Class: "etudiant", Key: "1001", Outcome: OutcomeDestroyed, SIP: "apogee-etudiant-intermediate-00001.zip"},
		{Lot: lot, Class: "etudiant", Key: "1002", Outcome: OutcomeSpared, Reason: "hold", Detail: "contentieux 2031-07", SIP: "apogee-etudiant-intermediate-00001.zip"},
		{Lot: lot, Class: "etudiant", Key: "1003", Outcome: OutcomeInSource, DUAEnd: civil.Date{Year: 2030, Month: 12, Day: 31}},
	} {
		if err := b.AddDossier(d); err != nil {
			t.Fatal(err)
		}
	}
	b.AddSIP(RewrittenSIP{Old: "apogee-etudiant-intermediate-00001.zip", OldSHA256: strings.Repeat("a", 64),
		New: "apogee-etudiant-intermediate-00001-E0123ABCD.zip", NewSHA256: strings.Repeat("b", 64), Target: "dir:///archive", Removed: 1, Kept: 1, Deleted: true})
	a, err := b.Finish("42:" + strings.Repeat("c", 64))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestAttestationDocuments(t *testing.T) {
	a := attestationFixture(t, false)
	fr := language.French
	var h bytes.Buffer
	if err := WriteAttestationHTML(&h, a, fr); err != nil {
		t.Fatal(err)
	}
	html := stdhtml.UnescapeString(h.String())
	for _, want := range []string{"Attestation d'élimination", "AD-2031-042", "R212-14", strings.Repeat("b", 64), "42:" + strings.Repeat("c", 64), "directrice <archives>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the French HTML lacks %q", want)
		}
	}
	if !strings.Contains(h.String(), "&lt;archives&gt;") {
		t.Error("the HTML does not escape the signatory's name")
	}
	if strings.Contains(html, "SIMULATION") {
		t.Error("an execution's attestation says SIMULATION")
	}
	var j bytes.Buffer
	if err := WriteAttestationJSON(&j, a); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Destroyed, Spared int64
		InSource          int64 `json:"in_source"`
		Dossiers          []AttestationDossier
	}
	if err := json.Unmarshal(j.Bytes(), &got); err != nil {
		t.Fatalf("JSON: %v\n%s", err, j.String())
	}
	if got.Destroyed != 1 || got.Spared != 1 || got.InSource != 1 || len(got.Dossiers) != 3 {
		t.Errorf("JSON totals %d/%d/%d with %d dossiers, want 1/1/1 with 3", got.Destroyed, got.Spared, got.InSource, len(got.Dossiers))
	}
	var c bytes.Buffer
	if err := WriteAttestationCSV(&c, a, fr); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.String(), "\ufeff")))
	r.Comma, r.FieldsPerRecord = ';', -1
	if _, err := r.ReadAll(); err != nil {
		t.Errorf("the CSV does not read back: %v", err)
	}
	var k bytes.Buffer
	if err := WriteSourceKeysCSV(&k, a, fr); err != nil {
		t.Fatal(err)
	}
	if s := k.String(); !strings.Contains(s, "1003") || strings.Contains(s, "1001") {
		t.Errorf("the DBA's keys list only the dossier in the source:\n%s", s)
	}
}

func TestAttestationDryRunSaysSo(t *testing.T) {
	a := attestationFixture(t, true)
	var h bytes.Buffer
	if err := WriteAttestationHTML(&h, a, language.French); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdhtml.UnescapeString(h.String()), "SIMULATION — rien n'a été détruit") {
		t.Error("a dry run's attestation does not say SIMULATION — rien n'a été détruit")
	}
}

func TestAttestationLotThatContradictsItsDossiers(t *testing.T) {
	b, err := NewAttestationBuilder(AttestationHeader{Proposal: "P", Date: civil.Date{Year: 2031, Month: 1, Day: 1}, Visa: VisaRecord{Reference: "V"}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	b.AddLot(AttestationLot{LineID: "P/L001", Proposed: 2, Destroyed: 2})
	if err := b.AddDossier(AttestationDossier{Lot: "P/L001", Class: "etudiant", Key: "1", Outcome: OutcomeDestroyed}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Finish("1:x")
	want := "bordereau: lot P/L001 says 2 proposed, 2 destroyed, 0 spared; its dossiers are 1, 1 destroyed, 0 spared, 0 in the source"
	if err == nil || err.Error() != want {
		t.Errorf("Finish = %v, want %q", err, want)
	}
}

func TestAttestationNeedsAVisa(t *testing.T) {
	_, err := NewAttestationBuilder(AttestationHeader{Proposal: "P", Date: civil.Date{Year: 2031, Month: 1, Day: 1}}, t.TempDir())
	want := "bordereau: the attestation of proposal P needs the visa's reference: nothing is destroyed without a visa (R212-14)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
