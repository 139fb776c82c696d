package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
)

// SIPError is a SIP this run wrote but did not get to the archive: the target refused it (an error
// wrapping transfer.ErrRejected), sending it failed, or it did not pass verification (VerifyError).
// Dossiers says how many dossiers it holds, for the scheduler's failure counters.
type SIPError struct {
	SIP      string
	Dossiers int
	Err      error
}

func (e *SIPError) Error() string { return e.Err.Error() }
func (e *SIPError) Unwrap() error { return e.Err }

// VerifyError is a SIP the pipeline wrote that `versement verify` would not call OK: it was not
// sent. The file is kept apart for inspection (Kept) and the state forgets it, so that the next run
// writes it again.
type VerifyError struct {
	SIP      string
	Dossiers int
	// Findings are what failed: the verifier's errors, the entries it could not check, and where
	// its reading of the package disagrees with what the writer says it wrote.
	Findings []seda.Finding
	Kept     string // where the SIP was put aside ("" if it could not be moved)
}

// maxFindingsShown is how many findings a VerifyError's message names; the rest are counted.
const maxFindingsShown = 3

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP %s does not pass verification (%d finding%s): ", e.SIP, len(e.Findings), plural(len(e.Findings)))
	for i, f := range e.Findings {
		if i == maxFindingsShown {
			fmt.Fprintf(&b, "; and %d more", len(e.Findings)-maxFindingsShown)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(findingText(f))
	}
	b.WriteString("; it was not sent")
	if e.Kept != "" {
		fmt.Fprintf(&b, ": kept as %s for inspection (versement verify %s)", e.Kept, e.Kept)
	}
	b.WriteString(", and the next run writes it again")
	return b.String()
}

// findingText is a finding as `versement verify` prints it, without its severity.
func findingText(f seda.Finding) string {
	s := f.Code
	if f.Where != "" {
		s += " " + textsafe.Terminal(f.Where)
	}
	return s + ": " + textsafe.Terminal(f.Message)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// verifyHook, when set, is called with the path of a spooled SIP just before it is verified: tests
// damage the file there.
var verifyHook func(path string)

// damagedDir is the spool's folder for SIPs that failed verification: reconcile leaves it alone.
const damagedDir = "damaged"

// verify checks a spooled SIP with the checks of `versement verify` (seda.Verify, default options)
// before it is sent, and that the verifier reads what the writer says it wrote (message identifier,
// manifest digest, every object). A SIP that fails is moved to spool/damaged/ and forgotten in the
// state (its dossiers are archived again by the next run); the error is a *VerifyError.
func (sp *spool) verify(ctx context.Context, s sip.Record, path string) error {
	if verifyHook != nil {
		verifyHook(path)
	}
	// Past 16,384 objects verify spills to disk: into the spool, not the system's /tmp.
	vr, err := seda.Verify(ctx, path, seda.VerifyOptions{TempDir: sp.tmpDir()})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &SIPError{SIP: s.Name, Dossiers: s.Dossiers, Err: fmt.Errorf("SIP %s: verifying it before sending: %w (it stays in the spool %s)", s.Name, err, sp.dir)}
	}
	bad := vr.Blocking()
	if vr.OK() && vr.Complete() {
		// What the verifier read must be what the writer wrote: a disagreement is a bug in one of them.
		disagree := func(what, format string, args ...any) {
			bad = append(bad, seda.Finding{Severity: seda.SevError, Code: "WRITER_DISAGREES", Where: what, Message: fmt.Sprintf(format, args...)})
		}
		if vr.MessageIdentifier != s.MessageID {
			disagree("MessageIdentifier", "the manifest says %q, the writer wrote %q", vr.MessageIdentifier, s.MessageID)
		}
		if s.ManifestDigest != "" && !strings.EqualFold(vr.ManifestSHA512, s.ManifestDigest) {
			disagree(vr.Manifest, "SHA-512 %s, the writer computed %s", vr.ManifestSHA512, s.ManifestDigest)
		}
		if vr.ObjectsVerified != vr.Objects || vr.Objects == 0 {
			disagree("objects", "%d of %d objects verified", vr.ObjectsVerified, vr.Objects)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	ve := &VerifyError{SIP: s.Name, Dossiers: s.Dossiers, Findings: bad}
	dir := filepath.Join(sp.dir, damagedDir)
	kept := filepath.Join(dir, s.Name)
	var errs []error
	if err := os.MkdirAll(dir, 0o755); err != nil {
		errs = append(errs, fmt.Errorf("spool: %w", err))
	} else if err := os.Rename(path, kept); err != nil {
		errs = append(errs, fmt.Errorf("spool: %w", err))
	} else {
		ve.Kept = kept
	}
	// Forgotten even when the file could not be moved: reconcile then removes a stray file, and the
	// next run writes the SIP again rather than send the damaged one.
	if err := sp.state.forget(ctx, s.Name); err != nil {
		errs = append(errs, fmt.Errorf("state: SIP %s: %w", s.Name, err))
	}
	sp.log.Error("SIP fails verification: not sent", "sip", s.Name, "findings", len(bad), "first", findingText(bad[0]), "kept", ve.Kept)
	return errors.Join(append([]error{ve}, errs...)...)
}

// Failures counts the SIPs a run's error says were not archived (refused by the target, not sent,
// or damaged) and the dossiers they hold, for the scheduler's failure counters. An error that
// wraps transfer.ErrRejected without saying which SIP counts as one SIP of unknown size.
func Failures(err error) (sips, dossiers int) {
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var se *SIPError
		var ve *VerifyError
		switch {
		case errors.As(err, &ve) && !isJoin(err):
			sips, dossiers = sips+1, dossiers+ve.Dossiers
		case errors.As(err, &se) && !isJoin(err):
			sips, dossiers = sips+1, dossiers+se.Dossiers
		case isJoin(err):
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				walk(e)
			}
		case errors.Is(err, transfer.ErrRejected):
			sips++
		}
	}
	walk(err)
	return sips, dossiers
}

func isJoin(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}
