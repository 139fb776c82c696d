package transfer

import (
	"errors"
	"testing"
	"time"
)

func TestLockedError(t *testing.T) {
	err := error(&LockedError{Name: "apogee-etudiant-intermediate-00001.zip", Until: time.Date(2031, 6, 30, 0, 0, 0, 0, time.UTC), Mode: "COMPLIANCE"})
	want := "SIP apogee-etudiant-intermediate-00001.zip: under S3 Object Lock (COMPLIANCE) until 2031-06-30: to destroy when the lock ends"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if !errors.Is(err, ErrLocked) || IsTransient(err) {
		t.Errorf("a lock: Is(ErrLocked) = %v, IsTransient = %v; want true, false", errors.Is(err, ErrLocked), IsTransient(err))
	}
}
