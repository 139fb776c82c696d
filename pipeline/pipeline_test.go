package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
)

const demoDossiers = 400

var (
	demoOnce sync.Once
	demoPath string
	demoErr  error
)

// demoDB is a demo Apogée SQLite database shared by the tests of this package (it is read-only).
func demoDB(t testing.TB) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pipeline-demo-")
		if err != nil {
			demoErr = err
			return
		}
		demoPath = filepath.Join(dir, "apogee.db")
		_, demoErr = demo.CreateSQLite(context.Background(), demoPath, demo.Options{Profile: demo.Apogee, Dossiers: demoDossiers, Seed: 7})
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoPath != "" {
		os.RemoveAll(filepath.Dir(demoPath))
	}
	os.Exit(code)
}

func openDemo(t testing.TB) extract.Source {
	t.Helper()
	src, err := extract.Open(context.Background(), "sqlite:"+demoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// sqlTiers counts the tiers of the built-in Apogée rule APP-APO-IA straight from the database, in
// SQL written from the rule's text (start: end of the last registered academic year, i.e. 31 August
// after the highest COD_ANU with ETA_IAA = 'E'; DUC 3 years; DUA 7 years; then keep) rather than
// from versement's code. destroy says whether the final action is destroy instead of keep.
func sqlTiers(t *testing.T, asOf civil.Date, destroy bool) (map[retention.Tier]int64, []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+demoDB(t)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	final := "final"
	if destroy {
		final = "destroy"
	}
	rows, err := db.Query(`
		SELECT CAST(COD_IND AS TEXT), CASE
			WHEN m IS NULL THEN 'undetermined'
			WHEN ? < printf('%04d-08-31', m + 1 + 3) THEN 'active'
			WHEN ? < printf('%04d-08-31', m + 1 + 3 + 7) THEN 'intermediate'
			ELSE ? END
		FROM (SELECT i.COD_IND, (SELECT MAX(CAST(a.COD_ANU AS INTEGER)) FROM INS_ADM_ANU a
		                         WHERE a.COD_IND = i.COD_IND AND a.ETA_IAA = 'E') AS m
		      FROM INDIVIDU i)
		ORDER BY COD_IND`, asOf.String(), asOf.String(), final)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[retention.Tier]int64{}
	var destroyed []string
	for rows.Next() {
		var key, tier string
		if err := rows.Scan(&key, &tier); err != nil {
			t.Fatal(err)
		}
		counts[retention.Tier(tier)]++
		if tier == "destroy" {
			destroyed = append(destroyed, key)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts, destroyed
}

func builtin(t *testing.T, name string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDryRunCountsMatchSQL(t *testing.T) {
	src := openDemo(t)
	p := builtin(t, "apogee")
	for _, asOf := range []civil.Date{{Year: 2026, Month: 11, Day: 30}, {Year: 2010, Month: 8, Day: 31}, {Year: 2040, Month: 1, Day: 1}} {
		t.Run(asOf.String(), func(t *testing.T) {
			var elim bytes.Buffer
			rep, err := Run(context.Background(), Config{Profile: p, Source: src, SourceName: "demo", AsOf: asOf, DryRun: true, Elimination: &elim})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := sqlTiers(t, asOf, false)
			if rep.Dossiers != demoDossiers || !equalCounts(rep.Tiers, want) {
				t.Fatalf("tiers = %v (%d dossiers), SQL says %v", rep.Tiers, rep.Dossiers, want)
			}
			if rep.Archived != rep.Tiers[retention.Intermediate]+rep.Tiers[retention.Final] || len(rep.SIPs) != 0 {
				t.Errorf("archived %d, SIPs %d", rep.Archived, len(rep.SIPs))
			}
			// The rule table adds up and carries the to-confirm status of the built-in rule.
			var sum int64
			for _, rc := range rep.Rules {
				sum += rc.Dossiers
				if rc.Rule != "APP-APO-IA" || rc.Status != retention.ToConfirm || rc.Dossiers != want[rc.Tier] {
					t.Errorf("rule count %+v, SQL says %d", rc, want[rc.Tier])
				}
			}
			if sum != demoDossiers {
				t.Errorf("rule counts add up to %d", sum)
			}
			// Nothing is destroyed under the built-in schedule (sample without criteria keeps all).
			if rep.Eliminations != 0 || strings.TrimSpace(elim.String()) != strings.Join(EliminationHeader, ",") {
				t.Errorf("eliminations %d:\n%s", rep.Eliminations, elim.String())
			}
		})
	}
}

func TestEveryTierOccurs(t *testing.T) {
	// The demo database spans forty years, so today every tier but destroy has dossiers: a test
	// whose counts were all in one tier would prove little.
	want, _ := sqlTiers(t, civil.Date{Year: 2026, Month: 11, Day: 30}, false)
	for _, tier := range []retention.Tier{retention.Active, retention.Intermediate, retention.Final} {
		if want[tier] == 0 {
			t.Errorf("no %s dossier in the demo database: %v", tier, want)
		}
	}
}

func equalCounts(a, b map[retention.Tier]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// destroyProfile is the built-in Apogée profile with a schedule of its own whose rule ends in
// destruction, as an establishment's schedule may say.
func destroyProfile(t *testing.T) *profiles.Profile {
	t.Helper()
	dir := t.TempDir()
	schedule := `schedule: test-destroy
extends: apogee
rules:
  - id: APP-APO-IA
    title: Dossier étudiant (test)
    start: endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))
    active: 3y
    dua: 7y
    final: destroy
    basis: test schedule
    status: to-confirm
`
	if err := os.WriteFile(filepath.Join(dir, "schedule.yaml"), []byte(schedule), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := profiles.BuiltinSource("apogee")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "schedule: apogee ", "schedule: schedule.yaml ", 1)
	if err := os.WriteFile(filepath.Join(dir, "profile.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(filepath.Join(dir, "profile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Schedule().Name != "test-destroy" {
		t.Fatalf("schedule %s", p.Schedule().Name)
	}
	return p
}

func TestEliminationProposal(t *testing.T) {
	src := openDemo(t)
	p := destroyProfile(t)
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	var elim bytes.Buffer
	rep, err := Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf, DryRun: true, Elimination: &elim})
	if err != nil {
		t.Fatal(err)
	}
	want, wantKeys := sqlTiers(t, asOf, true)
	if !equalCounts(rep.Tiers, want) || rep.Eliminations != want[retention.ToDestroy] || len(wantKeys) == 0 {
		t.Fatalf("tiers = %v, eliminations %d; SQL says %v", rep.Tiers, rep.Eliminations, want)
	}
	recs, err := csv.NewReader(&elim).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "class,key,identity,rule,status,start,dua_end,reason" {
		t.Fatalf("header %v", recs[0])
	}
	var keys []string
	for _, r := range recs[1:] {
		keys = append(keys, r[1])
		if r[0] != "etudiant" || r[3] != "APP-APO-IA" || r[4] != "to-confirm" || !strings.HasPrefix(r[2], "Dossier étudiant ") ||
			!strings.HasPrefix(r[7], "destroy: APP-APO-IA ["+r[1]+"] start "+r[5]) || !strings.Contains(r[7], "DUA 7y ended "+r[6]) ||
			!strings.HasSuffix(r[7], "(to confirm)") || r[6] >= asOf.String() {
			t.Errorf("proposal line %q", r)
		}
	}
	sort.Strings(keys)
	sort.Strings(wantKeys)
	if strings.Join(keys, " ") != strings.Join(wantKeys, " ") {
		t.Errorf("proposed keys %v\nSQL says %v", keys, wantKeys)
	}
	var sum bytes.Buffer
	if err := rep.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "proposed for elimination: nothing was deleted") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

// recorder is an Archiver that keeps what it is given.
type recorder struct {
	unarchived
	items map[retention.Tier][]string
}

func (r *recorder) Archive(_ context.Context, it *Item) error {
	if r.items == nil {
		r.items = map[retention.Tier][]string{}
	}
	if it.Description.Title == "" || it.Decision.Key != it.Key {
		return os.ErrInvalid
	}
	r.items[it.Tier] = append(r.items[it.Tier], it.Key)
	return nil
}

func (r *recorder) Close(context.Context, bool) ([]SIP, error) {
	return []SIP{{Record: sip.Record{ID: "SIP-1", Class: "etudiant", Tier: retention.Final, Dossiers: len(r.items[retention.Final]), Bytes: 1234, DigestAlgorithm: "SHA-256", Digest: "ab"}}}, nil
}

func TestArchiverGetsTheArchivedTiers(t *testing.T) {
	src := openDemo(t)
	p := builtin(t, "apogee")
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	want, _ := sqlTiers(t, asOf, false)

	rec := &recorder{}
	rep, err := Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf, Archiver: rec, Tiers: []retention.Tier{retention.Final}})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rec.items[retention.Final])) != want[retention.Final] || len(rec.items) != 1 || rep.Archived != want[retention.Final] {
		t.Errorf("archived %v; SQL says %v", rec.items, want)
	}
	if len(rep.SIPs) != 1 || rep.Bytes != 1234 {
		t.Errorf("report SIPs %+v bytes %d", rep.SIPs, rep.Bytes)
	}

	// Decommission: active dossiers are archived as intermediate, with their own decision.
	rec = &recorder{}
	rep, err = Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf, Archiver: rec, Decommission: true})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rec.items[retention.Intermediate])) != want[retention.Active]+want[retention.Intermediate] ||
		int64(len(rec.items[retention.Final])) != want[retention.Final] || rep.Tiers[retention.Active] != 0 ||
		rep.Decommissioned != want[retention.Active] {
		t.Errorf("decommission: archived %d intermediate, %d final; report %v; SQL says %v",
			len(rec.items[retention.Intermediate]), len(rec.items[retention.Final]), rep.Tiers, want)
	}

	if _, err := Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf}); err == nil ||
		err.Error() != "pipeline: nothing to write the SIPs with (packaging is not configured): use a dry run" {
		t.Errorf("run without an archiver: %v", err)
	}
}

func TestReportJSON(t *testing.T) {
	src := openDemo(t)
	rep, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: src, SourceName: "sqlite:demo", AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["as_of"] != "2026-11-30" || back["profile"] != "apogee" || back["dialect"] != "sqlite" || back["dossiers"] != float64(demoDossiers) {
		t.Errorf("report JSON: %s", b)
	}
	tiers := back["tiers"].(map[string]any)
	if tiers["intermediate"] == nil || tiers["final"] == nil {
		t.Errorf("tiers in JSON: %v", tiers)
	}
}

func TestExplain(t *testing.T) {
	src := openDemo(t)
	p := builtin(t, "apogee")
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	ex, err := Explain(context.Background(), p, src, ExplainQuery{Key: "17", AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 1 || ex[0].Key != "17" || ex[0].Decision.Key != "17" || ex[0].Rows["INDIVIDU"] != 1 {
		t.Fatalf("explain 17: %+v", ex)
	}
	// The same decision as the full run gives this dossier.
	for d, err := range src.Dossiers(context.Background(), p.Classes[0].ExtractSpec()) {
		if d != nil && profiles.KeyString(d.Key) != "17" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		dec := Decide(p, &p.Classes[0], d, asOf)
		if dec.Explain() != ex[0].Decision.Explain() {
			t.Errorf("explain: %s\nrun: %s", ex[0].Decision.Explain(), dec.Explain())
		}
		break
	}
	var out bytes.Buffer
	if err := ex[0].WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.HasPrefix(text, "dossier 17 (class etudiant): Dossier étudiant ") ||
		!strings.Contains(text, "as of 2026-11-30: "+string(ex[0].Decision.Tier)+": APP-APO-IA [17]") ||
		!strings.Contains(text, "rule APP-APO-IA: Données personnelles du traitement Apogée (dossier étudiant) [TO CONFIRM by the establishment's archivist]") {
		t.Errorf("explain text:\n%s", text)
	}
	if _, err := Explain(context.Background(), p, src, ExplainQuery{Key: "999999", AsOf: asOf}); err == nil ||
		err.Error() != "no dossier with that key 999999 in profile apogee" {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Explain(context.Background(), p, src, ExplainQuery{Key: "x'; DROP TABLE INDIVIDU; --", AsOf: asOf}); err == nil {
		t.Errorf("a text key on an integer column matched something")
	}
}

func TestValidateSourceOnDemo(t *testing.T) {
	src := openDemo(t)
	for _, name := range []string{"apogee"} {
		if err := builtin(t, name).ValidateSource(context.Background(), src); err != nil {
			t.Errorf("built-in %s against the demo database: %v", name, err)
		}
	}
	text, _ := profiles.BuiltinSource("apogee")
	bad := strings.Replace(string(text), "table: IND_BAC", "table: IND_BACC", 1)
	bad = strings.Replace(bad, "order: [COD_THS]", "order: [COD_THESE]", 1)
	bad = strings.Replace(bad, "({{.COD_ETU}})", "({{.COD_ETUD}})", 1)
	p, err := profiles.Parse("bad.yaml", "", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	err = p.ValidateSource(context.Background(), src)
	var errs profiles.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		fmt.Sprintf("bad.yaml:%d: classes[0].children[6].table: sqlite:%s: table IND_BACC not found (profile apogee; looked for \"IND_BACC\": SQLite ignores case in names)", lineOf(bad, "IND_BACC"), demoDB(t)),
		fmt.Sprintf("bad.yaml:%d: classes[0].children[8].order[0]: unknown column COD_THESE in table THESE_HDR_SOUT", lineOf(bad, "COD_THESE")),
		fmt.Sprintf("bad.yaml:%d: classes[0].content.title: {{.COD_ETUD}}: unknown column COD_ETUD in table INDIVIDU", lineOf(bad, "title:")),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// lineOf is the line number of the first line of text holding s.
func lineOf(text, s string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}

func TestDictionary(t *testing.T) {
	src := openDemo(t)
	p := builtin(t, "apogee")
	infos, err := p.Classes[0].Dictionary(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 10 || infos[0].Name != "INDIVIDU" || infos[0].Comment != "Individu (étudiant) — identité, naissance, identifiants" {
		t.Fatalf("dictionary: %d tables, first %s %q", len(infos), infos[0].Name, infos[0].Comment)
	}
	found := false
	for _, c := range infos[0].Columns {
		if c.Name == "DATE_NAI_IND" {
			found = c.Comment == "Date de naissance" && c.Kind == extract.KindDate
		}
	}
	if !found {
		t.Errorf("DATE_NAI_IND: %+v", infos[0].Columns)
	}
}

// failing is an Archiver whose Archive fails on the n-th dossier.
type failing struct {
	unarchived
	n, seen   int
	closed    bool
	discarded bool
}

func (f *failing) Archive(context.Context, *Item) error {
	f.seen++
	if f.seen == f.n {
		return errors.New("disk full")
	}
	return nil
}

func (f *failing) Close(ctx context.Context, discard bool) ([]SIP, error) {
	f.closed, f.discarded = ctx.Err() == nil, discard
	return []SIP{{Record: sip.Record{ID: "SIP-before-the-failure", Bytes: 10}}}, nil
}

func TestFailureStillClosesTheArchiver(t *testing.T) {
	src := openDemo(t)
	f := &failing{n: 5}
	rep, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: src, AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, Archiver: f})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !f.closed || !f.discarded || rep == nil || len(rep.SIPs) != 1 {
		t.Fatalf("err %v, closed %v, discarded %v, report %+v", err, f.closed, f.discarded, rep)
	}
	// A cancelled run closes too, with a live context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = &failing{n: -1}
	if _, err := Run(ctx, Config{Profile: builtin(t, "apogee"), Source: src, Archiver: f}); err == nil || !f.closed || !f.discarded {
		t.Errorf("cancelled run: err %v, closed %v, discarded %v", err, f.closed, f.discarded)
	}
}
