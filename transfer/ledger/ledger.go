// Package ledger is the append-only record of what was sent where: one JSON object per line,
// fsync'd after each append, each entry holding the SHA-256 of the previous one, so that changing,
// removing or reordering any line breaks the chain at that line. The chain, its head file and
// their checks are package chain's, shared with the access log; this package holds what a
// transfer entry means (a SIP at a target) and what can be checked at a target.
//
// One process writes a ledger at a time: Open takes an exclusive flock on the file and fails at
// once if another process holds it. Readers (Verify, Read) take no lock: they only ever see whole,
// fsync'd lines, or a torn last line that they report as such.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/versement/versement/chain"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
)

// Version of the entry format, written in every entry.
const Version = 1

// Genesis is the Prev of the first entry.
const Genesis = chain.Genesis

// Entry is one line of the ledger. "hash" is the line's last field; the hash covers the line's
// bytes exactly as written, with the hash value itself left empty ("hash":""), so checking it
// never depends on how a JSON library would re-encode the entry (an auditor can check it with
// sed and sha256sum).
type Entry struct {
	V      int       `json:"v"`
	Seq    int64     `json:"seq"` // 1, 2, 3… gaps are tampering
	Time   time.Time `json:"time"`
	Prev   string    `json:"prev"` // Hash of the previous entry (Genesis for the first)
	Status string    `json:"status"`
	// Kind is empty for a SIP at a target, KindVisa or KindElimination for the steps of an
	// elimination (elimination.go).
	Kind string `json:"kind,omitempty"`

	SIP            string          `json:"sip"` // SIP id: its name at the target
	MessageID      string          `json:"message_id,omitempty"`
	ManifestDigest transfer.Digest `json:"manifest_digest"`
	SHA256         string          `json:"sha256"`
	Size           int64           `json:"size"`
	Target         string          `json:"target"` // URL without secrets

	// What the pipeline needs to make runs exactly-once.
	Profile  string `json:"profile,omitempty"`
	Class    string `json:"class,omitempty"`
	Tier     string `json:"tier,omitempty"`
	FirstKey string `json:"first_key,omitempty"` // dossier key range in the SIP
	LastKey  string `json:"last_key,omitempty"`
	Count    int    `json:"count,omitempty"` // dossiers in the SIP

	Receipt transfer.Receipt `json:"receipt"`

	// An elimination's links: Replaces names the SIP a rewritten one replaces (on the new SIP's
	// stored entry), Visa the visa it was done under (on that entry and on a deleted or locked
	// one), LockedUntil when a locked SIP may be deleted.
	Replaces    string       `json:"replaces,omitempty"`
	Visa        string       `json:"visa,omitempty"`
	LockedUntil *time.Time   `json:"locked_until,omitempty"`
	Elimination *Elimination `json:"elimination,omitempty"`

	// Note says why an entry was written other than by sending (re-recorded from the run state
	// after the ledger lost the entry, for example).
	Note string `json:"note,omitempty"`

	Hash string `json:"hash"` // SHA-256 of this line with "hash":""
}

// Status values.
const (
	StatusStored   = "stored"   // at the target (sent now or found already there)
	StatusAccepted = "accepted" // an archive's receipt that accepts the SIP (vitam.Accepted: ATR OK or WARNING)
	StatusRejected = "rejected" // VITAM ATR KO/FATAL: recorded so the auditor sees it; not "done"
	StatusDryRun   = "dry-run"
	StatusPending  = "pending" // VITAM accepted the SIP for processing but its outcome is not known yet
)

// Done reports whether the entry means the SIP needs no further sending.
func (e Entry) Done() bool { return e.Status == StatusStored || e.Status == StatusAccepted }

// FromReceipt fills an entry from a SIP and its receipt.
func FromReceipt(sip transfer.SIP, r transfer.Receipt) Entry {
	e := Entry{
		SIP: sip.Name, MessageID: sip.MessageID, ManifestDigest: sip.ManifestDigest, SHA256: sip.SHA256, Size: sip.Size,
		Target: r.Target, Receipt: r,
		Profile: sip.Origin.Profile, Class: sip.Origin.Class, Tier: sip.Origin.Tier,
	}
	switch {
	case r.DryRun:
		e.Status = StatusDryRun
	case r.ReplyCode == "" && r.Operation != "":
		e.Status = StatusPending
	case r.ReplyCode == "":
		e.Status = StatusStored
	case vitam.Accepted(r.ReplyCode): // an archive's verdict: VITAM's rule, kept in vitam
		e.Status = StatusAccepted
	default:
		e.Status = StatusRejected
	}
	return e
}

// format is the transfer ledger's entry as package chain reads and writes it.
var format = &chain.Format[Entry]{
	Name:      "ledger",
	EntryName: "a ledger entry",
	Version:   Version,
	Perm:      0o644, // it holds SIP names and digests, no personal data: an auditor may read it
	HeadFrom:  "from a run report",
	Writer:    "run",
	Link: func(e *Entry) chain.Link {
		return chain.Link{V: e.V, Seq: e.Seq, Time: e.Time, Prev: e.Prev, Hash: e.Hash}
	},
	SetLink: func(e *Entry, l chain.Link) { e.V, e.Seq, e.Time, e.Prev, e.Hash = l.V, l.Seq, l.Time, l.Prev, l.Hash },
	Ref: func(e *Entry) string {
		if e.SIP == "" {
			return ""
		}
		return "SIP " + e.SIP
	},
	TailRef: sipOf,
}

// Ledger is an open ledger, the single writer.
type Ledger struct {
	mu    sync.Mutex
	log   *chain.Log[Entry]
	index map[key]int // (target key, sip) → position in entries of the latest entry
	ents  []Entry
	keys  map[string]string // target URL → targetKey, computed once per spelling
}

type key struct{ target, sip string }

// Open opens or creates the ledger at path for appending, locks it, reads and checks the chain
// and the head file beside it (HeadPath).
//
// A broken chain refuses the open: appending to a ledger that no longer proves anything would hide
// the damage. So does a ledger that holds less than its head records, or other entries: entries
// were removed or the chain recomputed. A head one or more entries behind the ledger (a crash
// between an append and the head's update, or a ledger written before heads existed) is brought up
// to date.
//
// A torn last line (a crash during an append, before its fsync) is cut off with a warning: it was
// never a committed entry. If the head says it was (the line was whole once: damage, not a crash),
// it is cut all the same, so that the runs can go on, and Cut says which SIP it described: the
// caller re-records it (Reconcile) from its own records.
func Open(path string) (*Ledger, error) {
	l := &Ledger{index: map[key]int{}, keys: map[string]string{}}
	log, err := chain.Open(context.Background(), path, format, l.add)
	if err != nil {
		return nil, err
	}
	l.log = log
	return l, nil
}

func (l *Ledger) add(e Entry) {
	l.ents = append(l.ents, e)
	if e.SIP == "" {
		return
	}
	l.index[key{l.key(e.Target), e.SIP}] = len(l.ents) - 1
}

// key is targetKey, remembered: a ledger names a few targets thousands of times.
func (l *Ledger) key(target string) string {
	k, ok := l.keys[target]
	if !ok {
		k = targetKey(target)
		l.keys[target] = k
	}
	return k
}

// Head is where the ledger ends now: put it in the run's report (and its notifications) so that an
// auditor can later check, with `verify --ledger FILE --head COUNT:HASH`, that nothing was removed
// from the ledger's end nor the chain recomputed since.
func (l *Ledger) Head() Head { return l.log.Head() }

// Append writes e (Seq, Time, Prev, Hash and V are filled in; Target is normalised), fsyncs,
// updates the head file, and returns it.
func (l *Ledger) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Target = NormalizeTarget(e.Target)
	e, err := l.log.Append(e)
	if err != nil {
		return e, err
	}
	l.add(e)
	return e, nil
}

// Lookup returns the latest entry for sip at target (a URL as Target.String() gives it, in any
// spelling NormalizeTarget makes the same).
func (l *Ledger) Lookup(target, sip string) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.index[key{l.key(target), sip}]
	if !ok {
		return Entry{}, false
	}
	return l.ents[i], true
}

// Entries calls fn for each entry in order. The ledger keeps its entries in memory: one per SIP,
// not per dossier, so thousands, not millions.
func (l *Ledger) Entries(fn func(Entry) error) error {
	l.mu.Lock()
	ents := append([]Entry(nil), l.ents...)
	l.mu.Unlock()
	for _, e := range ents {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Path is where the ledger lives.
func (l *Ledger) Path() string { return l.log.Path() }

// Close releases the lock.
func (l *Ledger) Close() error { return l.log.Close() }

// Problem is one finding, at a line of the ledger file (1-based), or about the ledger as a whole
// (Line 0: its head, an object at the target that it does not list).
type Problem struct {
	Line   int    `json:"line,omitempty"`
	SIP    string `json:"sip,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.SIP != "":
		return fmt.Sprintf("line %d (SIP %s): %s", p.Line, p.SIP, p.Reason)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	case p.SIP != "":
		return fmt.Sprintf("SIP %s: %s", p.SIP, p.Reason)
	}
	return p.Reason
}

// HeadCheck is one head the ledger was checked against.
type HeadCheck = chain.HeadCheck

// Audit is what Verify found.
type Audit struct {
	Path     string      `json:"ledger"`
	Entries  int         `json:"entries"`             // well-formed, correctly chained entries before the first break
	Last     string      `json:"last_hash"`           // hash of the last good entry: publish it to anchor the ledger
	Heads    []HeadCheck `json:"heads,omitempty"`     // the heads it was checked against
	Target   string      `json:"target,omitempty"`    // checked against, if any (normalised)
	Checked  int         `json:"checked,omitempty"`   // SIPs found at the target with their recorded checksum
	Skipped  int         `json:"skipped,omitempty"`   // entries not checkable at the target (VITAM, dry runs, other targets)
	Extra    int         `json:"unlisted,omitempty"`  // objects at the target that the ledger does not list
	TornTail bool        `json:"torn_tail,omitempty"` // last line incomplete: an interrupted append
	// Unchecked says why nothing at all could be checked at the target (no entry names it, none
	// is recorded as stored there, the target cannot be asked): the ledger proves nothing about it.
	Unchecked string    `json:"unchecked,omitempty"`
	Notes     []string  `json:"notes,omitempty"` // worth knowing, not wrong
	Problems  []Problem `json:"problems"`
}

// OK reports whether nothing is wrong and, with a target, something was checked there.
func (r Audit) OK() bool { return len(r.Problems) == 0 && !r.TornTail && r.Unchecked == "" }

// audit is a chain's findings in the ledger's terms: a problem's entry is a SIP.
func audit(c chain.Audit) Audit {
	a := Audit{Path: c.Path, Entries: c.Entries, Last: c.Last, Heads: c.Heads, TornTail: c.TornTail, Notes: c.Notes}
	for _, p := range c.Problems {
		a.Problems = append(a.Problems, Problem{Line: p.Line, SIP: strings.TrimPrefix(p.Ref, "SIP "), Reason: p.Reason})
	}
	return a
}

// Read calls fn for every good entry of the ledger at path and returns the chain report.
func Read(path string, fn func(Entry)) (Audit, error) {
	rep, err := chain.Read(context.Background(), path, format, fn)
	return audit(rep), err
}

// VerifyOptions say what, besides its hash chain, a ledger is checked against.
type VerifyOptions struct {
	// Target: every SIP the ledger records as stored there is there with its recorded SHA-256,
	// and every object there is in the ledger.
	Target transfer.Target
	// Head: a head published elsewhere (a run report, a notification); the ledger must hold it
	// (it may have grown since). The head file beside the ledger is always checked.
	Head *Head
}

// Verify checks the chain of the ledger at path, the head file beside it, and, if target is not
// nil, the target (see VerifyWith).
func Verify(ctx context.Context, path string, target transfer.Target) (Audit, error) {
	return VerifyWith(ctx, path, VerifyOptions{Target: target})
}

// VerifyWith checks the chain of the ledger at path; that it holds the head file beside it
// (HeadPath) and opts.Head; that no SIP is recorded as done twice at one target; and, with
// opts.Target, that every SIP the ledger records as stored at that target is there with its
// recorded SHA-256 and that every object there is one the ledger lists.
//
// Targets are compared as NormalizeTarget spells them. Entries for other targets, dry runs and
// rejections are counted as skipped; VITAM cannot be asked for a stored SIP's checksum (its ATR is
// the receipt), so its entries are skipped too. When not one entry could be checked at the target,
// Report.Unchecked says why and the report is not OK.
func VerifyWith(ctx context.Context, path string, opts VerifyOptions) (Audit, error) {
	var ents []Entry
	c, err := chain.Verify(ctx, path, format, opts.Head, func(e Entry) { ents = append(ents, e) })
	rep := audit(c)
	if err != nil {
		return rep, err
	}
	rep.checkTwice(ents)
	rep.checkVisas(ents)
	if opts.Target == nil {
		return rep, nil
	}
	return rep, rep.checkTarget(ctx, opts.Target, ents)
}

// checkTwice names the SIPs recorded as done more than once at one target: the ledger would count
// them twice, and an archive like VITAM would have ingested them twice.
func (rep *Audit) checkTwice(ents []Entry) {
	first := map[key]int{}
	keys := map[string]string{}
	for i, e := range ents {
		if !e.Done() {
			continue
		}
		tk, ok := keys[e.Target]
		if !ok {
			tk = targetKey(e.Target)
			keys[e.Target] = tk
		}
		k := key{tk, e.SIP}
		j, seen := first[k]
		if !seen {
			first[k] = i
			continue
		}
		same := "with the same SHA-256"
		if ents[j].SHA256 != e.SHA256 {
			same = fmt.Sprintf("first with sha256 %s, now %s", short(ents[j].SHA256), short(e.SHA256))
		}
		rep.Problems = append(rep.Problems, Problem{Line: i + 1, SIP: e.SIP,
			Reason: fmt.Sprintf("recorded a second time as %s at %s (first at line %d, %s)", e.Status, NormalizeTarget(e.Target), j+1, same)})
	}
}

func (rep *Audit) checkTarget(ctx context.Context, target transfer.Target, ents []Entry) error {
	rep.Target = NormalizeTarget(target.String())
	want := targetKey(target.String())
	// Only the latest entry per SIP counts: an earlier "rejected" superseded by "stored" is history.
	latest := map[string]int{}
	keys := map[string]string{}
	var others []string // the targets the entries name, in order of appearance
	perTarget := map[string]int{}
	statuses := map[string]int{}
	for i, e := range ents {
		if e.SIP == "" {
			continue
		}
		tk, ok := keys[e.Target]
		if !ok {
			tk = targetKey(e.Target)
			keys[e.Target] = tk
		}
		if tk != want {
			if perTarget[e.Target] == 0 {
				others = append(others, e.Target)
			}
			perTarget[e.Target]++
			continue
		}
		latest[e.SIP] = i
	}
	before := len(rep.Problems)
	unsupported := 0
	for i, e := range ents {
		if e.SIP == "" {
			continue
		}
		if keys[e.Target] != want || latest[e.SIP] != i {
			rep.Skipped++
			continue
		}
		if e.Status == StatusDeleted {
			if err := rep.checkDeleted(ctx, target, i+1, e); err != nil {
				return err
			}
			continue
		}
		if e.Status != StatusStored && e.Status != StatusLocked {
			statuses[e.Status]++
			rep.Skipped++
			continue
		}
		line := i + 1
		obj, err := target.Stat(ctx, e.SIP)
		switch {
		case errors.Is(err, transfer.ErrNotSupported):
			unsupported++
			rep.Skipped++
		case errors.Is(err, transfer.ErrNotExist):
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: "recorded as stored but missing at " + rep.Target})
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: "could not check at the target: " + err.Error()})
		case obj.SHA256 == "":
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: "the target reports no SHA-256 for it"})
		case obj.SHA256 != e.SHA256 || obj.Size != e.Size:
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: fmt.Sprintf("at the target: sha256 %s, %d bytes; recorded: sha256 %s, %d bytes", obj.SHA256, obj.Size, e.SHA256, e.Size)})
		case e.Receipt.Checksum != "" && obj.Checksum != "" && obj.Checksum != e.Receipt.Checksum:
			// For a multipart object the SHA-256 above is metadata written by the uploader; the
			// server's composite checksum is the independent evidence.
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: fmt.Sprintf("the server's checksum is %s, recorded %s", obj.Checksum, e.Receipt.Checksum)})
		default:
			rep.Checked++
		}
	}
	found := len(rep.Problems) > before
	if err := rep.checkListed(ctx, target, latest); err != nil {
		return err
	}
	if rep.Checked > 0 || found {
		return nil
	}
	switch {
	case len(ents) == 0:
		rep.Unchecked = "the ledger has no entries to check at " + rep.Target
	case len(latest) == 0:
		names := make([]string, len(others))
		for i, t := range others {
			names[i] = fmt.Sprintf("%s (%d)", t, perTarget[t])
			if strings.HasPrefix(t, "dir://") && !strings.HasPrefix(t, "dir:///") {
				names[i] += " [a relative path: read from the folder the run was started in]"
			}
		}
		rep.Unchecked = fmt.Sprintf("no ledger entry was recorded for target %s; entries name: %s", rep.Target, strings.Join(names, ", "))
	case unsupported > 0:
		rep.Unchecked = fmt.Sprintf("%s cannot be asked for a stored SIP's checksum: none of the %d entries recorded there could be checked", rep.Target, len(latest))
	default:
		var st []string
		for _, s := range []string{StatusAccepted, StatusRejected, StatusPending, StatusDryRun} {
			if statuses[s] > 0 {
				st = append(st, fmt.Sprintf("%d %s", statuses[s], s))
			}
		}
		rep.Unchecked = fmt.Sprintf("none of the %d SIPs recorded for %s is recorded as stored there (%s): only stored SIPs can be checked at a target (VITAM's receipt is its ATR)",
			len(latest), rep.Target, strings.Join(st, ", "))
	}
	return nil
}

// checkDeleted checks that a SIP the ledger records as deleted under a visa is gone.
func (rep *Audit) checkDeleted(ctx context.Context, target transfer.Target, line int, e Entry) error {
	_, err := target.Stat(ctx, e.SIP)
	switch {
	case errors.Is(err, transfer.ErrNotExist):
		rep.Checked++
	case errors.Is(err, transfer.ErrNotSupported):
		rep.Skipped++
	case err == nil:
		rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: fmt.Sprintf("recorded as deleted under visa %q but still at %s", e.Visa, rep.Target)})
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: "could not check at the target: " + err.Error()})
	}
	return nil
}

// checkListed names the objects at the target that the ledger does not list (in any status): sent
// behind the ledger's back, or whose entry was removed. The ledger and its head are skipped when
// they live in a dir:// target's folder.
func (rep *Audit) checkListed(ctx context.Context, target transfer.Target, listed map[string]int) error {
	own := rep.ownFiles()
	err := target.List(ctx, func(o transfer.Object) error {
		if _, ok := listed[o.Name]; ok || own(o.Name) {
			return nil
		}
		rep.Extra++
		rep.Problems = append(rep.Problems, Problem{SIP: o.Name, Reason: "at " + rep.Target + " but not in the ledger"})
		return nil
	})
	switch {
	case err == nil, errors.Is(err, transfer.ErrNotSupported):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	rep.Problems = append(rep.Problems, Problem{Reason: "could not list the objects at " + rep.Target + ": " + err.Error()})
	return nil
}

// ownFiles tells the ledger's own files (the ledger, its head and the head's temporary files) when
// they are inside the dir:// target checked.
func (rep *Audit) ownFiles() func(name string) bool {
	root, ok := strings.CutPrefix(rep.Target, "dir://")
	if !ok {
		return func(string) bool { return false }
	}
	root, _, _ = strings.Cut(root, "?")
	abs, err := filepath.Abs(rep.Path)
	if err != nil {
		return func(string) bool { return false }
	}
	hpath := HeadPath(abs)
	return func(name string) bool {
		p := filepath.Join(root, filepath.FromSlash(name))
		return p == abs || p == hpath ||
			(filepath.Dir(p) == filepath.Dir(hpath) && strings.HasPrefix(filepath.Base(p), "."+filepath.Base(hpath)+".tmp"))
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
