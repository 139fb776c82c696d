package deposit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/versement/versement/internal/flock"
)

// lockWait is how long a request waits for a transaction another request or process is changing
// before it is refused as a Conflict: uploads of one object are sequential, so a wait is short
// unless a worker holds the transaction to process it.
const lockWait = 10 * time.Second

// lockFile takes the flock on path, waiting up to wait (0: until ctx ends). flock rather than a
// mutex: the server and the workers are separate processes, and the kernel releases the lock of
// a process that dies. Two opens of one file conflict within one process too.
func lockFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("deposit: lock: %w", err)
	}
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	pause := 5 * time.Millisecond
	for {
		err := flock.TryLock(f)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, flock.ErrLocked) {
			f.Close()
			return nil, fmt.Errorf("deposit: lock %s: %w", path, err)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			f.Close()
			return nil, errorf(Conflict, "", "the transaction is busy (another request or a worker is changing it): try again later")
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 25*time.Millisecond)
	}
}

// lockTx takes transaction id's lock and loads its record.
func (s *Service) lockTx(ctx context.Context, id string, wait time.Duration) (*record, func(), error) {
	if _, err := s.load(id); err != nil {
		return nil, nil, err
	}
	unlock, err := lockFile(ctx, s.txDir(id)+"/tx.lock", wait)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.load(id) // again: it may have changed while we waited
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return r, unlock, nil
}
