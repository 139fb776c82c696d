//go:build !unix

package flock

import (
	"errors"
	"os"
)

// TryLock fails outside Unix: only flock gives a lock that a dead process cannot keep, and
// callers refuse to work unlocked rather than risk two writers.
func TryLock(f *os.File) error {
	return errors.New("needs a Unix system (flock)")
}
