package nightly

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/versement/versement/internal/flock"
)

// Lock is an exclusive flock(2) on a job's lock file (see internal/flock): a crashed run can never
// leave its job locked. Outside Unix TryLock fails, so the scheduler refuses to run unlocked.
type Lock struct {
	f *os.File
}

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = flock.ErrLocked

// TryLock takes the lock at path without waiting. When someone else holds it, the error wraps
// ErrLocked and names the holder's pid when it wrote one.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := flock.TryLock(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = " by pid " + strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%s is held%s: %w", path, holder, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is only a hint for the operator; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
