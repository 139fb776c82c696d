package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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
	t := Wrap(f, Policy{Attempts: attempts, Base: 10 * time.Millisecond, Max: 40 * time.Millisecond})
	var waits []time.Duration
	t.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return t, &waits
}

func TestTransientRetriedThenSucceeds(t *testing.T) {
	f := &flaky{errs: []error{
		&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED},
		&smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."},
		fmt.Errorf("wrapped: %w", syscall.ECONNRESET),
		// What aws-sdk-go-v2 returns when the server is down: a response error without a status.
		&smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{}},
			Err:      &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}}},
	}}
	tg, waits := wrap(f, 5)
	if _, err := tg.Put(context.Background(), transfer.SIP{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if f.calls != 5 || len(*waits) != 4 {
		t.Fatalf("calls %d waits %v", f.calls, *waits)
	}
	for i, w := range *waits {
		if w < 5*time.Millisecond || w > 45*time.Millisecond {
			t.Errorf("wait %d = %v outside [Base/2, Max+Base/2]", i, w)
		}
	}
}

func TestPermanentFailsAtOnce(t *testing.T) {
	for _, err := range []error{
		&smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"},
		transfer.Permanent(errors.New("BadDigest")),
		fmt.Errorf("x: %w", transfer.ErrConflict),
		context.Canceled,
	} {
		f := &flaky{errs: []error{err}}
		tg, _ := wrap(f, 5)
		_, got := tg.Put(context.Background(), transfer.SIP{Name: "a"})
		if got == nil || f.calls != 1 {
			t.Errorf("%v: calls %d, err %v", err, f.calls, got)
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
