package ledger

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/versement/versement/transfer"
)

// Cut is the torn last line that Open cut off.
type Cut struct {
	Line int    // its line number
	SIP  string // the SIP it named, if that much of it was written ("" otherwise)
	// Committed: the head file counted it, so it was a whole, fsync'd entry once (the file was
	// damaged, not left by a crash in the middle of an append). The SIP it recorded was sent.
	Committed bool
}

// Cut says what Open cut off the end of the ledger, if anything.
func (l *Ledger) Cut() (Cut, bool) {
	c, ok := l.log.Cut()
	if !ok {
		return Cut{}, false
	}
	return Cut{Line: c.Line, SIP: c.Ref, Committed: c.Committed}, true
}

var sipField = regexp.MustCompile(`"sip":"((?:[^"\\]|\\.)*)"`)

// sipOf finds the SIP name in a torn line, if it got that far.
func sipOf(line []byte) string {
	m := sipField.FindSubmatch(line)
	if m == nil {
		return ""
	}
	s, err := strconv.Unquote(`"` + string(m[1]) + `"`)
	if err != nil {
		return ""
	}
	return s
}

// Recorded reports whether the ledger records sip as done (stored or accepted) at target.
func (l *Ledger) Recorded(target, sip string) bool {
	e, ok := l.Lookup(target, sip)
	return ok && e.Done()
}

// Reconcile records sip at t when the caller's own records (the pipeline's state) say it was sent
// there but the ledger has no entry saying so: the entry was lost (a torn last line cut off, a
// ledger restored from an older backup). stateSeq is the ledger entry the caller's records name
// (0 if unknown); it goes into the entry's Note with the reason.
//
//   - already recorded as done with the same SHA-256: nothing is written (added = false);
//   - recorded with another SHA-256: an error wrapping transfer.ErrConflict;
//   - at the target with the recorded size and SHA-256: recorded as stored (Receipt.AlreadyThere);
//   - a target that cannot be asked (VITAM): recorded as accepted from the caller's records alone,
//     which the note says, rather than sent again (an archive would ingest it twice);
//   - not at the target: an error wrapping transfer.ErrNotExist; the caller must build and send it
//     again (for the pipeline: forget the SIP in the state so that its dossiers are archived again);
//   - at the target with other bytes: an error wrapping transfer.ErrConflict.
//
// sip needs Name, SHA256 and Size; the rest (digests, message id, Origin) fills the entry.
func (l *Ledger) Reconcile(ctx context.Context, t transfer.Target, sip transfer.SIP, b Batch, stateSeq int64) (e Entry, added bool, err error) {
	if sip.SHA256 == "" {
		return Entry{}, false, fmt.Errorf("SIP %s: reconcile needs the SHA-256 the state recorded", sip.Name)
	}
	if prev, ok := l.Lookup(t.String(), sip.Name); ok && prev.Done() {
		if prev.SHA256 != sip.SHA256 {
			return prev, false, fmt.Errorf("SIP %s: %w: the ledger records sha256 %s at %s (entry %d), the state %s",
				sip.Name, transfer.ErrConflict, prev.SHA256, t, prev.Seq, sip.SHA256)
		}
		return prev, false, nil
	}
	why := "re-recorded from the run state, which marks it sent"
	if stateSeq > 0 {
		why += " as ledger entry " + strconv.FormatInt(stateSeq, 10)
	}
	if c, ok := l.Cut(); ok && c.SIP == sip.Name {
		why += fmt.Sprintf(": its entry was lost in a torn last line (line %d) cut off when the ledger was opened", c.Line)
	} else {
		why += ": the ledger had no entry for it"
	}
	r := transfer.Receipt{Target: t.String(), Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256, AlreadyThere: true, Time: time.Now().UTC()}
	status := StatusStored
	obj, err := t.Stat(ctx, sip.Name)
	switch {
	case errors.Is(err, transfer.ErrNotSupported):
		status = StatusAccepted
		why += "; the target cannot be asked for it, so this rests on the state alone"
	case errors.Is(err, transfer.ErrNotExist):
		return Entry{}, false, fmt.Errorf("SIP %s: the state marks it sent to %s, but neither the ledger nor the target has it: %w", sip.Name, t, err)
	case err != nil:
		return Entry{}, false, fmt.Errorf("SIP %s: checking it at %s: %w", sip.Name, t, err)
	case (obj.SHA256 != "" && obj.SHA256 != sip.SHA256) || (sip.Size > 0 && obj.Size != sip.Size):
		return Entry{}, false, fmt.Errorf("SIP %s: %w: at %s: sha256 %s, %d bytes; the state records sha256 %s, %d bytes",
			sip.Name, transfer.ErrConflict, t, obj.SHA256, obj.Size, sip.SHA256, sip.Size)
	default:
		r.Size, r.Checksum, r.VersionID = obj.Size, obj.Checksum, obj.VersionID
		if obj.SHA256 == "" {
			why += "; found at the target (which reports no SHA-256) with its size"
		} else {
			why += "; found at the target with its SHA-256"
		}
	}
	e = FromReceipt(sip, r)
	e.Status, e.Note = status, why
	e.FirstKey, e.LastKey, e.Count = b.FirstKey, b.LastKey, b.Count
	if e.Size == 0 {
		e.Size = r.Size
	}
	e, err = l.Append(e)
	if err != nil {
		return e, false, fmt.Errorf("SIP %s: %w", sip.Name, err)
	}
	return e, true, nil
}
