package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/versement/versement/internal/flock"
)

// stateLockName is the lock file of a state folder. The ledger has its own lock, but two runs
// with two --ledger files and one state folder both started, shared a spool file and left a SIP
// of the wrong size there: the state folder itself is what must have one writer.
const stateLockName = "state.lock"

// lockState creates the state folder if needed and takes its lock (an flock: a run killed with -9
// cannot keep it). Closing the file releases it. The holder writes who it is, for the error the
// next run prints.
func lockState(dir, ledgerPath string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	path := filepath.Join(dir, stateLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if !errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("state %s: lock: %w", dir, err)
		}
		holder := "another run"
		if b, rerr := os.ReadFile(path); rerr == nil && strings.TrimSpace(string(b)) != "" {
			holder = "another run (" + strings.TrimSpace(string(b)) + ")"
		}
		return nil, fmt.Errorf("state folder %s is in use by %s: two runs must not share a state folder; wait for that run to end, or give this one its own state folder", dir, holder)
	}
	if abs, err := filepath.Abs(ledgerPath); err == nil {
		ledgerPath = abs
	}
	// Only a hint for the operator: the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "pid %d, ledger %s, since %s", os.Getpid(), ledgerPath, time.Now().UTC().Format(time.RFC3339))
	}
	return f, nil
}
