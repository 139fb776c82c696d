package eliminate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
)

// sipOutcome is what became of one SIP holding destroyed dossiers.
type sipOutcome struct {
	Old, OldSHA256, New, NewSHA256, Target string
	Removed                                []string // keys taken out
	NotFound                               []string // planned keys the SIP does not hold
	Kept                                   int
	Deleted                                bool      // the old SIP is gone from the target
	LockedUntil                            time.Time // Object Lock keeps the old SIP until then
	LegalHold                              bool      // an S3 legal hold keeps it, with no date
	DryRun                                 bool
}

// locked says whether the old SIP is still at the target because of a lock.
func (s sipOutcome) locked() bool { return !s.Deleted && (s.LegalHold || !s.LockedUntil.IsZero()) }

// replaceSIP rewrites one SIP of a folder or S3 target without the dossiers the plan destroys,
// sends and records the rewrite, then deletes the old SIP. Each step is recorded before the next
// starts and finds its own outcome when run again:
//
//	rewritten  the same bytes again (deterministic), and the ledger's Send skips what it recorded;
//	recorded   the state's Replace moves the destroyed dossiers out, the kept ones to the new SIP;
//	deleted    a SIP not found at the target was deleted by the run that was killed.
func (ex *execution) replaceSIP(ctx context.Context, old string) error {
	s, ok, err := ex.st.SIP(ctx, old)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("elimination: SIP %s is not in the state %s", old, ex.o.State)
	}
	t, err := ex.target(ctx, s.Target)
	if err != nil {
		return err
	}
	stored, ok := ex.o.Ledger.Lookup(s.Target, old)
	if !ok {
		return fmt.Errorf("elimination: SIP %s: the ledger %s does not record it at %s", old, ex.o.Ledger.Path(), s.Target)
	}
	out := sipOutcome{Old: old, OldSHA256: s.Digest, Target: s.Target, DryRun: ex.o.DryRun}
	if s.Status == pipeline.SIPReplaced {
		return ex.finishReplaced(ctx, t, s, stored, out)
	}
	if s.Status != pipeline.SIPSent || !stored.Done() || stored.SHA256 != s.Digest {
		return fmt.Errorf("elimination: SIP %s is %s in the state and %s in the ledger (entry %d): only a SIP recorded as stored is rewritten; run again first",
			old, s.Status, stored.Status, stored.Seq)
	}
	planned := ex.pl.bySIP[old]
	local := ex.path(old + ".old")
	defer os.Remove(local)
	if err := fetch(ctx, t, old, local, s.Digest); err != nil {
		return err
	}
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("elimination: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := sip.Open(ctx, f, fi.Size())
	if err != nil {
		return fmt.Errorf("elimination: SIP %s: %w", old, err)
	}
	// Which planned dossiers the SIP holds, and the kept ones' range: the rewrite's name depends
	// on the keys it drops, so they are known before it is written.
	want := map[string]bool{}
	for _, k := range planned {
		want[k] = true
	}
	var drop, kept []string
	err = r.Units(ctx, func(u sip.Unit) error {
		k := unitKey(u)
		if k == "" {
			return nil
		}
		if want[k] {
			drop = append(drop, k)
			delete(want, k)
		} else {
			kept = append(kept, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("elimination: SIP %s: %w", old, err)
	}
	for k := range want {
		out.NotFound = append(out.NotFound, k)
	}
	slices.Sort(out.NotFound)
	if len(drop) == 0 {
		// Nothing of the plan is in it: the SIP stays as it is, and its dossiers are reported.
		ex.sips = append(ex.sips, out)
		return nil
	}
	slices.Sort(drop)
	out.Removed, out.Kept = drop, len(kept)
	var rec *sip.Record
	if len(kept) > 0 {
		rec, err = ex.rewrite(ctx, r, s, drop, kept)
		if err != nil {
			return err
		}
		defer os.Remove(ex.path(rec.Name))
		out.New = rec.Name
		crashPoint("rewritten")
	}
	if ex.o.DryRun {
		ex.sips = append(ex.sips, out)
		return nil
	}
	newSeq := int64(0)
	if rec != nil {
		// The SHA-256 was taken as the rewrite was written: the target need not read it again.
		ts := transfer.SIP{Name: rec.Name, Path: ex.path(rec.Name), Size: rec.Bytes, SHA256: rec.Digest, ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: rec.ManifestDigest},
			MessageID: rec.MessageID, Origin: transfer.Origin{Profile: s.Profile, Class: s.Class, Tier: string(s.Tier)}}
		if ex.o.ObjectLock != "" {
			if !s.RetainUntil.IsZero() {
				ts.Retention = &transfer.Retention{Mode: ex.o.ObjectLock, Until: s.RetainUntil.Time(time.UTC)}
			}
			ts.LegalHold = s.LegalHold
		}
		e, _, err := ex.o.Ledger.Send(ctx, t, ts, ledger.Batch{FirstKey: rec.FirstKey, LastKey: rec.LastKey, Count: rec.Dossiers, Replaces: old, Visa: ex.v.Reference})
		if err != nil {
			return fmt.Errorf("elimination: sending %s, which replaces %s: %w", rec.Name, old, err)
		}
		rec.Bytes, rec.Digest, newSeq = e.Size, e.SHA256, e.Seq
		out.NewSHA256 = e.SHA256
		crashPoint("sent")
	}
	if err := ex.st.Replace(ctx, pipeline.Replacement{Visa: ex.v.Reference, Old: old, New: rec, NewTarget: s.Target, NewSeq: newSeq, Destroyed: drop, At: ex.o.Now()}); err != nil {
		return err
	}
	s.Status = pipeline.SIPReplaced
	ex.o.Log.Info("SIP replaced under a visa", "sip", old, "new", out.New, "removed", len(drop), "kept", len(kept), "visa", ex.v.Reference)
	crashPoint("replaced")
	return ex.finishReplaced(ctx, t, s, stored, out)
}

// rewrite writes the SIP without the dropped dossiers in the proposal's folder, synced, and
// verifies it as a run verifies what it sends.
func (ex *execution) rewrite(ctx context.Context, r *sip.Reader, s pipeline.StateSIP, drop, kept []string) (*sip.Record, error) {
	id := sip.RewrittenID(s.Name, ex.v.Reference, drop)
	rec := &sip.Record{ID: id, Name: id + ".zip", MessageID: id, Profile: s.Profile, Class: s.Class, Tier: s.Tier, Dossiers: len(kept),
		FirstKey: kept[0], LastKey: kept[len(kept)-1], DigestAlgorithm: "SHA-256", RetainUntil: s.RetainUntil, LegalHold: s.LegalHold}
	path := ex.path(rec.Name)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("elimination: %w", err)
	}
	defer os.Remove(tmp)
	dropSet := map[string]bool{}
	for _, k := range drop {
		dropSet[k] = true
	}
	h := sha256.New()
	// The rewrite is dated by the visa, not the clock: a rerun after a crash makes the same
	// bytes, which the target and the ledger then recognise as already sent.
	res, err := sip.Rewrite(ctx, r, io.MultiWriter(f, h), sip.RewriteOptions{
		Drop: func(k string) bool { return dropSet[k] }, MessageID: id, Date: ex.v.Date.Time(time.UTC),
		Comment: fmt.Sprintf("%s, rewritten without %d dossier(s) under visa %s", s.Name, len(drop), ex.v.Reference)})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("elimination: rewriting %s: %w", s.Name, err)
	}
	if res.Dropped != len(drop) || res.Kept != len(kept) {
		return nil, fmt.Errorf("elimination: rewriting %s dropped %d and kept %d dossiers, %d and %d were expected", s.Name, res.Dropped, res.Kept, len(drop), len(kept))
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("elimination: %w", err)
	}
	rec.ManifestDigest, rec.Digest = res.ManifestSHA512, hex.EncodeToString(h.Sum(nil))
	if fi, err := os.Stat(path); err == nil {
		rec.Bytes = fi.Size()
	}
	v, err := seda.Verify(ctx, path, seda.VerifyOptions{XSDDir: ex.o.XSDDir})
	if err != nil {
		return nil, fmt.Errorf("elimination: verifying %s: %w", rec.Name, err)
	}
	if b := v.Blocking(); len(b) > 0 {
		var msgs []string
		for _, f := range b {
			msgs = append(msgs, f.Code+" "+f.Where+": "+f.Message)
		}
		return nil, fmt.Errorf("elimination: the rewrite of %s does not verify, nothing was sent: %s", s.Name, strings.Join(msgs, "; "))
	}
	return rec, nil
}

// finishReplaced completes a SIP the state records as replaced: the index forgets its destroyed
// dossiers, and the old SIP is deleted from its target unless a lock keeps it.
func (ex *execution) finishReplaced(ctx context.Context, t transfer.Target, s pipeline.StateSIP, stored ledger.Entry, out sipOutcome) error {
	reps, err := ex.st.ReplacedSIPs(ctx, ex.v.Reference)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(reps, func(r pipeline.Replaced) bool { return r.Old == s.Name })
	if i < 0 {
		return fmt.Errorf("elimination: SIP %s is replaced in the state, but not under visa %s", s.Name, ex.v.Reference)
	}
	rep := reps[i]
	out.New = rep.New
	if out.Removed == nil {
		keys, err := ex.st.EliminatedKeys(ctx, s.Name)
		if err != nil {
			return err
		}
		out.Removed = keys
		if rep.New != "" {
			if n, ok, err := ex.st.SIP(ctx, rep.New); err == nil && ok {
				out.Kept, out.NewSHA256 = n.Dossiers, n.Digest
			}
		}
	}
	if ex.o.DryRun {
		// A simulation says what a run would find, and touches nothing: not the index, not
		// the old SIP, not the ledger.
		out.Deleted = rep.Status == pipeline.ReplacedDeleted
		if rep.Status == pipeline.ReplacedLocked && ex.o.Now().Before(rep.LockedUntil) {
			out.LockedUntil = rep.LockedUntil
		}
		ex.sips = append(ex.sips, out)
		return nil
	}
	if ex.o.Index != nil {
		for _, k := range out.Removed {
			if err := ex.o.Index.Forget(ctx, s.Profile, k); err != nil {
				return err
			}
		}
	}
	switch {
	case rep.Status == pipeline.ReplacedDeleted:
		out.Deleted = true
	case rep.Status == pipeline.ReplacedLocked && ex.o.Now().Before(rep.LockedUntil):
		out.LockedUntil = rep.LockedUntil
	default:
		if err := ex.deleteOld(ctx, t, stored, &out); err != nil {
			return err
		}
	}
	ex.sips = append(ex.sips, out)
	return nil
}

// deleteOld deletes the old SIP, recording in the ledger, then in the state, what became of it.
func (ex *execution) deleteOld(ctx context.Context, t transfer.Target, stored ledger.Entry, out *sipOutcome) error {
	d, ok := transfer.As[transfer.Deleter](t)
	if !ok {
		return fmt.Errorf("elimination: target %s cannot delete SIPs", t)
	}
	err := d.Delete(ctx, out.Old)
	crashPoint("deleted")
	var le *transfer.LockedError
	switch {
	case err == nil || errors.Is(err, transfer.ErrNotExist):
		if stored.Status != ledger.StatusDeleted {
			if _, err := ex.o.Ledger.RecordDeletion(stored, ex.v.Reference, time.Time{}, "deleted under visa "+ex.v.Reference+" after its rewrite was stored"); err != nil {
				return err
			}
			crashPoint("deletion-recorded")
		}
		out.Deleted = true
		ex.o.Log.Info("old SIP deleted", "sip", out.Old, "target", t.String(), "visa", ex.v.Reference)
		return ex.st.MarkDeleted(ctx, out.Old, time.Time{})
	case errors.As(err, &le) && le.Until.IsZero():
		out.LegalHold = true // a lift has no date: every later execution tries again
		return nil
	case errors.As(err, &le):
		out.LockedUntil = le.Until
		ex.o.Log.Warn("old SIP kept by the target's Object Lock", "sip", out.Old, "until", le.Until.UTC().Format(time.DateOnly), "mode", le.Mode, "visa", ex.v.Reference)
		if stored.Status != ledger.StatusLocked || stored.LockedUntil == nil || !stored.LockedUntil.Equal(le.Until) {
			if _, err := ex.o.Ledger.RecordDeletion(stored, ex.v.Reference, le.Until, "to delete under visa "+ex.v.Reference+" when the Object Lock ends"); err != nil {
				return err
			}
		}
		return ex.st.MarkDeleted(ctx, out.Old, le.Until)
	}
	return fmt.Errorf("elimination: deleting %s from %s: %w", out.Old, t, err)
}

// fetch copies a stored SIP to path and checks it is the one the state recorded.
func fetch(ctx context.Context, t transfer.Target, name, path, want string) error {
	op, ok := transfer.As[transfer.Opener](t)
	if !ok {
		return fmt.Errorf("elimination: target %s cannot read SIPs back", t)
	}
	b, err := op.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("elimination: reading %s back from %s: %w", name, t, err)
	}
	defer b.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("elimination: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), io.NewSectionReader(b, 0, b.Size()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("elimination: reading %s back from %s: %w", name, t, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("elimination: SIP %s at %s has sha256 %s, the state recorded %s: it was changed where it is kept; nothing was destroyed", name, t, got, want)
	}
	return nil
}

// lockDate is a lock's end as the attestation prints it.
func lockDate(t time.Time) civil.Date {
	if t.IsZero() {
		return civil.Date{}
	}
	return civil.Of(t.UTC())
}

// unitKey is a dossier unit's key: its OriginatingSystemId, as a run writes it. The series unit
// above the dossiers has none.
func unitKey(u sip.Unit) string {
	if len(u.OriginatingSystemIDs) == 0 {
		return ""
	}
	return u.OriginatingSystemIDs[0]
}
