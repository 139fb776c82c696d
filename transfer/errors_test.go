package transfer_test

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
	"syscall"
	"testing"

	"github.com/versement/versement/transfer"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// transfer.Network marks the network's passing failures, and nothing else: an error number is
// judged by its number (syscall.Errno satisfies net.Error), a certificate is never transient.
func TestNetworkClassification(t *testing.T) {
	for _, err := range []error{
		&net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}},
		fmt.Errorf("wrapped: %w", syscall.ECONNRESET),
		&url.Error{Op: "Put", URL: "https://h/x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}},
		fmt.Errorf("read response: %w", io.ErrUnexpectedEOF),
		&url.Error{Op: "Get", URL: "https://h/x", Err: timeoutErr{}},
		&net.DNSError{Err: "server misbehaving", Name: "h", IsTemporary: true},
	} {
		got := transfer.Network(err)
		if !transfer.IsTransient(got) || got.Error() != err.Error() || !errors.Is(got, err) {
			t.Errorf("Network(%v) = %v: want it marked transient, message and chain unchanged", err, got)
		}
	}
	for _, err := range []error{
		&fs.PathError{Op: "open", Path: "/srv/out/.versement-tmp-1", Err: syscall.EROFS},
		&fs.PathError{Op: "write", Path: "/srv/out/.versement-tmp-1", Err: syscall.ENOSPC},
		fmt.Errorf("copy: %w", syscall.EPERM),
		&url.Error{Op: "Post", URL: "https://vitam/ingest", Err: x509.UnknownAuthorityError{}},
		&net.DNSError{Err: "no such host", Name: "nas.invalid", IsNotFound: true},
		errors.New("nobody knows"),
		context.Canceled,
		transfer.Permanent(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}),
	} {
		if got := transfer.Network(err); got != err || transfer.IsTransient(got) {
			t.Errorf("Network(%v) = %v: want it unchanged and not transient", err, got)
		}
	}
	if transfer.Network(nil) != nil {
		t.Error("Network(nil) is not nil")
	}
}

func TestIsTransient(t *testing.T) {
	for err, want := range map[error]bool{
		transfer.Transient(errors.New("SlowDown")):                                   true,
		fmt.Errorf("put: %w", transfer.Transient(errors.New("503"))):                 true,
		transfer.Permanent(transfer.Transient(errors.New("503"))):                    false,
		transfer.Transient(transfer.Permanent(errors.New("403"))):                    false,
		transfer.Transient(fmt.Errorf("stopped: %w", context.Canceled)):              false,
		fmt.Errorf("x: %w", transfer.ErrConflict):                                    false,
		&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}:                          false, // not marked by a backend
		transfer.Network(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}):        true,
		transfer.Network(transfer.Transient(errors.New("already marked, once"))):     true,
		transfer.Permanent(fmt.Errorf("%w: BadDigest", transfer.ErrDigest)):          false,
		transfer.Network(fmt.Errorf("%w", &net.DNSError{Err: "x", IsTimeout: true})): true,
	} {
		if got := transfer.IsTransient(err); got != want {
			t.Errorf("IsTransient(%v) = %v, want %v", err, got, want)
		}
	}
}
