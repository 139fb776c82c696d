// Package retry wraps any transfer.Target so that transient failures are retried with
// exponential backoff and full jitter, a bounded number of times, while permanent ones fail at
// once. Put is safe to retry because every target's Put is idempotent.
//
// The backends classify their own errors (transfer.Transient, transfer.Permanent, and
// transfer.Network for the network's failures): S3 knows which of its error codes mean "slow
// down", VITAM which of its answers mean "try later", a folder that a read-only file system is not
// cured by waiting. This package reads only those marks: an error nobody marked transient is not
// retried.
package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// Target is the decorator. Of the optional capabilities it implements only transfer.Resumer,
// and only when the target it wraps has it (Wrap returns a type that has Resume then, and only
// then); the others (transfer.Prober, transfer.Indexed) transfer.As finds in the wrapped target
// through Unwrap.
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

// Retryable says whether err is worth another try: whether the backend that returned it marked
// it transient (transfer.Transient, transfer.Network) and nothing in it permanent. This package
// knows no backend's error codes, nor the network's: each backend classifies its own failures.
func Retryable(err error) bool { return transfer.IsTransient(err) }
