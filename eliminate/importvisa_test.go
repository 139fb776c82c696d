package eliminate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/eliminate"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer/ledger"
)

// The bordereau package's golden proposal: four lots, eight dossiers, 31/03/2026.
const (
	goldenJSON = "../bordereau/testdata/elimination.json.golden"
	goldenCSV  = "../bordereau/testdata/elimination.fr.csv.golden"
	proposalID = "ELIM-APOGEE-DEMO-20260331-F0F95CD7"
)

var now = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// filled is the bordereau's French CSV with the visa columns filled in for the given lots
// ("L001": "accepté"), as an archivist returns it from a spreadsheet.
func filled(t *testing.T, answers map[string][4]string) string {
	t.Helper()
	b, err := os.ReadFile(goldenCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		for lot, a := range answers {
			if strings.HasPrefix(l, proposalID+"/"+lot+";") {
				l = strings.TrimSuffix(l, "\r")
				l = strings.TrimSuffix(l, ";;;;") + ";" + strings.Join(a[:], ";") + "\r"
				lines[i] = l
			}
		}
	}
	p := filepath.Join(t.TempDir(), "visa.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestImportVisaRecordsTheDecision(t *testing.T) {
	ctx := context.Background()
	led, state := openLedger(t), t.TempDir()
	visa := filled(t, map[string][4]string{
		"L001": {"accepté", "V-2026-118", "02/12/2026", "Mme P. Durand, directrice des archives"},
		"L002": {"refusé", "V-2026-118", "02/12/2026", "Mme P. Durand, directrice des archives"},
	})
	res, err := eliminate.ImportVisa(ctx, eliminate.ImportOptions{Visa: visa, Proposal: goldenJSON, State: state, Ledger: led,
		User: roles.User{ID: "pdurand"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Refused != 1 || res.Unanswered != 2 || res.Dossiers != 3 || res.Already {
		t.Fatalf("%+v", res)
	}
	el := res.Entry.Elimination
	if res.Entry.Kind != ledger.KindVisa || el.Reference != "V-2026-118" || el.Date != "2026-12-02" || el.Proposal != proposalID ||
		strings.Join(el.Accepted, ",") != proposalID+"/L001" || strings.Join(el.Refused, ",") != proposalID+"/L002" || el.ImportedBy != "pdurand" {
		t.Fatalf("ledger entry: %+v %+v", res.Entry, el)
	}
	// Again: nothing new.
	again, err := eliminate.ImportVisa(ctx, eliminate.ImportOptions{Visa: visa, Proposal: goldenJSON, State: state, Ledger: led, User: roles.User{ID: "pdurand"}, Now: now})
	if err != nil || !again.Already || again.Entry.Seq != res.Entry.Seq {
		t.Fatalf("second import: %+v %v", again, err)
	}
	v, p, _, err := eliminate.Load(state, led, "V-2026-118")
	if err != nil || !v.Accepts(proposalID+"/L001") || v.Accepts(proposalID+"/L002") || p.ID != proposalID {
		t.Fatalf("load: %+v %v", v, err)
	}
	// Another decision on the same proposal is refused.
	other := filled(t, map[string][4]string{"L001": {"accepté", "V-2026-119", "03/12/2026", "X"}})
	_, err = eliminate.ImportVisa(ctx, eliminate.ImportOptions{Visa: other, Proposal: goldenJSON, State: state, Ledger: led, User: roles.User{ID: "pdurand"}, Now: now})
	want := "proposal " + proposalID + " already has visa V-2026-118 (ledger entry 1): a different decision needs a new proposal"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	// Once executed, the proposal cannot be visaed again.
	if _, err := led.Append(ledger.Entry{Kind: ledger.KindElimination, Status: ledger.StatusRecorded, Elimination: &ledger.Elimination{Proposal: proposalID, Reference: "V-2026-118"}}); err != nil {
		t.Fatal(err)
	}
	_, err = eliminate.ImportVisa(ctx, eliminate.ImportOptions{Visa: visa, Proposal: goldenJSON, State: state, Ledger: led, User: roles.User{ID: "pdurand"}, Now: now})
	var ie *eliminate.ImportError
	if !errors.As(err, &ie) || ie.Message(lang.French) != "la proposition "+proposalID+" a déjà été exécutée sous le visa V-2026-118 (entrée 2 du journal) : elle ne peut plus être visée" {
		t.Fatalf("executed: %v", err)
	}
}

// Each refusal, with the words the archivist reads.
func TestImportVisaRefuses(t *testing.T) {
	ctx := context.Background()
	policy, err := roles.Parse("example.yaml", roles.ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	archivist := roles.User{ID: "pdurand", Groups: []string{"archives"}}
	sign := "Mme P. Durand"
	// A proposal made by pdurand herself.
	own := filepath.Join(t.TempDir(), "own.json")
	b, _ := os.ReadFile(goldenJSON)
	os.WriteFile(own, []byte(strings.Replace(string(b), `"archival_agency"`, `"proposed_by": "pdurand", "archival_agency"`, 1)), 0o644)
	edited := filepath.Join(t.TempDir(), "edited.json")
	os.WriteFile(edited, []byte(strings.Replace(string(b), `"dossiers": 3,`, `"dossiers": 4,`, 1)), 0o644)
	for _, c := range []struct {
		name     string
		answers  map[string][4]string
		visa     string // a file's content instead of answers
		proposal string
		user     roles.User
		policy   *roles.Policy
		fr       string
	}{
		{name: "no reference", answers: map[string][4]string{"L001": {"accepté", "", "02/12/2026", sign}},
			fr: "visa visa.csv, ligne 20 : le lot " + proposalID + "/L001 a une décision sans référence du visa"},
		{name: "no date", answers: map[string][4]string{"L001": {"accepté", "V1", "", sign}},
			fr: "visa visa.csv, ligne 20 : le lot " + proposalID + "/L001 a une décision sans date du visa"},
		{name: "bad decision", answers: map[string][4]string{"L001": {"peut-être", "V1", "02/12/2026", sign}},
			fr: `visa visa.csv, ligne 20 : décision "peut-être" : attendu accepté ou refusé`},
		{name: "future", answers: map[string][4]string{"L001": {"accepté", "V1", "05/12/2026", sign}},
			fr: "le visa est daté du 2026-12-05, après aujourd'hui (2026-12-04)"},
		{name: "nothing answered", answers: map[string][4]string{},
			fr: "visa visa.csv : aucun lot n'a de décision : remplissez Décision, Référence du visa et Date du visa pour les lots visés"},
		{name: "unknown lot", visa: "Id ligne;Décision;Référence du visa;Date du visa;Signataire\n" + proposalID + "/L009;accepté;V1;02/12/2026;X\n",
			fr: "le visa répond au lot " + proposalID + "/L009, que la proposition " + proposalID + " n'a pas"},
		{name: "twice", visa: "Line id,Decision,Visa reference,Visa date,Signatory\n" + proposalID + "/L001,accepted,V1,2026-12-02,X\n" + proposalID + "/L001,rejected,V1,2026-12-02,X\n",
			fr: "visa visa.csv : le lot " + proposalID + "/L001 a deux décisions (lignes 2 et 3)"},
		{name: "two proposals", visa: "Id ligne;Décision;Référence du visa;Date du visa\n" + proposalID + "/L001;accepté;V1;02/12/2026\nELIM-X-1/L001;accepté;V1;02/12/2026\n",
			fr: "visa visa.csv, ligne 3 : il répond à plus d'une proposition (" + proposalID + " et ELIM-X-1) : un fichier de visa par bordereau"},
		{name: "edited proposal", answers: map[string][4]string{"L001": {"accepté", "V1", "02/12/2026", sign}}, proposal: edited,
			fr: "proposal " + edited + ": lot " + proposalID + "/L001 says 4 dossiers, its annex lists 3: the file is not the one versement wrote"},
		{name: "not archives", answers: map[string][4]string{"L001": {"accepté", "V1", "02/12/2026", sign}}, policy: policy,
			user: roles.User{ID: "dpo", Groups: []string{"dpo"}},
			fr:   "dpo ne peut pas enregistrer de visa : vos rôles (dpo) ne sont pas ceux du service d'archives : seul le visa de son responsable autorise une élimination (Code du patrimoine, art. R212-14)"},
		{name: "four eyes", answers: map[string][4]string{"L001": {"accepté", "V1", "02/12/2026", sign}}, policy: policy, proposal: own,
			fr: "double regard : pdurand a fait la proposition " + proposalID + ", le visa doit donc être enregistré par une autre personne du service d'archives"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var visa string
			if c.visa != "" {
				visa = filepath.Join(t.TempDir(), "visa.csv")
				os.WriteFile(visa, []byte(c.visa), 0o644)
			} else {
				visa = filled(t, c.answers)
			}
			if c.proposal == "" {
				c.proposal = goldenJSON
			}
			if c.user.ID == "" {
				c.user = archivist
			}
			led := openLedger(t)
			_, err := eliminate.ImportVisa(ctx, eliminate.ImportOptions{Visa: visa, Proposal: c.proposal, State: t.TempDir(), Ledger: led,
				Roles: c.policy, User: c.user, Now: now, Lang: lang.French})
			if err == nil {
				t.Fatal("recorded")
			}
			got := err.Error()
			var m interface{ Message(language.Tag) string }
			if errors.As(err, &m) {
				got = m.Message(lang.French)
			}
			if got != c.fr {
				t.Fatalf("got  %s\nwant %s", got, c.fr)
			}
			if led.Head().Entries != 0 {
				t.Fatal("the ledger was written")
			}
		})
	}
}
