//go:build !unix

package schedule

import "errors"

// Lock is not implemented outside Unix: the scheduler refuses to run rather than run unlocked.
type Lock struct{}

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked")

// TryLock fails: only Unix's flock gives a lock that a dead process cannot keep.
func TryLock(path string) (*Lock, error) {
	return nil, errors.New("versement schedule needs a Unix system (flock)")
}

// Unlock does nothing.
func (l *Lock) Unlock() error { return nil }
