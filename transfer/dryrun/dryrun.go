// Package dryrun wraps a target so that Put sends nothing: it says whether the SIP is already
// there (and would be skipped), conflicts with what is there, or would be sent.
package dryrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/versement/versement/transfer"
)

// Target is the decorator. Of the optional capabilities it implements only transfer.Resumer,
// and only when the target it wraps has it; transfer.As finds the others (transfer.Prober,
// transfer.Indexed) in the wrapped target through Unwrap.
type Target struct{ inner transfer.Target }

// resumer is Target for a wrapped target that can resume.
type resumer struct {
	*Target
	r transfer.Resumer
}

// Resume waits for the verdict on an operation sent by an earlier, real run: reading it sends
// nothing.
func (t resumer) Resume(ctx context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	return t.r.Resume(ctx, sip, op)
}

// Wrap returns t in dry-run mode; the result is a transfer.Resumer exactly when t is one.
func Wrap(t transfer.Target) transfer.Target {
	d := &Target{inner: t}
	if r, ok := t.(transfer.Resumer); ok {
		return resumer{d, r}
	}
	return d
}

func (t *Target) String() string          { return t.inner.String() }
func (t *Target) Close() error            { return t.inner.Close() }
func (t *Target) Unwrap() transfer.Target { return t.inner }

func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	r := transfer.Receipt{Target: t.String(), Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256, DryRun: true, Time: time.Now().UTC()}
	obj, err := t.inner.Stat(ctx, sip.Name)
	switch {
	case errors.Is(err, transfer.ErrNotExist) || errors.Is(err, transfer.ErrNotSupported):
		return r, nil
	case err != nil:
		return r, err
	case obj.SHA256 != sip.SHA256:
		return r, transfer.Permanent(fmt.Errorf("%s at %s: %w", sip.Name, t, transfer.ErrConflict))
	}
	r.AlreadyThere = true
	return r, nil
}

// Delete deletes nothing: it says whether the SIP is there to delete (nil), is not (an error
// wrapping ErrNotExist), or the wrapped target cannot delete (ErrNotSupported). It is on the
// decorator so that transfer.As never reaches the wrapped target's real Delete in a dry run.
func (t *Target) Delete(ctx context.Context, name string) error {
	if _, ok := transfer.As[transfer.Deleter](t.inner); !ok {
		return fmt.Errorf("delete %s at %s: %w", name, t, transfer.ErrNotSupported)
	}
	_, err := t.inner.Stat(ctx, name)
	return err
}

func (t *Target) Stat(ctx context.Context, name string) (transfer.Object, error) {
	return t.inner.Stat(ctx, name)
}

func (t *Target) List(ctx context.Context, fn func(transfer.Object) error) error {
	return t.inner.List(ctx, fn)
}
