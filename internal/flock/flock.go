// Package flock takes exclusive flock(2) locks. The kernel releases such a lock when the holder's
// file descriptor closes, including when the process dies (kill -9, OOM), so a crash can never
// leave a file locked; a lock file left on disk means nothing by itself.
package flock

import "errors"

// ErrLocked is returned by TryLock when another open file description holds the lock.
var ErrLocked = errors.New("locked")
