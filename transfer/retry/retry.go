// Package retry wraps any transfer.Target so that transient failures are retried with
// exponential backoff and full jitter, a bounded number of times, while permanent ones fail at
// once. Put is safe to retry because every target's Put is idempotent.
//
// The backends classify their own errors (transfer.Transient, transfer.Permanent): S3 knows which
// of its error codes mean "slow down", VITAM which of its answers mean "try later". This package
// knows only what every backend shares: the network (connection refused or reset, timeouts, an
// answer cut short). An error number from the operating system is transient only when it is one of
// the network's: a read-only file system, a full disk or a permission denied is not cured by
// waiting, and retrying it only fills the log.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/versement/versement/transfer"
)

// Policy bounds the retries.
type Policy struct {
	Attempts int           // total tries, first included (default 5)
	Base     time.Duration // first backoff (default 1 s); doubles each time
	Max      time.Duration // cap on one backoff (default 1 min)
	Log      *slog.Logger
}

// DefaultPolicy: 5 tries over about 15 s in the worst case, which rides out a server restart.
var DefaultPolicy = Policy{Attempts: 5, Base: time.Second, Max: time.Minute}

// Target is the decorator. It claims the optional capabilities (transfer.Resumer) of the
// target it wraps, and only those: Wrap returns a type that has Resume only when the wrapped
// target has it.
type Target struct {
	inner transfer.Target
	p     Policy
	sleep func(context.Context, time.Duration) error
}

// resumer is Target for a wrapped target that can resume.
type resumer struct {
	*Target
	r transfer.Resumer
}

// Resume waits for the verdict on an operation already sent. It is not retried: waiting is the
// wrapped target's own business (VITAM polls until its timeout).
func (t resumer) Resume(ctx context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	return t.r.Resume(ctx, sip, op)
}

// Wrap returns t with retries; the result is a transfer.Resumer exactly when t is one.
func Wrap(t transfer.Target, p Policy) transfer.Target {
	d := newTarget(t, p)
	if r, ok := t.(transfer.Resumer); ok {
		return resumer{d, r}
	}
	return d
}

func newTarget(t transfer.Target, p Policy) *Target {
	if p.Attempts <= 0 {
		p.Attempts = DefaultPolicy.Attempts
	}
	if p.Base <= 0 {
		p.Base = DefaultPolicy.Base
	}
	if p.Max <= 0 {
		p.Max = DefaultPolicy.Max
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	return &Target{inner: t, p: p, sleep: transfer.Sleep}
}

func (t *Target) String() string          { return t.inner.String() }
func (t *Target) Close() error            { return t.inner.Close() }
func (t *Target) Unwrap() transfer.Target { return t.inner }

func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	var r transfer.Receipt
	err := t.do(ctx, "put "+sip.Name, func() (err error) { r, err = t.inner.Put(ctx, sip); return err })
	return r, err
}

func (t *Target) Stat(ctx context.Context, name string) (transfer.Object, error) {
	var o transfer.Object
	err := t.do(ctx, "stat "+name, func() (err error) { o, err = t.inner.Stat(ctx, name); return err })
	return o, err
}

// List is retried only if it fails before fn has seen any object, so fn never sees one twice.
func (t *Target) List(ctx context.Context, fn func(transfer.Object) error) error {
	seen := false
	return t.do(ctx, "list", func() error {
		if seen {
			return transfer.Permanent(errors.New("list interrupted midway"))
		}
		return t.inner.List(ctx, func(o transfer.Object) error { seen = true; return fn(o) })
	})
}

func (t *Target) do(ctx context.Context, what string, f func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = f()
		if err == nil || !Retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= t.p.Attempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", t.inner, attempt, err)
		}
		d := t.backoff(attempt)
		t.p.Log.Warn("transfer: transient failure, retrying", "target", t.inner.String(), "op", what,
			"attempt", attempt, "of", t.p.Attempts, "wait", d.String(), "err", err.Error())
		if serr := t.sleep(ctx, d); serr != nil {
			return err
		}
	}
}

// backoff is "full jitter": uniform in [0, min(Max, Base·2^(attempt-1))], with a floor of Base/2
// so that a retry never hammers the server immediately.
func (t *Target) backoff(attempt int) time.Duration {
	d := t.p.Base << (attempt - 1)
	if d > t.p.Max || d <= 0 {
		d = t.p.Max
	}
	return t.p.Base/2 + time.Duration(rand.Int64N(int64(d)))
}

// Retryable says whether err is worth another try: marked transient by its backend, or a
// failure of the network itself. Anything else (a permanent failure, a cancelled context, an
// error number that is not the network's, an error nobody classified) is not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var perm *transfer.PermanentError
	if errors.As(err, &perm) {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var tr *transfer.TransientError
	if errors.As(err, &tr) {
		return true
	}
	if errors.Is(err, transfer.ErrConflict) || errors.Is(err, transfer.ErrRejected) || errors.Is(err, transfer.ErrDigest) ||
		errors.Is(err, transfer.ErrNotExist) || errors.Is(err, transfer.ErrNotSupported) {
		return false
	}
	// syscall.Errno satisfies net.Error (it has Timeout and Temporary), so it is judged first, by
	// its number, wherever it comes from.
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
