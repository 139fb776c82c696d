package main

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/flock"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/platform"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// testEstablishment is one establishment of the test platform, with the identifiers its SIPs
// must carry and no other's.
type testEstablishment struct {
	id, profile, agency, submission, agreement string
}

var testEstablishments = []testEstablishment{
	{"univ-a", "apogee", "UNIVA-SCOL", "UNIVA-DSI", "IC-UNIVA-000001"},
	{"univ-b", "harpege", "UNIVB-RH", "UNIVB-DSI", "IC-UNIVB-000001"},
	{"univ-c", "apogee", "UNIVC-SCOL", "UNIVC-DSI", "IC-UNIVC-000001"},
}

// foreignIDs are identifiers a SIP of e must not name: the other establishments' and the
// built-in profiles' own (which an establishment's SIPs replace).
func foreignIDs(e testEstablishment) []string {
	out := []string{"ETAB-SCOL", "ETAB-DSI", "ETAB-RH", "IC-APOGEE-000001", "IC-HARPEGE-000001"}
	for _, o := range testEstablishments {
		if o.id != e.id {
			out = append(out, o.agency, o.submission, o.agreement)
		}
	}
	return out
}

// writeTestPlatform creates a demo database per establishment and the platform file over them:
// every folder under root, every source a secret of its own (env for univ-a and univ-b, a file
// for univ-c). cron is the jobs' spec.
func writeTestPlatform(t *testing.T, root, cron string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	fmt.Fprintf(&b, "state_root: %s/state\ntimezone: Europe/Paris\nestablishments:\n", root)
	for i, e := range testEstablishments {
		db := filepath.Join(root, e.id+".db")
		if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: e.profile, Dossiers: 150, Seed: uint64(11 + i)}); err != nil {
			t.Fatal(err)
		}
		source := fmt.Sprintf("{env: VERSEMENT_TEST_%s_DSN}", strings.ToUpper(strings.ReplaceAll(e.id, "-", "")))
		if e.id == "univ-c" {
			secret := filepath.Join(root, "secrets", "univ-c.dsn")
			if err := os.MkdirAll(filepath.Dir(secret), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(secret, []byte("sqlite:"+db+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			source = "{file: " + secret + "}"
		} else {
			t.Setenv(fmt.Sprintf("VERSEMENT_TEST_%s_DSN", strings.ToUpper(strings.ReplaceAll(e.id, "-", ""))), "sqlite:"+db)
		}
		fmt.Fprintf(&b, `  - id: %[1]s
    name: Université %[1]s
    seda:
      originating_agency: %[2]s
      submission_agency: %[3]s
      archival_agreement: %[4]s
    profiles:
      - profile: %[5]s
    targets:
      intermediate: dir://%[6]s/archives/%[1]s/intermediate
      final: dir://%[6]s/archives/%[1]s/final
    jobs:
      - name: %[5]s-nightly
        cron: %[7]q
        profile: %[5]s
        source: %[8]s
        as_of: "2026-11-30"
        batch: {max_dossiers: 40}
`, e.id, e.agency, e.submission, e.agreement, e.profile, root, cron, source)
	}
	// univ-a's apogee runs on its own schedule extension, univ-c's on a profile file of its own,
	// both written relative to the platform file.
	y := strings.Replace(b.String(), "      - profile: apogee\n", "      - profile: apogee\n        schedule: schedules/univ-a-apogee.yaml\n", 1)
	y = strings.Replace(y, "      - profile: apogee\n    targets:\n      intermediate: dir://"+root+"/archives/univ-c",
		"      - profile: profiles/univ-c-apogee.yaml\n    targets:\n      intermediate: dir://"+root+"/archives/univ-c", 1)
	if !strings.Contains(y, "univ-c-apogee.yaml") || !strings.Contains(y, "univ-a-apogee.yaml") {
		t.Fatal("the platform file was not rewritten")
	}
	src, err := profiles.BuiltinSource("apogee")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string][]byte{
		"schedules/univ-a-apogee.yaml": []byte("extends: apogee\nschedule: apogee-univ-a\n"),
		"profiles/univ-c-apogee.yaml":  src,
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(root, "platform.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Three establishments in one configuration, one job each on its own demo base: each one's SIPs
// name only its own originating agency and ingest contract, each one's ledger verifies alone
// against its own targets (which hold nothing the ledger does not list), and its contracts
// export has the identifiers its SIPs use.
func TestPlatformThreeEstablishmentsEachArchivesItsOwn(t *testing.T) {
	root := t.TempDir()
	path := writeTestPlatform(t, root, "0 30 2 * * *")
	out, code := run(t, "schedule", "--platform", path, "--check")
	if code != 0 || !strings.Contains(out, "platform.yaml: 3 establishments (univ-a, univ-b, univ-c), 3 jobs, valid") ||
		!regexp.MustCompile(`(?m)^univ-b\s+univ-b\.harpege-nightly\s+0 30 2 \* \* \*\s+Europe/Paris\s+harpege\s+env VERSEMENT_TEST_UNIVB_DSN\s+`+regexp.QuoteMeta(filepath.Join(root, "state", "univ-b"))).MatchString(out) {
		t.Fatalf("--check: %d\n%s", code, out)
	}
	for _, e := range testEstablishments {
		start := time.Now()
		if out, code := run(t, "schedule", "--platform", path, "--once", e.id+"."+e.profile+"-nightly", "--listen", ""); code != 0 {
			t.Fatalf("%s: exit %d\n%s", e.id, code, out)
		}
		t.Logf("%s: run in %v", e.id, time.Since(start).Round(time.Millisecond))
	}
	pc, err := platform.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := pc.Establishment("univ-a")
	if p, err := a.Profile("apogee"); err != nil || p.Schedule().Name != "apogee-univ-a" {
		t.Errorf("univ-a's apogee schedule: %v %v", err, p)
	}
	ctx := context.Background()
	for _, te := range testEstablishments {
		e, _ := pc.Establishment(te.id)
		sips := 0
		for _, tier := range []string{"intermediate", "final"} {
			zips, _ := filepath.Glob(filepath.Join(root, "archives", te.id, tier, "*.zip"))
			for _, z := range zips {
				checkSIPNamesOnly(t, z, te)
			}
			sips += len(zips)
			if len(zips) == 0 {
				continue
			}
			tg, err := targets.Open(ctx, e.Targets[tier], targets.Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, err := ledger.Verify(ctx, e.Ledger, tg)
			if err != nil || !a.OK() {
				t.Errorf("%s's ledger against its %s target: %v %+v", te.id, tier, err, a)
			}
		}
		if sips < 2 {
			t.Errorf("%s: %d SIPs: the test proves nothing", te.id, sips)
		}
		// Its state (state.db, index.db, ledger) is in its own folder, and nothing of it elsewhere.
		for _, f := range []string{"state.db", "index.db", "ledger.jsonl"} {
			if _, err := os.Stat(filepath.Join(e.State, f)); err != nil {
				t.Errorf("%s: %v", te.id, err)
			}
		}
		checkContractsExport(t, path, te, filepath.Join(root, "archives", te.id))
	}
	// Nothing outside the establishments' own folders.
	entries, _ := os.ReadDir(filepath.Join(root, "archives"))
	if len(entries) != 3 {
		t.Errorf("archives holds %d folders, want one per establishment", len(entries))
	}
	if out, code := run(t, "contracts", "export", "--platform", path, "--establishment", "univ-d"); code != 2 ||
		!strings.Contains(out, `contracts export: no establishment "univ-d" in `+path+` (establishments: univ-a, univ-b, univ-c)`) {
		t.Errorf("unknown establishment: %d %s", code, out)
	}
}

// checkSIPNamesOnly reads a SIP's manifest: its ingest contract is the establishment's, its
// units' originating and submission agencies are, and no other establishment's identifier (nor
// the built-in profile's) appears anywhere in it.
func checkSIPNamesOnly(t *testing.T, path string, e testEstablishment) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	r, err := sip.Open(ctx, f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Header(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.ArchivalAgreement != e.agreement || h.TransferringAgency != e.agency {
		t.Errorf("%s (%s): ingest contract %q, transferring agency %q", filepath.Base(path), e.id, h.ArchivalAgreement, h.TransferringAgency)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	m, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(m)
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(b)
	for _, want := range []string{"<OriginatingAgencyIdentifier>" + e.agency + "</OriginatingAgencyIdentifier>",
		"<SubmissionAgencyIdentifier>" + e.submission + "</SubmissionAgencyIdentifier>", "<ArchivalAgreement>" + e.agreement + "</ArchivalAgreement>"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("%s (%s): no %s in the manifest", filepath.Base(path), e.id, want)
		}
	}
	for _, id := range foreignIDs(e) {
		if strings.Contains(manifest, id) {
			t.Errorf("%s (%s) names %s, which is not its own", filepath.Base(path), e.id, id)
		}
	}
}

// checkContractsExport exports the establishment's contracts and compares them with what its
// SIPs (under archives) name.
func checkContractsExport(t *testing.T, platformFile string, e testEstablishment, archives string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vitam-"+e.id)
	out, code := run(t, "contracts", "export", "--platform", platformFile, "--establishment", e.id, "--dir", dir)
	upper := strings.ToUpper(e.id)
	if want := fmt.Sprintf("establishment %s: ingest contract %s, access contracts AC-%s-CONSULTATION and AC-%s-ARCHIVES, written into %s\n", e.id, e.agreement, upper, upper, dir); code != 0 || out != want {
		t.Fatalf("contracts export %s: %d\n%s\nwant %s", e.id, code, out, want)
	}
	var ics []contracts.Ingest
	var acs []contracts.Access
	for name, v := range map[string]any{"ingest-contracts.json": &ics, "access-contracts.json": &acs} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
	}
	f, err := os.Open(filepath.Join(dir, "agencies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	agencies := map[string]bool{}
	for _, r := range rows[1:] {
		agencies[r[0]] = true
	}
	if len(ics) != 1 || ics[0].Identifier != e.agreement || ics[0].Status != "ACTIVE" {
		t.Errorf("%s: ingest contracts %+v, want %s", e.id, ics, e.agreement)
	}
	if len(acs) != 2 || acs[0].Identifier != "AC-"+upper+"-CONSULTATION" || acs[1].Identifier != "AC-"+upper+"-ARCHIVES" {
		t.Fatalf("%s: access contracts %+v", e.id, acs)
	}
	for _, ac := range acs {
		if ac.WritingPermission || ac.AccessLog != "ACTIVE" || ac.EveryOriginatingAgency || len(ac.OriginatingAgencies) != 1 || ac.OriginatingAgencies[0] != e.agency {
			t.Errorf("%s: access contract %+v: want read-only, logged, %s only", e.id, ac, e.agency)
		}
	}
	// Every agency its SIPs name is in agencies.csv, and no other establishment's.
	zips, _ := filepath.Glob(filepath.Join(archives, "*", "*.zip"))
	ctx := context.Background()
	for _, z := range zips[:1] {
		fh, _ := os.Open(z)
		fi, _ := fh.Stat()
		r, err := sip.Open(ctx, fh, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		h, err := r.Header(ctx)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{h.ArchivalAgency, h.TransferringAgency, e.agency, e.submission} {
			if !agencies[a] {
				t.Errorf("%s: %s names %s, not in agencies.csv %v", e.id, filepath.Base(z), a, rows)
			}
		}
	}
	for _, id := range foreignIDs(e) {
		if agencies[id] {
			t.Errorf("%s: agencies.csv lists %s", e.id, id)
		}
	}
}

// `schedule --platform` as a service: univ-b's source is not a database, and univ-c's state
// folder is held by another process; univ-a's job still runs, and again at its next activation,
// univ-b's and univ-c's fail on their own, and /metrics and /healthz say which establishment is
// which. SIGTERM then stops it cleanly.
func TestSchedulePlatformOneEstablishmentBrokenTheOthersRun(t *testing.T) {
	root := t.TempDir()
	path := writeTestPlatform(t, root, "@every 1s")
	broken := filepath.Join(root, "broken.db")
	if err := os.WriteFile(broken, []byte("this is not a database, whatever its name says\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_UNIVB_DSN", "sqlite:"+broken)
	// Another run holds univ-c's state folder, as a run started by hand would.
	if err := os.MkdirAll(filepath.Join(root, "state", "univ-c"), 0o755); err != nil {
		t.Fatal(err)
	}
	lf, err := os.OpenFile(filepath.Join(root, "state", "univ-c", "state.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := flock.TryLock(lf); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startSchedule(t, "default", "schedule", "--platform", path, "--listen", addr)
	byName := func() map[string]nightly.JobHealth {
		h, err := getHealth(addr)
		if err != nil {
			return nil
		}
		m := map[string]nightly.JobHealth{}
		for _, j := range h.Jobs {
			m[j.Name] = j
		}
		return m
	}
	// Two runs of each: a failure in one establishment stops neither the others nor its own next run.
	twice := regexp.MustCompile(`(?m)^versement_schedule_runs_total\{establishment="univ-(a|b|c)",job="[^"]+",outcome="(ok|failed)"\} ([2-9]|\d\d+)$`)
	waitFor(t, 90*time.Second, "two runs of every establishment's job", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return len(twice.FindAllString(string(b), -1)) == 3
	})
	m := byName()
	a, b, c := m["univ-a.apogee-nightly"], m["univ-b.harpege-nightly"], m["univ-c.apogee-nightly"]
	if a.LastOutcome != nightly.OK || a.Establishment != "univ-a" {
		t.Errorf("univ-a: %+v", a)
	}
	if b.LastOutcome != nightly.Failed || b.Establishment != "univ-b" || !strings.Contains(b.LastError, "not a database") {
		t.Errorf("univ-b: %s %q", b.LastOutcome, b.LastError)
	}
	if c.LastOutcome != nightly.Failed || !strings.Contains(c.LastError, "is in use by another run") {
		t.Errorf("univ-c: %s %q", c.LastOutcome, c.LastError)
	}
	metrics := getMetrics(t, addr)
	for _, re := range []string{
		`versement_schedule_runs_total\{establishment="univ-a",job="univ-a.apogee-nightly",outcome="ok"\} ([2-9]|\d\d)`,
		`versement_schedule_runs_total\{establishment="univ-a",job="univ-a.apogee-nightly",outcome="failed"\} 0`,
		`versement_schedule_runs_total\{establishment="univ-b",job="univ-b.harpege-nightly",outcome="failed"\} ([2-9]|\d\d)`,
		`versement_schedule_runs_total\{establishment="univ-c",job="univ-c.apogee-nightly",outcome="failed"\} ([2-9]|\d\d)`,
		`versement_schedule_sips_total\{establishment="univ-a",job="univ-a.apogee-nightly"\} [1-9]`,
		`versement_schedule_sips_total\{establishment="univ-b",job="univ-b.harpege-nightly"\} 0`,
	} {
		if !regexp.MustCompile(`(?m)^` + re).MatchString(metrics) {
			t.Errorf("/metrics has no line %s:\n%s", re, grepLines(metrics, "versement_schedule_runs_total"))
		}
	}
	zips, _ := filepath.Glob(filepath.Join(root, "archives", "univ-a", "*", "*.zip"))
	if len(zips) == 0 {
		t.Error("univ-a archived nothing")
	}
	for _, id := range []string{"univ-b", "univ-c"} {
		if z, _ := filepath.Glob(filepath.Join(root, "archives", id, "*", "*.zip")); len(z) != 0 {
			t.Errorf("%s archived %d SIPs despite its broken source or held state", id, len(z))
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, time.Minute); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

// What schedule and contracts export say when they are asked wrongly, and a bad platform file's
// line.
func TestPlatformCommandsRefuseBadArguments(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "platform.yaml")
	if err := os.WriteFile(bad, []byte("state_root: /srv/v\nestablishments:\n  - id: univ-a\n    name: A\n    seda: {originating_agency: A}\n    profiles: [{profile: apogee}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule"}, "ERR: schedule: give the jobs file (--jobs FILE) or the platform file (--platform FILE)\n"},
		{[]string{"schedule", "--jobs", "j.yaml", "--platform", bad}, "ERR: schedule: give --jobs or --platform, not both: a platform file holds its establishments' jobs\n"},
		{[]string{"schedule", "--platform", bad, "--check"}, "ERR: " + bad + ":5: establishments[0].seda.archival_agreement: missing: the VITAM ingest contract every SIP of the establishment names (ArchivalAgreement), e.g. IC-UNIVA-000001\n"},
		{[]string{"contracts", "export"}, "ERR: contracts export: give --profile P, or --platform FILE --establishment ID\n"},
		{[]string{"contracts", "export", "--establishment", "univ-a"}, "ERR: contracts export: --establishment needs the platform file (--platform FILE)\n"},
		{[]string{"contracts", "export", "--platform", bad}, "ERR: contracts export: --platform needs the establishment (--establishment ID)\n"},
		{[]string{"contracts", "export", "--platform", bad, "--establishment", "univ-a", "--profile", "apogee"}, "ERR: contracts export: --profile or --establishment, not both: an establishment's contracts cover all its profiles\n"},
	} {
		t.Setenv("VERSEMENT_PLATFORM", "")
		t.Setenv("VERSEMENT_JOBS", "")
		out, code := run(t, tc.args...)
		if code != 2 || out != tc.want {
			t.Errorf("%v: %d\n%s\nwant %s", tc.args, code, out, tc.want)
		}
	}
}
