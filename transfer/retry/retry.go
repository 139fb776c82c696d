// Package retry wraps any transfer.Target so that transient failures (timeouts, connection
// resets, 5xx, SlowDown) are retried with exponential backoff and full jitter, a bounded number
// of times, while permanent ones (403, BadDigest, other 4xx, a conflict, a KO) fail at once.
// Put is safe to retry because every target's Put is idempotent.
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

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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

// Target is the decorator.
type Target struct {
	inner transfer.Target
	p     Policy
	sleep func(context.Context, time.Duration) error
}

// Wrap returns t with retries.
func Wrap(t transfer.Target, p Policy) *Target {
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

// Resume passes through to the wrapped target if it can resume, else ErrNotSupported.
func (t *Target) Resume(ctx context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	if r, ok := t.inner.(transfer.Resumer); ok {
		return r.Resume(ctx, sip, op)
	}
	return transfer.Receipt{}, transfer.ErrNotSupported
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

// Retryable says whether err is worth another try.
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
	if errors.Is(err, transfer.ErrConflict) || errors.Is(err, transfer.ErrRejected) || errors.Is(err, transfer.ErrDigest) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException", "TooManyRequests":
			return true
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 { // 0: no answer at all, see below
		code := resp.HTTPStatusCode()
		return code >= 500 || code == 408 || code == 429
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
