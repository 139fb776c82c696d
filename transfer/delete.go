package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Deleter is implemented by targets that can remove a SIP stored under its name: dir and s3. An
// elimination calls it on an old SIP only once the SIP rewritten without the destroyed dossiers
// is stored and recorded in the ledger, so a Delete never loses a kept dossier. A name not at the
// target is an error wrapping ErrNotExist, which the caller reads as "already done" (a run killed
// after the delete). Find it with As. The retry decorator does not claim it (a rerun of the
// elimination finishes a failed delete); the dryrun decorator does, and deletes nothing.
type Deleter interface {
	Delete(ctx context.Context, name string) error
}

// ErrLocked is wrapped by LockedError: the target refuses to delete the SIP before a date.
var ErrLocked = errors.New("locked by the archive's retention until its date")

// LockedError says that a SIP cannot be deleted yet: S3 Object Lock keeps it until Until (Mode
// COMPLIANCE or GOVERNANCE), or a legal hold keeps it with no date (Mode "legal hold", zero
// Until). The elimination lists it as to destroy when the lock ends and a later run retries.
type LockedError struct {
	Name  string
	Until time.Time
	Mode  string
}

func (e *LockedError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("SIP %s: under S3 Object Lock (%s): to destroy when the lock is lifted", e.Name, e.Mode)
	}
	return fmt.Sprintf("SIP %s: under S3 Object Lock (%s) until %s: to destroy when the lock ends", e.Name, e.Mode, e.Until.UTC().Format(time.DateOnly))
}

// Unwrap makes errors.Is(err, ErrLocked) true; waiting minutes does not lift a lock, so it is
// Permanent for the retry decorator.
func (e *LockedError) Unwrap() []error { return []error{ErrLocked, &PermanentError{Err: ErrLocked}} }
