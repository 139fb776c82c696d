package deposit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/ledger"
)

// TestProcessCrashChild is TestProcessResumesAfterKill's worker: it processes the transaction
// and kills itself with SIGKILL once the first SIP is sent.
func TestProcessCrashChild(t *testing.T) {
	d := os.Getenv("DEPOSIT_CRASH_DIR")
	if d == "" {
		t.Skip("the child of TestProcessResumesAfterKill")
	}
	var q []string
	s := newService(t, d, os.Getenv("DEPOSIT_CRASH_STATE"), "dir://"+os.Getenv("DEPOSIT_CRASH_OUT"), &q)
	job := s.cfg.Job
	s.cfg.Job = func(p *profiles.Profile) pipeline.JobSpec {
		j := job(p)
		j.OnSIP = func(pipeline.SIP) { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
		return j
	}
	s.Process(context.Background(), os.Getenv("DEPOSIT_CRASH_TX"))
	t.Fatal("not killed")
}

// TestProcessResumesAfterKill: a worker killed with SIGKILL after sending the first of a
// transaction's SIPs leaves it processing; Process in another process finishes it, every SIP
// is at the target once, the transaction names them all and the ledger verifies.
func TestProcessResumesAfterKill(t *testing.T) {
	ctx := context.Background()
	runOut, _ := demoRun(t)
	all := sipUnits(t, runOut)
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	d, state, out := t.TempDir(), t.TempDir(), t.TempDir()
	var q []string
	s := newService(t, d, state, "dir://"+out, &q)
	tx := openTx(t, s)
	for _, n := range names[:3] {
		r, closeFn := openSIP(t, filepath.Join(runOut, n))
		depositUnits(t, s, tx.ID, r, all[n])
		closeFn()
	}
	if _, err := s.Close(ctx, tx.ID, "client"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DEPOSIT_CRASH_DIR="+d, "DEPOSIT_CRASH_STATE="+state, "DEPOSIT_CRASH_OUT="+out, "DEPOSIT_CRASH_TX="+tx.ID)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed: %v", err)
	}
	if got, _ := s.Get(ctx, tx.ID); got.State != StateProcessing || len(got.SIPs) != 1 {
		t.Fatalf("after the kill: state %s, %d SIPs; want processing, 1", got.State, len(got.SIPs))
	}
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, tx.ID)
	zips, _ := filepath.Glob(filepath.Join(out, "*.zip"))
	if got.State != StateDone || len(got.SIPs) != 3 || len(zips) != 3 {
		t.Fatalf("after the resume: %s, SIPs %+v, at the target %v", got.State, got.SIPs, zips)
	}
	for _, sp := range got.SIPs {
		if all[sp.Name] == nil {
			t.Errorf("SIP %s is not one of the run's", sp.Name)
		}
	}
	tg, err := dir.Open("dir://" + out)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	a, err := ledger.VerifyWith(ctx, filepath.Join(state, "ledger.jsonl"), ledger.VerifyOptions{Target: tg})
	if err != nil || !a.OK() || a.Entries != 3 {
		t.Fatalf("ledger: %+v %v", a, err)
	}
}
