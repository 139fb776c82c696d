package retry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
)

type flaky struct {
	errs  []error
	calls int
}

func (f *flaky) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return transfer.Receipt{}, err
	}
	return transfer.Receipt{Name: sip.Name}, nil
}
func (f *flaky) Stat(context.Context, string) (transfer.Object, error)   { return transfer.Object{}, nil }
func (f *flaky) List(context.Context, func(transfer.Object) error) error { return nil }
func (f *flaky) String() string                                          { return "fake://" }
func (f *flaky) Close() error                                            { return nil }

func wrap(f *flaky, attempts int) (*Target, *[]time.Duration) {
	t := newTarget(f, Policy{Attempts: attempts, Base: 10 * time.Millisecond, Max: 40 * time.Millisecond})
	var waits []time.Duration
	t.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return t, &waits
}

func TestTransientRetriedThenSucceeds(t *testing.T) {
	// As the backends return them: classified by the backend (transfer.Network for the
	// network's failures, transfer.Transient for a server's "try later").
	f := &flaky{errs: []error{
		transfer.Network(&net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}),
		transfer.Transient(errors.New("S3: SlowDown: Please reduce your request rate.")),
		transfer.Network(fmt.Errorf("wrapped: %w", syscall.ECONNRESET)),
		// What an HTTP client returns when the server is down.
		transfer.Network(&url.Error{Op: "Put", URL: "https://h/x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}),
		transfer.Network(fmt.Errorf("read response: %w", io.ErrUnexpectedEOF)),
		fmt.Errorf("S3 upload: %w", transfer.Network(&url.Error{Op: "Get", URL: "https://h/x", Err: timeout{}})),
	}}
	tg, waits := wrap(f, 7)
	if _, err := tg.Put(context.Background(), transfer.SIP{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if f.calls != 7 || len(*waits) != 6 {
		t.Fatalf("calls %d waits %v", f.calls, *waits)
	}
	for i, w := range *waits {
		if w < 5*time.Millisecond || w > 45*time.Millisecond {
			t.Errorf("wait %d = %v outside [Base/2, Max+Base/2]", i, w)
		}
	}
}

type timeout struct{}

func (timeout) Error() string   { return "i/o timeout" }
func (timeout) Timeout() bool   { return true }
func (timeout) Temporary() bool { return true }

func TestPermanentFailsAtOnce(t *testing.T) {
	for _, err := range []error{
		transfer.Permanent(errors.New("AccessDenied")),
		transfer.Permanent(errors.New("BadDigest")),
		fmt.Errorf("x: %w", transfer.ErrConflict),
		fmt.Errorf("x: %w", transfer.ErrNotExist),
		context.Canceled,
		errors.New("nobody classified this"),
		// syscall.Errno satisfies net.Error: these once counted as transient.
		&fs.PathError{Op: "open", Path: "/srv/out/.versement-tmp-1", Err: syscall.EROFS},
		&fs.PathError{Op: "open", Path: "/srv/out/.versement-tmp-1", Err: syscall.EACCES},
		&fs.PathError{Op: "write", Path: "/srv/out/.versement-tmp-1", Err: syscall.ENOSPC},
		&fs.PathError{Op: "open", Path: "/srv/out/a.zip", Err: syscall.ENOENT},
		fmt.Errorf("copy: %w", syscall.EPERM),
		// A certificate the client does not trust does not become trusted by waiting.
		&url.Error{Op: "Post", URL: "https://vitam/ingest", Err: x509.UnknownAuthorityError{}},
		&net.DNSError{Err: "no such host", Name: "nas.invalid", IsNotFound: true},
		// The decorator reads only the backend's marks: a network failure no backend marked
		// is not retried (the backends call transfer.Network).
		&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED},
		fmt.Errorf("read response: %w", io.ErrUnexpectedEOF),
		// Permanent wins over Transient anywhere in the chain.
		transfer.Permanent(transfer.Transient(errors.New("503 but the backend knows better"))),
		transfer.Transient(fmt.Errorf("x: %w", transfer.Permanent(errors.New("inner permanent")))),
		transfer.Network(&fs.PathError{Op: "open", Path: "/srv/out/a", Err: syscall.EROFS}),
	} {
		f := &flaky{errs: []error{err}}
		tg, _ := wrap(f, 5)
		_, got := tg.Put(context.Background(), transfer.SIP{Name: "a"})
		if got == nil || f.calls != 1 || got.Error() != err.Error() {
			t.Errorf("%v: calls %d, err %v", err, f.calls, got)
		}
		if Retryable(err) {
			t.Errorf("Retryable(%v) = true", err)
		}
	}
}

func TestBounded(t *testing.T) {
	var errs []error
	for i := 0; i < 10; i++ {
		errs = append(errs, transfer.Transient(errors.New("503 Service Unavailable")))
	}
	f := &flaky{errs: errs}
	tg, _ := wrap(f, 3)
	_, err := tg.Put(context.Background(), transfer.SIP{Name: "a"})
	if err == nil || f.calls != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts: 503 Service Unavailable") {
		t.Fatalf("calls %d err %v", f.calls, err)
	}
}

type resumable struct {
	flaky
	ops []string
}

func (r *resumable) Resume(_ context.Context, _ transfer.SIP, op string) (transfer.Receipt, error) {
	r.ops = append(r.ops, op)
	return transfer.Receipt{Operation: op}, nil
}

// The decorator is a Resumer exactly when the target it wraps is one: a caller that asks must be
// told the truth (ledger.Send refuses to resend a pending SIP to a target that cannot resume).
func TestCapabilitiesForwardedHonestly(t *testing.T) {
	plain := Wrap(&flaky{}, Policy{})
	if _, ok := plain.(transfer.Resumer); ok {
		t.Error("a retrying folder or S3 target claims to resume")
	}
	if _, ok := transfer.As[transfer.Resumer](plain); ok {
		t.Error("transfer.As found a Resumer in a target that has none")
	}
	inner := &resumable{}
	tg := Wrap(inner, Policy{})
	r, ok := tg.(transfer.Resumer)
	if !ok {
		t.Fatal("a retrying VITAM-like target does not resume")
	}
	if rc, err := r.Resume(context.Background(), transfer.SIP{Name: "a"}, "op-1"); err != nil || rc.Operation != "op-1" || len(inner.ops) != 1 {
		t.Fatalf("Resume: %+v %v %v", rc, err, inner.ops)
	}
	if u, ok := tg.(interface{ Unwrap() transfer.Target }); !ok || u.Unwrap() != transfer.Target(inner) {
		t.Error("Unwrap does not return the wrapped target")
	}
	if tg.String() != "fake://" {
		t.Errorf("String: %s", tg)
	}
}
