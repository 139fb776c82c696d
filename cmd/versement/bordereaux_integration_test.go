package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/pipeline"
)

// samplingProfile is the built-in Apogée profile with a schedule that samples (one year in five
// kept), so that a demo run proposes dossiers for elimination.
func samplingProfile(t *testing.T, dir string) string {
	t.Helper()
	sched := filepath.Join(dir, "univ-schedule.yaml")
	if err := os.WriteFile(sched, []byte(`schedule: univ
extends: apogee
rules:
  - id: APP-APO-IA
    title: Données personnelles du traitement Apogée (dossier étudiant)
    start: endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))
    active: 3y
    dua: 7y
    final: sample
    sampling:
      year_modulo: 5
    basis: "arrêté du 26/01/1995 art. 4; tri : une année sur cinq (décision de l'établissement)"
    status: to-confirm
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "profiles", "show", "apogee")
	if code != 0 {
		t.Fatalf("profiles show: %d %s", code, out)
	}
	prof := strings.Replace(out, "schedule: apogee", "schedule: univ-schedule.yaml", 1)
	if prof == out {
		t.Fatal("the built-in profile names no schedule: apogee")
	}
	path := filepath.Join(dir, "univ.yaml")
	if err := os.WriteFile(path, []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func seededDemo(t *testing.T, n int) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "apogee.db")
	if _, err := demo.CreateSQLite(context.Background(), db, demo.Options{Profile: demo.Apogee, Dossiers: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return db
}

// proposedBy is the system user a proposal names: the goldens say "tester" for whoever runs them.
var proposedBy = regexp.MustCompile(`"proposed_by": "[^"]*"`)

func checkGolden(t *testing.T, got []byte, name string) {
	t.Helper()
	got = proposedBy.ReplaceAll(got, []byte(`"proposed_by": "tester"`))
	golden := filepath.Join("testdata", "bordereaux", name)
	if *updateGolden {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (run with -update-golden if that is meant)", name, golden)
	}
}

// A demo run with a schedule that samples writes the proposal of elimination the archivist signs,
// the same from one run to the next (golden files, French); its lots count what the report counts.
func TestRunWritesTheBordereauDElimination(t *testing.T) {
	dir := t.TempDir()
	prof, db, docs := samplingProfile(t, dir), seededDemo(t, 200), filepath.Join(dir, "bordereaux")
	proposal := filepath.Join(dir, "proposition.csv")
	out, code := run(t, "--lang", "fr", "run", "--profile", prof, "--source", db, "--dry-run", "--as-of", "2026-11-30", "--bordereaux", docs, "--json", "--elimination", proposal)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep pipeline.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(docs, pipeline.EliminationFile+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var e bordereau.Elimination
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	var lots int64
	for _, l := range e.Lots {
		lots += l.Dossiers
	}
	if rep.Tiers["destroy"] == 0 || lots != rep.Tiers["destroy"] || len(e.Lots) < 2 || e.EmptyReason != "" {
		t.Fatalf("%d dossiers in %d lots, the report has %d to destroy", lots, len(e.Lots), rep.Tiers["destroy"])
	}
	// The machine list (--elimination) follows the language too.
	csv, _ := os.ReadFile(proposal)
	if !strings.HasPrefix(string(csv), "\ufeffclasse;clé;identité;règle;statut;début;fin_dua;motif\r\n") || int64(strings.Count(string(csv), "\r\n")) != lots+1 ||
		!strings.Contains(string(csv), "non retenu par l'échantillonnage") {
		t.Errorf("French elimination list:\n%.400s", csv)
	}
	for _, f := range []string{pipeline.EliminationFile + ".json", pipeline.EliminationFile + ".csv", pipeline.EliminationFile + ".html", pipeline.EliminationAnnexFile} {
		got, err := os.ReadFile(filepath.Join(docs, f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, got, "sampling-fr-"+f)
	}
	if strings.Contains(out, "bordereau-versement") {
		t.Errorf("a dry run wrote a transfer slip:\n%s", out)
	}
}

// The built-in schedule proposes nothing, and the proposal says why rather than a header alone;
// a run that sends writes its transfer slip, whose lots and SIPs are the report's. A slip is one
// run's record: a rerun that sends nothing new writes none and leaves the first in place.
func TestRunWritesTheBordereauDeVersement(t *testing.T) {
	dir := t.TempDir()
	db, docs := seededDemo(t, 600), filepath.Join(dir, "bordereaux")
	runOnce := func() (pipeline.Report, string) {
		out, code := run(t, "run", "--profile", "apogee", "--source", db, "--as-of", "2026-11-30", "--target", "dir://"+filepath.Join(dir, "archives"),
			"--state", filepath.Join(dir, "state"), "--bordereaux", docs, "--report", filepath.Join(dir, "report.json"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var rep pipeline.Report
		b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return rep, out
	}
	rep, out := runOnce()
	slip := ""
	for _, f := range rep.Documents {
		if strings.HasPrefix(filepath.Base(f), pipeline.VersementFile+"-VERS-apogee-") && strings.HasSuffix(f, ".json") {
			slip = strings.TrimSuffix(f, ".json")
		}
	}
	if slip == "" || !strings.Contains(out, slip+".html") {
		t.Fatalf("no slip among %v\n%s", rep.Documents, out)
	}
	var e bordereau.Elimination
	b, _ := os.ReadFile(filepath.Join(docs, pipeline.EliminationFile+".json"))
	if err := json.Unmarshal(b, &e); err != nil || len(e.Lots) != 0 || e.EmptyReason != bordereau.ReasonNoSamplingCriteria {
		t.Errorf("empty proposal: %v, %d lots, reason %q", err, len(e.Lots), e.EmptyReason)
	}
	var v bordereau.Versement
	b, _ = os.ReadFile(slip + ".json")
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	sips := map[string]bool{}
	for _, s := range rep.SIPs {
		sips[s.ID] = true
	}
	var lotSIPs int
	var bytes int64
	for _, l := range v.Lots {
		lotSIPs += len(l.SIPs)
		bytes += l.Bytes
		for _, id := range l.SIPs {
			if !sips[id] {
				t.Errorf("lot %s names SIP %s, not in the report", l.ID, id)
			}
		}
	}
	if v.Dossiers != rep.Archived || len(v.SIPs) != len(rep.SIPs) || lotSIPs != len(rep.SIPs) || bytes != rep.Bytes {
		t.Errorf("slip: %d dossiers, %d SIPs (%d in lots), %d bytes; report: %d archived, %d SIPs, %d bytes", v.Dossiers, len(v.SIPs), lotSIPs, bytes, rep.Archived, len(rep.SIPs), rep.Bytes)
	}
	html, _ := os.ReadFile(slip + ".html")
	if !strings.Contains(string(html), rep.SIPs[0].Digest) {
		t.Errorf("the slip's page does not give SIP %s's SHA-256", rep.SIPs[0].ID)
	}

	again, _ := runOnce()
	slips, _ := filepath.Glob(filepath.Join(docs, pipeline.VersementFile+"-*.json"))
	if again.Archived != 0 || len(slips) != 1 || slips[0] != slip+".json" {
		t.Errorf("after a rerun that sent nothing: %d archived, slips %v (want only %s.json)", again.Archived, slips, slip)
	}
}

// Under the built-in schedule nothing is due: the proposal says why, in every output (golden
// files, French and English).
func TestRunWritesAnEmptyBordereauThatSaysWhy(t *testing.T) {
	db := seededDemo(t, 200)
	for _, l := range []string{"fr", "en"} {
		docs := filepath.Join(t.TempDir(), "bordereaux")
		out, code := run(t, "--lang", l, "run", "--profile", "apogee", "--source", db, "--dry-run", "--as-of", "2026-11-30", "--bordereaux", docs)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", l, code, out)
		}
		for _, f := range []string{pipeline.EliminationFile + ".json", pipeline.EliminationFile + ".csv", pipeline.EliminationFile + ".html"} {
			got, err := os.ReadFile(filepath.Join(docs, f))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, got, "builtin-"+l+"-"+f)
		}
	}
}
