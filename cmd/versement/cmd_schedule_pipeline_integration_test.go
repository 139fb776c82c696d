package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/transfer/ledger"
)

// The nightly job with the real pipeline: a SIGTERM in the middle of a run stops it at a safe point,
// the next run finishes the work, and the archive and the ledger end up exactly as after one
// uninterrupted run — nothing lost, nothing sent twice.
func TestScheduleSIGTERMMidRunThenResumeWithThePipeline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "apogee.db")
	if _, err := demo.CreateSQLite(context.Background(), db, demo.Options{Profile: "apogee", Dossiers: 3000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_NIGHTLY_DSN", "sqlite:"+db)

	// jobs writes a jobs file whose targets and state live under root.
	jobs := func(root string) string {
		p := filepath.Join(root, "jobs.yaml")
		y := fmt.Sprintf(`timezone: Europe/Paris
jobs:
  - name: apogee-nightly
    cron: "0 30 3 * * *"
    profile: apogee
    source: {env: VERSEMENT_TEST_NIGHTLY_DSN}
    as_of: "2026-11-30"
    batch: {max_dossiers: 10}
    targets:
      intermediate: "dir://%[1]s/archives/intermediate"
      final: "dir://%[1]s/archives/final"
`, root)
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	once := func(root string) *scheduleProc {
		return startSchedule(t, "default", "schedule", "--jobs", jobs(root), "--state-dir", filepath.Join(root, "state"), "--listen", "", "--once", "apogee-nightly")
	}

	whole := t.TempDir()
	if code := once(whole).wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("uninterrupted run: exit %d", code)
	}
	want := archiveState(t, whole)
	if len(want) < 20 {
		t.Fatalf("the uninterrupted run wrote only %d files", len(want))
	}

	cut := t.TempDir()
	p := once(cut)
	waitFor(t, time.Minute, "the first SIPs", func() bool {
		n, _ := filepath.Glob(filepath.Join(cut, "archives", "final", "*.zip"))
		return len(n) >= 3
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// --once exits 143 (128 + SIGTERM) when the run was interrupted, so that systemd or
	// Kubernetes runs it again and a script tells it from a failure (2).
	if code := p.wait(t, time.Minute); code != 143 {
		t.Fatalf("interrupted run: exit %d, want 143 (did it finish before the signal?)", code)
	}
	if got := archiveState(t, cut); len(got) >= len(want) {
		t.Fatalf("the interrupted run already wrote everything (%d files): the test proves nothing", len(got))
	}
	if code := once(cut).wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("resumed run: exit %d", code)
	}
	got := archiveState(t, cut)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive after interruption and resume differs from an uninterrupted run:\n got %d files\nwant %d files", len(got), len(want))
	}
	// The ledgers list the same SIPs with the same digests, in any order, once each.
	if a, b := ledgerSIPs(t, whole), ledgerSIPs(t, cut); a != b {
		t.Errorf("ledger after resume:\n%s\nuninterrupted:\n%s", b, a)
	}
}

// archiveState lists the SIPs under root/archives with their SHA-256, sorted.
func archiveState(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, tier := range []string{"intermediate", "final"} {
		files, _ := filepath.Glob(filepath.Join(root, "archives", tier, "*.zip"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s/%s %x", tier, filepath.Base(f), sha256.Sum256(b)))
		}
	}
	sort.Strings(out)
	return out
}

// ledgerSIPs is the set of (SIP, SHA-256) lines recorded in a job's ledger, sorted.
func ledgerSIPs(t *testing.T, root string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(root, "state", "*", "*", "ledger.jsonl"))
	more, _ := filepath.Glob(filepath.Join(root, "state", "*", "ledger.jsonl"))
	matches = append(matches, more...)
	if len(matches) != 1 {
		t.Fatalf("ledger files under %s: %v", root, matches)
	}
	var lines []string
	rep, err := ledger.Read(matches[0], func(e ledger.Entry) { lines = append(lines, e.SIP+" "+e.SHA256) })
	if err != nil || !rep.OK() {
		t.Fatalf("ledger %s: %+v %v", matches[0], rep, err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
