package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Every long command stops within a second of SIGINT or SIGTERM, at a safe point, and exits
// 128 + the signal's number so that a script tells "run me again" from "broken".
func TestLongCommandsStopWithinASecond(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if out, code := run(t, "demo-db", "--profile", "apogee", "--dossiers", "20000", "--out", db); code != 0 {
		t.Fatalf("demo-db: %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		sig  syscall.Signal
		want int
		args []string
	}{
		{"run SIGINT", syscall.SIGINT, 130, []string{"run", "--profile", "apogee", "--source", db, "--target", "dir://" + filepath.Join(dir, "a1"), "--state", filepath.Join(dir, "s1"), "--as-of", "2100-01-01"}},
		{"run SIGTERM", syscall.SIGTERM, 143, []string{"run", "--profile", "apogee", "--source", db, "--target", "dir://" + filepath.Join(dir, "a2"), "--state", filepath.Join(dir, "s2"), "--as-of", "2100-01-01"}},
		{"demo-db SIGINT", syscall.SIGINT, 130, []string{"demo-db", "--profile", "apogee", "--dossiers", "2000000", "--out", filepath.Join(dir, "big.db")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startSchedule(t, "default", c.args...)
			time.Sleep(700 * time.Millisecond)
			if err := p.cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			code := p.wait(t, 30*time.Second)
			if took := time.Since(sent); took > time.Second {
				t.Errorf("stopped %v after the signal, want within a second", took.Round(time.Millisecond))
			}
			if code != c.want {
				t.Fatalf("exit %d, want %d\n%s", code, c.want, p.stderr)
			}
		})
	}
	// The interrupted run resumes: the rerun ends as an uninterrupted one would.
	out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", "dir://"+filepath.Join(dir, "a1"), "--state", filepath.Join(dir, "s1"), "--as-of", "2100-01-01")
	if code != 0 {
		t.Fatalf("rerun after SIGINT: %d\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", filepath.Join(dir, "s1", "ledger.jsonl"), "--target", "dir://"+filepath.Join(dir, "a1")); code != 0 {
		t.Fatalf("ledger after the interrupted run and its rerun: %d\n%s", code, out)
	}
	// An interrupted demo-db leaves no half-written base that a later quickstart would take.
	if left, _ := filepath.Glob(filepath.Join(dir, "*big.db*")); len(left) != 0 {
		t.Errorf("an interrupted demo-db left %v", left)
	}
}
