package transfer

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Errors a caller can test with errors.Is.
var (
	ErrNotExist     = errors.New("not at the target")
	ErrConflict     = errors.New("a different SIP is already stored under this name")
	ErrNotSupported = errors.New("not supported by this target")
	ErrRejected     = errors.New("rejected by the archive")
	ErrDigest       = errors.New("checksum mismatch")
)

// The classification of failures is each backend's: S3 knows which of its error codes mean "slow
// down", VITAM which of its answers mean "nothing was ingested, try later", a folder which error
// numbers no wait can cure. A backend marks what it returns with Transient or Permanent; the retry
// decorator (transfer/retry) reads only these marks (IsTransient) and knows no backend's codes.
// What no backend marked is not retried. Failures of the network itself, which every backend that
// talks to a server shares, are marked by Network.

// PermanentError marks a failure that retrying cannot fix (403, BadDigest, a KO ATR, a conflict).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the retry decorator gives up at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// TransientError marks a failure worth retrying (timeouts, resets, 5xx, SlowDown).
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err so that the retry decorator tries again.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// IsTransient says whether a backend marked err as worth another try (Transient, or Network),
// and nothing in it as permanent: a Permanent mark anywhere in the chain wins, and so does a
// cancelled context. An error nobody marked is not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var perm *PermanentError
	if errors.As(err, &perm) {
		return false
	}
	var tr *TransientError
	return errors.As(err, &tr)
}

// Network returns err marked Transient when it is a passing failure of the network (connection
// refused, reset or aborted, broken pipe, timed out, host or network unreachable, a temporary DNS
// failure, an answer cut short), and err unchanged otherwise. Backends that talk to a server call
// it on the failures they do not classify from the server's answer. An operating-system error
// number counts only when it is one of the network's: a read-only file system, a full disk or a
// permission denied is not cured by waiting (syscall.Errno satisfies net.Error, so it is judged
// first, by its number). A certificate the client does not trust is not transient either.
func Network(err error) error {
	if err == nil || !networkTransient(err) {
		return err
	}
	var tr *TransientError
	if errors.As(err, &tr) {
		return err
	}
	return Transient(err)
}

func networkTransient(err error) bool {
	var perm *PermanentError
	if errors.As(err, &perm) || errors.Is(err, context.Canceled) {
		return false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return networkErrno(errno)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTimeout || dns.IsTemporary
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	// Other net.Errors (url.Error wraps every failure of an HTTP client, a bad certificate
	// included): only a timeout.
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// networkErrno says whether an error number is one of the network's passing failures.
func networkErrno(e syscall.Errno) bool {
	switch e {
	case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.ENETRESET, syscall.EHOSTDOWN:
		return true
	}
	return false
}
