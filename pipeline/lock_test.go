package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two runs on one state folder with two ledger files both started, shared a spool file and left a
// SIP of the wrong size there (issue 11): the second run is refused before it does anything, with
// a message naming the run that holds the folder; once that one ends, the folder is free.
func TestStateFolderIsLocked(t *testing.T) {
	db := demoDB(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out")
	ledgerA, ledgerB := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	job := func(ledger string) JobSpec {
		return JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out, State: state,
			Ledger: ledger, AsOf: e2eAsOf, MaxDossiers: e2eBatch}
	}
	// The first run stops after its first SIP until the second has tried.
	sent, release := make(chan struct{}), make(chan struct{})
	first := job(ledgerA)
	n := 0
	first.OnSIP = func(SIP) {
		if n++; n == 1 {
			close(sent)
			<-release
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := Execute(context.Background(), first)
		done <- err
	}()
	<-sent
	rep, err := Execute(context.Background(), job(ledgerB))
	close(release)
	if ferr := <-done; ferr != nil {
		t.Fatalf("the first run: %v", ferr)
	}
	prefix := fmt.Sprintf("state folder %s is in use by another run (pid %d, ledger %s, since ", state, os.Getpid(), ledgerA)
	suffix := "): two runs must not share a state folder; wait for that run to end, or give this one its own state folder"
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), suffix) || rep != nil {
		t.Fatalf("the second run on the same state folder: %v (report %v)\nwant %s…%s", err, rep, prefix, suffix)
	}
	if _, err := os.Stat(ledgerB); !os.IsNotExist(err) {
		t.Errorf("the refused run opened its ledger: %v", err)
	}
	// The first run is over: the folder is free again.
	if _, err := Execute(context.Background(), job(ledgerA)); err != nil {
		t.Fatalf("a run after the first ended: %v", err)
	}
}
