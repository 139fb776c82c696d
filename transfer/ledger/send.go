package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/versement/versement/transfer"
)

// Batch says which dossiers a SIP holds, so that a rerun can tell what is done.
type Batch struct {
	FirstKey, LastKey string
	Count             int
	// Replaces and Visa link a SIP rewritten by an elimination to the SIP it replaces and the
	// visa it was rewritten under.
	Replaces, Visa string
}

// Send transfers sip to t exactly once as far as this ledger knows, and records the outcome:
//
//   - the ledger already records the same SIP (same SHA-256) as stored/accepted at t: nothing is
//     sent, the recorded entry is returned with skipped = true;
//   - it records another SIP under that name at t: an error wrapping transfer.ErrConflict;
//   - it records a VITAM operation whose outcome is unknown (pending): the target's Resume waits
//     for that operation's verdict and it is recorded; nothing is resent, which would ingest the
//     SIP twice (a target that cannot resume gives an error naming the operation);
//   - a dry-run target: nothing is sent and nothing recorded;
//   - otherwise Put (idempotent itself: a SIP found at the target is recorded, not resent), then
//     Append. A VITAM rejection (KO) or an unfinished operation is recorded too, and returned as
//     the error.
//
// A crash between Put and Append loses nothing: the rerun's Put finds the SIP at the target
// (AlreadyThere) and records it then.
func (l *Ledger) Send(ctx context.Context, t transfer.Target, sip transfer.SIP, b Batch) (e Entry, skipped bool, err error) {
	// The SIP's digest is needed up front only when the ledger already knows its name (skip, resume
	// or conflict); otherwise the target computes it in the read it does anyway, which saves a whole
	// pass over a multi-gigabyte SIP.
	if err := sip.Check(); err != nil {
		return Entry{}, false, err
	}
	put := t.Put
	if prev, ok := l.Lookup(t.String(), sip.Name); ok {
		if err := sip.Prepare(ctx); err != nil {
			return Entry{}, false, err
		}
		res, canResume := transfer.As[transfer.Resumer](t)
		switch {
		case prev.Status == StatusPending && prev.SHA256 == sip.SHA256 && canResume:
			op := prev.Receipt.Operation
			put = func(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) { return res.Resume(ctx, sip, op) }
		case prev.Status == StatusPending:
			return prev, false, transfer.Permanent(fmt.Errorf("SIP %s: operation %s (ledger entry %d) has no known outcome yet; check it at %s before resending",
				sip.Name, prev.Receipt.Operation, prev.Seq, t))
		case prev.Done() && prev.SHA256 == sip.SHA256:
			return prev, true, nil
		case prev.Done():
			return prev, false, transfer.Permanent(fmt.Errorf("SIP %s: %w: the ledger records sha256 %s at %s (entry %d), this SIP has %s",
				sip.Name, transfer.ErrConflict, prev.SHA256, t, prev.Seq, sip.SHA256))
		}
	}
	r, perr := put(ctx, sip)
	if perr != nil && r.Operation == "" {
		return Entry{}, false, perr
	}
	if sip.SHA256 == "" {
		sip.SHA256 = r.SHA256
	}
	if sip.SHA256 == "" { // a target that does not report it: the ledger always records the digest
		if err := sip.Prepare(ctx); err != nil {
			return Entry{}, false, errors.Join(perr, fmt.Errorf("SIP %s was sent but not recorded: %w", sip.Name, err))
		}
	}
	e = FromReceipt(sip, r)
	e.FirstKey, e.LastKey, e.Count = b.FirstKey, b.LastKey, b.Count
	e.Replaces, e.Visa = b.Replaces, b.Visa
	if r.DryRun {
		return e, false, perr // a dry run leaves no trace in the ledger
	}
	e, err = l.Append(e)
	if err != nil {
		return e, false, errors.Join(perr, fmt.Errorf("SIP %s was sent but not recorded: %w", sip.Name, err))
	}
	return e, false, perr
}
