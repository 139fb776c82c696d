package main

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/flock"
	"github.com/versement/versement/job"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/seda"
)

// lineOf is the line number of the first line of text holding s.
func lineOf(text []byte, s string) int {
	for i, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}

// cliDemo makes a small demo database of the profile (apogee or harpege) for one test.
func cliDemo(t *testing.T, profile string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), profile+".db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: profile, Dossiers: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunDryRunPrintsThePlan(t *testing.T) {
	db := cliDemo(t, "apogee")
	out, code := run(t, "run", "--profile", "apogee", "--source", db, "--dry-run", "--as-of", "2026-11-30")
	if code != 0 || !strings.HasPrefix(out, "versement dry run (nothing written): profile apogee, source "+db+" (sqlite), as of 2026-11-30") ||
		!strings.Contains(out, fmt.Sprintf("  %-13s %9d\n", "total", 300)) || !strings.Contains(out, "etudiant  APP-APO-IA  intermediate") ||
		!strings.Contains(out, "would be archived") {
		t.Fatalf("run --dry-run: code %d\n%s", code, out)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	out, code = run(t, "run", "--profile", "harpege", "--source", cliDemo(t, "harpege"), "--dry-run", "--json", "--report", report, "--as-of", "2026-11-30")
	if code != 0 {
		t.Fatalf("run --json: code %d\n%s", code, out)
	}
	var rep struct {
		Profile  string           `json:"profile"`
		Dossiers int              `json:"dossiers"`
		Tiers    map[string]int64 `json:"tiers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Profile != "harpege" || rep.Dossiers != 300 {
		t.Fatalf("run --json: %v\n%s", err, out)
	}
	saved, err := os.ReadFile(report)
	if err != nil || string(saved) != out {
		t.Errorf("--report file differs from --json output: %v", err)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	db := cliDemo(t, "apogee")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tiers", "destroy", "--dry-run"}, `ERR: --tiers: "destroy": want active, intermediate, final or held (destroy gives the elimination proposal, never a SIP)`},
		{[]string{"--as-of", "30/11/2026", "--dry-run"}, `ERR: --as-of "30/11/2026": want a date YYYY-MM-DD`},
		{[]string{}, "ERR: no target: give --target dir://PATH, s3://BUCKET/PREFIX or vitam+https://HOST (or --target-intermediate and --target-final), or use --dry-run for the plan"},
		{[]string{"--target", "ftp://x", "--state", t.TempDir()}, `ERR: target "ftp://x": unknown scheme "ftp" (want dir://, s3:// or vitam+https://)`},
		{[]string{"--target", "dir://x", "--batch-bytes", "lots"}, `ERR: --batch-bytes "lots": want a size such as 500MB or 2GiB`},
		{[]string{"--target", "dir://x", "--object-lock", "forever"}, `ERR: --object-lock "forever": want compliance or governance`},
	} {
		args := append([]string{"run", "--profile", "apogee", "--source", db}, tc.args...)
		out, code := run(t, args...)
		if code != exitError || strings.TrimSpace(out) != tc.want {
			t.Errorf("%v: code %d, output %q; want %d, %q", tc.args, code, out, exitError, tc.want)
		}
	}
	out, code := run(t, "run", "--profile", "apogee", "--source", "postgres://u:secret@host/db", "--dry-run")
	if code != exitError || strings.Contains(out, "secret") || !strings.Contains(out, "put it in an environment variable") {
		t.Errorf("a connection string with a password on the command line: code %d\n%s", code, out)
	}
}

func TestExplainOneDossier(t *testing.T) {
	db := cliDemo(t, "apogee")
	out, code := run(t, "explain", "--profile", "apogee", "--source", db, "--key", "5", "--as-of", "2026-11-30")
	if code != 0 || !strings.HasPrefix(out, "dossier 5 (class etudiant): Dossier étudiant ") ||
		!strings.Contains(out, "as of 2026-11-30: ") || !strings.Contains(out, ": APP-APO-IA [5] ") ||
		!strings.Contains(out, "(to confirm)\n") || !strings.Contains(out, "[TO CONFIRM by the establishment's archivist]") ||
		!regexp.MustCompile(`\n  the rule read INS_ADM_ANU \(ETA_IAA, COD_ANU\): ETA_IAA=[A-Z] COD_ANU=[0-9]{4}`).MatchString(out) ||
		!regexp.MustCompile(`\n  the rule read INDIVIDU \(DATE_NAI_IND\): DATE_NAI_IND=[0-9]{4}-`).MatchString(out) {
		t.Fatalf("explain: code %d\n%s", code, out)
	}
	// In French: the same decision, in the archivist's words.
	t.Setenv("LANG", "fr_FR.UTF-8")
	fr, code := run(t, "explain", "--profile", "apogee", "--source", db, "--key", "5", "--as-of", "2026-11-30")
	if code != 0 || !strings.HasPrefix(fr, "dossier 5 (classe etudiant) : Dossier étudiant ") ||
		!strings.Contains(fr, "au 2026-11-30 : ") || !strings.Contains(fr, " : APP-APO-IA [5] ") ||
		!strings.Contains(fr, "(à confirmer)\n") || !strings.Contains(fr, "[À CONFIRMER par l'archiviste de l'établissement]") ||
		strings.Contains(fr, "as of") || strings.Contains(fr, "(to confirm)") {
		t.Fatalf("explain in French: code %d\n%s", code, fr)
	}
	t.Setenv("LANG", "C.UTF-8")
	out, code = run(t, "explain", "--profile", "apogee", "--source", db, "--key", "5", "--as-of", "2026-11-30", "--json")
	var exs []map[string]any
	if err := json.Unmarshal([]byte(out), &exs); err != nil || code != 0 || len(exs) != 1 || exs[0]["key"] != "5" ||
		exs[0]["rule"] != "APP-APO-IA" || exs[0]["status"] != "to-confirm" || exs[0]["as_of"] != "2026-11-30" {
		t.Fatalf("explain --json: code %d, %v\n%s", code, err, out)
	}
	if out, code := run(t, "explain", "--profile", "apogee", "--source", db, "--key", "123456"); code != exitError ||
		out != "ERR: no dossier with that key 123456 in profile apogee\n" {
		t.Errorf("explain of a missing key: code %d, %q", code, out)
	}
}

func TestProfilesValidateAgainstDemo(t *testing.T) {
	db := cliDemo(t, "harpege")
	out, code := run(t, "profiles", "validate", "--source", db, "harpege")
	if code != 0 || out != "builtin/harpege.yaml: tables and columns found in "+db+"\nbuiltin/harpege.yaml: ok\n" {
		t.Fatalf("validate --source: code %d\n%s", code, out)
	}
	// Apogée's profile against Harpège's database: every table it names is missing or different.
	out, code = run(t, "profiles", "validate", "--source", db, "apogee")
	text, _ := profiles.BuiltinSource("apogee")
	if code != exitFindings || !strings.Contains(out, fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].root.key: unknown column COD_IND in table INDIVIDU\n", lineOf(text, "key: COD_IND"))) ||
		!strings.Contains(out, fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[1].table: sqlite:%s: table INS_ADM_ANU not found", lineOf(text, "table: INS_ADM_ANU"), db)) {
		t.Fatalf("validate apogee against harpege: code %d\n%s", code, out)
	}
}

// TestRunEliminationProposal runs an establishment's own profile (a file) whose schedule file says
// that student dossiers are destroyed after their DUA: the dry run writes the proposal, and the
// source is left as it was.
// destroyingProfile writes, in dir, a schedule extending Apogée's whose student rule destroys at
// the end of its DUA, followed by extra YAML, and returns the built-in Apogée profile's text
// pointing at it.
func destroyingProfile(t *testing.T, dir, extra string) string {
	t.Helper()
	schedule := "schedule: ours\nextends: apogee\nrules:\n" +
		"  - id: APP-APO-IA\n    title: Dossier étudiant\n" +
		"    start: endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == \"E\"), .COD_ANU))\n" +
		"    active: 3y\n    dua: 7y\n    final: destroy\n    basis: tableau de gestion de l'établissement\n    status: verified\n" + extra
	if err := os.WriteFile(filepath.Join(dir, "ours.yaml"), []byte(schedule), 0o644); err != nil {
		t.Fatal(err)
	}
	text, _ := profiles.BuiltinSource("apogee")
	return strings.Replace(string(text), "schedule: apogee ", "schedule: ours.yaml ", 1)
}

func TestRunEliminationProposal(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	prof := destroyingProfile(t, dir, "")
	if err := os.WriteFile(filepath.Join(dir, "profile.yaml"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "proposal.csv")
	out, code := run(t, "run", "--profile", filepath.Join(dir, "profile.yaml"), "--source", db, "--dry-run",
		"--as-of", "2026-11-30", "--elimination", csvPath)
	if code != 0 || !strings.Contains(out, "proposed for elimination: nothing was deleted") {
		t.Fatalf("run: code %d\n%s", code, out)
	}
	proposal, err := os.ReadFile(csvPath)
	lines := strings.Split(strings.TrimSpace(string(proposal)), "\n")
	if err != nil || lines[0] != "class,key,identity,rule,status,start,dua_end,reason" || len(lines) < 2 ||
		!strings.HasPrefix(lines[1], "etudiant,") || !strings.Contains(lines[1], ",APP-APO-IA,verified,") {
		t.Fatalf("proposal: %v\n%s", err, proposal)
	}
	if !strings.Contains(out, fmt.Sprintf("  %-13s %9d  %s\n", "destroy", len(lines)-1, "elimination proposal")) {
		t.Errorf("summary and proposal disagree (%d lines):\n%s", len(lines)-1, out)
	}
	after, _ := os.ReadFile(db)
	if string(before) != string(after) {
		t.Errorf("the source database changed")
	}
}

// TestRunArchivesOnce runs the real pipeline from the command line into a folder: SIPs written and
// recorded, the JSON report lists them with their digests, verify accepts the ledger and the
// SIPs, and a second run archives nothing new.
func TestRunArchivesOnce(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	archives, state := filepath.Join(dir, "archives"), filepath.Join(dir, "state")
	args := []string{"run", "--profile", "apogee", "--source", db, "--as-of", "2026-11-30", "--target", "dir://" + archives,
		"--state", state, "--batch-dossiers", "50"}
	out, code := run(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("run: code %d\n%s", code, out)
	}
	var rep struct {
		Archived   int64 `json:"archived"`
		Ledger     string
		LedgerHead string `json:"ledger_head"`
		SIPs       []struct {
			Name, Target, Digest, Tier string
			MessageID                  string `json:"message_id"`
			ManifestDigest             string `json:"manifest_digest"`
			Dossiers                   int
			Bytes                      int64
		} `json:"sips"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.SIPs) < 3 || rep.Archived == 0 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	total := 0
	for _, s := range rep.SIPs {
		total += s.Dossiers
		if s.Dossiers > 50 || s.MessageID == "" || s.Digest == "" || s.ManifestDigest == "" || s.Target != "dir://"+archives {
			t.Errorf("SIP %+v", s)
		}
		if _, err := os.Stat(filepath.Join(archives, s.Name)); err != nil {
			t.Error(err)
		}
	}
	if int64(total) != rep.Archived || rep.Ledger != filepath.Join(state, "ledger.jsonl") {
		t.Errorf("%d dossiers in SIPs, %d archived, ledger %s", total, rep.Archived, rep.Ledger)
	}
	// The report carries the ledger's head, as ledger.head beside the ledger holds it: one entry per SIP.
	head, err := os.ReadFile(filepath.Join(state, "ledger.head"))
	if err != nil || rep.LedgerHead != strings.TrimSpace(string(head)) || !strings.HasPrefix(rep.LedgerHead, fmt.Sprintf("%d:", len(rep.SIPs))) {
		t.Errorf("report's ledger_head %q, ledger.head %q (%v), %d SIPs", rep.LedgerHead, head, err, len(rep.SIPs))
	}
	if out, code := run(t, "verify", "--ledger", rep.Ledger, "--target", "dir://"+archives, "--head", rep.LedgerHead); code != 0 {
		t.Errorf("verify --ledger --head: code %d\n%s", code, out)
	}
	// What run writes passes versement's own audit.
	zips, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if out, code := run(t, append([]string{"verify"}, zips...)...); code != 0 || strings.Count(out, ": OK\n") != len(rep.SIPs) {
		t.Errorf("verify of the %d SIPs: code %d\n%s", len(rep.SIPs), code, out)
	}
	out, code = run(t, args...)
	if code != 0 || !strings.Contains(out, "nothing new was archived: 0 SIPs\nledger head: "+rep.LedgerHead+"\n") || !strings.Contains(out, fmt.Sprintf("%d dossier(s) were already archived", rep.Archived)) {
		t.Errorf("second run: code %d\n%s", code, out)
	}
}

// TestScheduledRunner: the scheduler's runner backed by the pipeline archives a job into its
// targets, in its own state folder, once.
func TestScheduledRunner(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	t.Setenv("VERSEMENT_TEST_SCHED_DSN", "sqlite:"+db)
	r, _ := pipelineRunner(nil)
	sj := nightly.Job{Name: "apogee-nightly", Source: nightly.SecretRef{Env: "VERSEMENT_TEST_SCHED_DSN"},
		Options: job.Options{Profile: "apogee",
			Targets: map[string]string{"intermediate": "dir://" + filepath.Join(dir, "inter"), "final": "dir://" + filepath.Join(dir, "final")},
			Batch:   job.Batch{MaxDossiers: 100}},
		AsOfDate: civil.Date{Year: 2026, Month: 11, Day: 30}, StateDir: filepath.Join(dir, "state")}
	res, err := r.Run(context.Background(), sj)
	if err != nil || res.Outcome != nightly.OK || res.SIPs < 2 || res.Dossiers["final"] == 0 {
		t.Fatalf("run: %+v %v", res, err)
	}
	// The first run archives every intermediate and final dossier it decides, and fails none.
	if want := fmt.Sprint(map[string]int{"intermediate": res.Dossiers["intermediate"], "final": res.Dossiers["final"]}); fmt.Sprint(res.Archived) != want ||
		res.FailedSIPs != 0 || res.FailedDossiers != 0 {
		t.Errorf("first run: archived %v, want %s; failed %d SIPs, %d dossiers", res.Archived, want, res.FailedSIPs, res.FailedDossiers)
	}
	for _, sub := range []string{"inter", "final"} {
		if n, _ := filepath.Glob(filepath.Join(dir, sub, "*.zip")); len(n) == 0 {
			t.Errorf("no SIP in %s", sub)
		}
	}
	if res, err = r.Run(context.Background(), sj); err != nil || res.SIPs != 0 || len(res.Archived) != 0 {
		t.Errorf("second run: %+v %v", res, err)
	}
}

// A run that wrote a SIP failing verification exits 1 (a damaged package, as verify would say),
// whatever else failed with it; a run that could not do its job exits 2.
func TestRunExitCodes(t *testing.T) {
	ve := &pipeline.VerifyError{SIP: "x.zip", Dossiers: 3, Kept: "state/spool/damaged/x.zip",
		Findings: []seda.Finding{{Severity: seda.SevError, Code: seda.CodeReadError, Where: "Content/a.json", Message: "flate: corrupt input"}}}
	for _, c := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{errors.New("source: no such file"), exitError, "source: no such file"},
		{errors.Join(fmt.Errorf("class c dossier 1: %w", ve), errors.New("SIP y.zip: refused")), exitFindings,
			"class c dossier 1: SIP x.zip does not pass verification (1 finding): READ_ERROR Content/a.json: flate: corrupt input; " +
				"it was not sent: kept as state/spool/damaged/x.zip for inspection (versement verify state/spool/damaged/x.zip), and the next run writes it again\n" +
				"SIP y.zip: refused"},
	} {
		got := runExit(c.err)
		msg := ""
		if got != nil {
			msg = got.Error()
		}
		if codeOf(got) != c.code || msg != c.msg {
			t.Errorf("runExit(%v) = exit %d %q, want exit %d %q", c.err, codeOf(got), msg, c.code, c.msg)
		}
	}
}

// A SIP waiting in the spool that no longer passes verification (here: cut short) is not sent:
// `run` exits 1 naming it and its finding, keeps it under spool/damaged/, and the next run writes
// it again (the ledger already holds the very same SIP, so nothing is sent twice).
func TestRunRefusesADamagedSIP(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	archives, state := filepath.Join(dir, "archives"), filepath.Join(dir, "state")
	args := []string{"run", "--profile", "apogee", "--source", db, "--as-of", "2026-11-30", "--target", "dir://" + archives,
		"--state", state, "--batch-dossiers", "50"}
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("run: code %d\n%s", code, out)
	}
	names, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if len(names) == 0 {
		t.Fatal("no SIP")
	}
	name := filepath.Base(names[0])
	b, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	// As an interrupted run leaves a SIP its writer got wrong: recorded as spooled, with the size
	// and SHA-256 of the file in the spool, but damaged. (A file that does not match its record is
	// rebuilt instead: TestRunRebuildsASpooledSIPNotMatchingItsRecord.)
	bad := b[:len(b)/2]
	if err := os.WriteFile(filepath.Join(state, "spool", name), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	sdb, err := sql.Open("sqlite", "file:"+filepath.Join(state, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`UPDATE sips SET status = 'spooled', target = '', ledger_seq = 0, bytes = ?, sha256 = ? WHERE name = ?`,
		len(bad), fmt.Sprintf("%x", sha256.Sum256(bad)), name); err != nil {
		t.Fatal(err)
	}
	sdb.Close()

	out, code := run(t, args...)
	kept := filepath.Join(state, "spool", "damaged", name)
	want := "ERR: SIP " + name + " does not pass verification (1 finding): CONTAINER: not a readable zip (truncated or not a zip file): zip: not a valid zip file; " +
		"it was not sent: kept as " + kept + " for inspection (versement verify " + kept + "), and the next run writes it again\n"
	if code != exitFindings || out != want {
		t.Errorf("run over a damaged SIP: exit %d\n%s\nwant exit %d\n%s", code, out, exitFindings, want)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Error(err)
	}
	if out, code := run(t, append(args, "--json")...); code != 0 || !strings.Contains(out, `"name": "`+name+`"`) || !strings.Contains(out, `"already_sent": true`) {
		t.Errorf("the next run: exit %d\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", filepath.Join(state, "ledger.jsonl"), "--target", "dir://"+archives); code != 0 {
		t.Errorf("verify --ledger: exit %d\n%s", code, out)
	}
}

// TestRunSIPNamesIdentifyTheContent: a SIP's name is its content's (issue 18, "Identity of a
// SIP"): two state folders sending the same base as of two dates to one target do not collide, the
// same run made twice names its SIPs the same, and a SIP of the same name with other bytes at the
// target stops the run with what to do.
func TestRunSIPNamesIdentifyTheContent(t *testing.T) {
	db := cliDemo(t, "harpege")
	dir := t.TempDir()
	archives := filepath.Join(dir, "archives")
	names := func(out string) []string {
		t.Helper()
		var rep struct {
			SIPs []struct{ Name string } `json:"sips"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var n []string
		for _, s := range rep.SIPs {
			n = append(n, s.Name)
		}
		return n
	}
	runAt := func(asOf, state, target string) (string, int) {
		return run(t, "run", "--profile", "harpege", "--source", db, "--as-of", asOf, "--target", "dir://"+target,
			"--state", filepath.Join(dir, state), "--batch-dossiers", "1000", "--json")
	}
	out, code := runAt("2040-01-01", "s1", archives)
	if code != 0 {
		t.Fatalf("first run: code %d\n%s", code, out)
	}
	first := names(out)
	out, code = runAt("2060-01-01", "s2", archives)
	if code != 0 {
		t.Fatalf("a second state folder, another as-of date, the same target: code %d\n%s", code, out)
	}
	second := names(out)
	for _, n := range second {
		if slices.Contains(first, n) {
			t.Errorf("SIP %s named the same as of 2040-01-01 and 2060-01-01 (%v, %v)", n, first, second)
		}
	}
	// The same run again, from a fresh state folder, into another target: the same names.
	out, code = runAt("2040-01-01", "s3", filepath.Join(dir, "again"))
	if code != 0 || !slices.Equal(names(out), first) {
		t.Fatalf("the same run twice: code %d, names %v then %v\n%s", code, first, names(out), out)
	}
	// Into the first target: the same bytes are already there, nothing conflicts.
	if out, code := runAt("2040-01-01", "s4", archives); code != 0 || !slices.Equal(names(out), first) {
		t.Fatalf("the same run into a target that has its SIPs: code %d\n%s", code, out)
	}

	// Another SIP under the name at the target: the run stops and says what to do.
	other := filepath.Join(dir, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, first[0]), []byte("not this SIP"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, "run", "--profile", "harpege", "--source", db, "--as-of", "2040-01-01", "--target", "dir://"+other,
		"--state", filepath.Join(dir, "s5"), "--batch-dossiers", "1000")
	state := filepath.Join(dir, "s5")
	spooled := filepath.Join(state, "spool", first[0])
	want := "ERR: SIP " + first[0] + ": " + filepath.Join(other, first[0]) + ": a different SIP is already stored under this name"
	tail := ": nothing was overwritten. The target holds another SIP of the same dossiers and as-of date (written from other data, or by another state folder or version); " +
		"compare the two (versement verify " + spooled + " and the one at the target), then move the target's copy aside or send to another target: " +
		"until then every run with the state " + state + " stops here\n"
	if code != exitError || !strings.Contains(out, want) || !strings.HasSuffix(out, tail) || strings.Contains(out, "the next run sends it") {
		t.Fatalf("a name conflict at the target: code %d\n%s\nwant %s…%s", code, out, want, tail)
	}
}

// TestRunStateFolderInUse: a run on a state folder another run holds (with another --ledger) does
// not start, and says who holds it.
func TestRunStateFolderInUse(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(state, "state.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := flock.TryLock(f); err != nil {
		t.Fatal(err)
	}
	holder := "pid 4242, ledger /srv/a.jsonl, since 2026-12-03T18:00:00Z"
	if _, err := f.WriteString(holder); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "run", "--profile", "apogee", "--source", db, "--as-of", "2026-11-30", "--target", "dir://"+filepath.Join(dir, "out"),
		"--state", state, "--ledger", filepath.Join(dir, "b.jsonl"))
	want := "ERR: state folder " + state + " is in use by another run (" + holder + "): two runs must not share a state folder; " +
		"wait for that run to end, or give this one its own state folder\n"
	if code != exitError || out != want {
		t.Fatalf("code %d, output\n%s\nwant %d\n%s", code, out, exitError, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run created its ledger: %v", err)
	}
}

// TestRunRebuildsASpooledSIPNotMatchingItsRecord: a SIP left in the spool whose file is not the one
// the state recorded (another run sharing the folder wrote over it) is set aside and written again
// by the run that finds it, which says so; it is not retried for ever.
func TestRunRebuildsASpooledSIPNotMatchingItsRecord(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	archives, state := filepath.Join(dir, "archives"), filepath.Join(dir, "state")
	args := []string{"run", "--profile", "apogee", "--source", db, "--as-of", "2026-11-30", "--target", "dir://" + archives,
		"--state", state, "--batch-dossiers", "50"}
	if out, code := run(t, args...); code != 0 {
		t.Fatalf("run: code %d\n%s", code, out)
	}
	names, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if len(names) < 2 {
		t.Fatal("want two SIPs")
	}
	name := filepath.Base(names[0])
	other, err := os.ReadFile(names[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "spool", name), other, 0o644); err != nil {
		t.Fatal(err)
	}
	sdb, err := sql.Open("sqlite", "file:"+filepath.Join(state, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	if err := sdb.QueryRow(`SELECT bytes FROM sips WHERE name = ?`, name).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`UPDATE sips SET status = 'spooled', target = '', ledger_seq = 0 WHERE name = ?`, name); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	if int64(len(other)) == size {
		t.Skip("the two SIPs have one size")
	}
	out, code := run(t, args...)
	kept := filepath.Join(state, "spool", "damaged", name)
	want := fmt.Sprintf("\nspool: SIP %s did not match its record (%d bytes, the state recorded %d): set aside as %s, written again by this run\n", name, len(other), size, kept)
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("run over a spooled SIP not matching its record: exit %d\n%s\nwant it to hold\n%s", code, out, want)
	}
	if out, code := run(t, "verify", "--ledger", filepath.Join(state, "ledger.jsonl"), "--target", "dir://"+archives); code != 0 {
		t.Errorf("verify --ledger: exit %d\n%s", code, out)
	}
	if out, code := run(t, args...); code != 0 || !strings.Contains(out, "nothing new was archived: 0 SIPs") {
		t.Errorf("the next run: exit %d\n%s", code, out)
	}
}

// A legal hold protects a dossier from destruction, not from preservation: when the base is
// decommissioned (or --tiers held asks for it), a held dossier is archived as intermediate with
// its HoldRule; under SEDA 2.1, which has no HoldRule, the run refuses.
func TestRunArchivesHeldDossiers(t *testing.T) {
	db := cliDemo(t, "apogee")
	dir := t.TempDir()
	prof := destroyingProfile(t, dir, "holds:\n  - id: HOL-TA-2025\n    where: 'true'\n    reason: contentieux TA\n    since: 2025-01-10\n")
	for name, version := range map[string]string{"p22.yaml": "2.2", "p21.yaml": "2.1"} {
		pv := strings.Replace(prof, `version: "2.2"`, `version: "`+version+`"`, 1)
		if !strings.Contains(pv, `version: "`+version+`"`) {
			t.Fatalf("the built-in profile's seda.version is not spelled as the test expects")
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Without decommission the held dossiers stay in the base; decommission archives them.
	out, code := run(t, "run", "--profile", filepath.Join(dir, "p22.yaml"), "--source", db, "--dry-run", "--as-of", "2060-01-01")
	if code != 0 || !regexp.MustCompile(`\n  held +[1-9][0-9]*  legal hold: kept in place\n`).MatchString(out) {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	out, code = run(t, "run", "--profile", filepath.Join(dir, "p22.yaml"), "--source", db, "--dry-run", "--as-of", "2060-01-01", "--decommission")
	if code != 0 || !regexp.MustCompile(`\n  held +[1-9][0-9]*  would be archived as intermediate, with their HoldRule\n`).MatchString(out) {
		t.Fatalf("dry run, decommission: %d\n%s", code, out)
	}
	archives := filepath.Join(dir, "archives")
	out, code = run(t, "run", "--profile", filepath.Join(dir, "p22.yaml"), "--source", db, "--target", "dir://"+archives,
		"--state", filepath.Join(dir, "state"), "--as-of", "2060-01-01", "--tiers", "held")
	if code != 0 || !regexp.MustCompile(`\n  held +[1-9][0-9]*  archived as intermediate, with their HoldRule\n`).MatchString(out) {
		t.Fatalf("--tiers held: exit %d\n%s", code, out)
	}
	sips, _ := filepath.Glob(filepath.Join(archives, "*-intermediate-*.zip"))
	if len(sips) == 0 {
		t.Fatalf("no intermediate SIP for the held dossiers\n%s", out)
	}
	zr, err := zip.OpenReader(sips[0])
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := zr.Open("manifest.xml")
	m, _ := io.ReadAll(rc)
	rc.Close()
	zr.Close()
	if !strings.Contains(string(m), "<HoldRule>") || !strings.Contains(string(m), "HOL-TA-2025") {
		t.Errorf("the held dossiers' SIP has no HoldRule")
	}
	out, code = run(t, "run", "--profile", filepath.Join(dir, "p21.yaml"), "--source", db, "--target", "dir://"+filepath.Join(dir, "a21"),
		"--state", filepath.Join(dir, "s21"), "--as-of", "2060-01-01", "--decommission")
	if code != 2 || !strings.Contains(out, "is under legal hold HOL-TA-2025: SEDA 2.1 has no HoldRule, so its SIP would lose the hold; set seda.version to 2.2 or 2.3 in the profile") {
		t.Fatalf("2.1 with holds: exit %d\n%s", code, out)
	}
}
