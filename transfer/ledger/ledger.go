// Package ledger is the append-only record of what was sent where: one JSON object per line,
// fsync'd after each append, each entry holding the SHA-256 of the previous one, so that changing,
// removing or reordering any line breaks the chain at that line.
//
// One process writes a ledger at a time: Open takes an exclusive flock on the file and fails at
// once if another process holds it. Readers (Verify, Read) take no lock: they only ever see whole,
// fsync'd lines, or a torn last line that they report as such.
package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/versement/versement/internal/flock"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
)

// Version of the entry format, written in every entry.
const Version = 1

// Genesis is the Prev of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

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

// Ledger is an open ledger, the single writer.
type Ledger struct {
	mu    sync.Mutex
	f     *os.File
	path  string
	last  string
	seq   int64
	index map[key]int // (target key, sip) → position in entries of the latest entry
	ents  []Entry
	keys  map[string]string // target URL → targetKey, computed once per spelling
	cut   *Cut
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("ledger %s is in use by another process", path)
		}
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l, err := open(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func open(f *os.File, path string) (*Ledger, error) {
	l := &Ledger{f: f, path: path, last: Genesis, index: map[key]int{}, keys: map[string]string{}}
	var good int64
	rep, err := scan(f, func(e Entry, end int64) {
		l.add(e)
		good = end
	})
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if !rep.OK() && !rep.TornTail {
		return nil, fmt.Errorf("ledger %s is damaged, refusing to append: %s (run versement verify --ledger)", path, rep.Problems[0])
	}
	hpath := HeadPath(path)
	head, herr := ReadHead(hpath)
	hashes := make([]string, len(l.ents))
	for i, e := range l.ents {
		hashes[i] = e.Hash
	}
	var torn []byte
	if rep.TornTail {
		torn = tail(f, good)
	}
	switch {
	case errors.Is(herr, fs.ErrNotExist):
		if len(l.ents) > 0 {
			slog.Warn("ledger: no head file beside the ledger (a ledger written by an older version); writing one", "ledger", path, "head", hpath)
		}
	case herr != nil:
		return nil, fmt.Errorf("ledger %s: %w; refusing to append (restore it, or remove it to accept the ledger as it is)", path, herr)
	default:
		if _, problem := head.against(hashes); problem != "" {
			if !rep.TornTail || head.Entries != int64(len(l.ents))+1 {
				return nil, fmt.Errorf("ledger %s does not match its head: %s %s; refusing to append (run versement verify --ledger; restore the ledger from a backup, or remove %s to accept it as it is)",
					path, hpath, problem, hpath)
			}
			l.cut = &Cut{Line: rep.Entries + 1, SIP: sipOf(torn), Committed: true}
		}
	}
	if rep.TornTail {
		if l.cut == nil {
			l.cut = &Cut{Line: rep.Entries + 1, SIP: sipOf(torn)}
		}
		if l.cut.Committed {
			slog.Warn("ledger: the last line is incomplete, but the head shows it was a committed entry; cutting it off: the SIP it described must be recorded again",
				"ledger", path, "line", l.cut.Line, "sip", l.cut.SIP)
		} else {
			slog.Warn("ledger: cutting off a torn last line left by an interrupted append", "ledger", path, "line", l.cut.Line, "sip", l.cut.SIP)
		}
		if err := f.Truncate(good); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		return nil, err
	}
	if herr != nil || head != l.head() {
		if err := writeHead(hpath, l.head()); err != nil {
			return nil, fmt.Errorf("ledger %s: head: %w", path, err)
		}
	}
	return l, nil
}

// tail returns up to 64 KiB of the file from off: the torn line.
func tail(f *os.File, off int64) []byte {
	b := make([]byte, 64<<10)
	n, _ := f.ReadAt(b, off)
	return b[:n]
}

func (l *Ledger) add(e Entry) {
	l.ents = append(l.ents, e)
	l.index[key{l.key(e.Target), e.SIP}] = len(l.ents) - 1
	l.last, l.seq = e.Hash, e.Seq
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

func (l *Ledger) head() Head { return Head{Entries: int64(len(l.ents)), Hash: l.last} }

// Head is where the ledger ends now: put it in the run's report (and its notifications) so that an
// auditor can later check, with `verify --ledger FILE --head COUNT:HASH`, that nothing was removed
// from the ledger's end nor the chain recomputed since.
func (l *Ledger) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head()
}

// Append writes e (Seq, Time, Prev, Hash and V are filled in; Target is normalised), fsyncs,
// updates the head file, and returns it.
func (l *Ledger) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return e, errors.New("ledger is closed")
	}
	e.V, e.Seq, e.Prev = Version, l.seq+1, l.last
	e.Target = NormalizeTarget(e.Target)
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, h, err := encode(e)
	if err != nil {
		return e, err
	}
	e.Hash = h
	off, err := l.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return e, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if _, err := l.f.Write(line); err != nil {
		// Take back a partial line (disk full…), so that the next append does not follow garbage.
		if terr := l.f.Truncate(off); terr == nil {
			l.f.Seek(off, io.SeekStart)
		}
		return e, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return e, fmt.Errorf("ledger %s: fsync: %w", l.path, err)
	}
	l.add(e)
	// The entry is committed whatever happens to the head: a head left one entry behind is what a
	// crash at this point leaves too, and the next append or Open brings it up to date.
	if err := writeHead(HeadPath(l.path), l.head()); err != nil {
		slog.Warn("ledger: the entry is recorded, but the head file could not be updated", "ledger", l.path, "seq", e.Seq, "err", err)
	}
	return e, nil
}

// hashTail is how every line ends before its hash is filled in.
var hashTail = []byte(`,"hash":""}`)

// encode returns the line (with newline) and the entry's hash.
func encode(e Entry) ([]byte, string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", err
	}
	if !bytes.HasSuffix(b, hashTail) {
		return nil, "", errors.New("ledger: internal error: hash is not the last field")
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(b)+len(h)+1)
	line = append(line, b[:len(b)-2]...) // up to `"hash":"`
	line = append(line, h...)
	line = append(line, '"', '}', '\n')
	return line, h, nil
}

// lineHash recomputes the hash of a written line (without its newline): the SHA-256 of the line
// with the value of its final "hash" field removed. ok is false if the line does not end that way.
func lineHash(body []byte) (recorded, computed string, ok bool) {
	const hexLen = 2 * sha256.Size
	if len(body) < hexLen+len(`,"hash":"`)+2 || !bytes.HasSuffix(body, []byte(`"}`)) {
		return "", "", false
	}
	valStart := len(body) - 2 - hexLen
	if !bytes.Equal(body[valStart-len(`,"hash":"`):valStart], []byte(`,"hash":"`)) {
		return "", "", false
	}
	recorded = string(body[valStart : len(body)-2])
	h := sha256.New()
	h.Write(body[:valStart])
	h.Write([]byte(`"}`))
	return recorded, hex.EncodeToString(h.Sum(nil)), true
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
func (l *Ledger) Path() string { return l.path }

// Close releases the lock.
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

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
type HeadCheck struct {
	Source string `json:"source"` // the head file's path, or "--head" for one given by the caller
	Head   string `json:"head"`   // COUNT:HASH or HASH
	Extra  int64  `json:"appended_since"`
	OK     bool   `json:"ok"`
}

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

// scan reads r, checking each line, calls fn for each good entry with the byte offset of its end,
// and stops at the first broken line (everything after it is unproven).
// maxLine bounds one entry: real ones are well under 4 KiB, and a ledger handed to an auditor must
// not make verify read gigabytes into memory looking for a newline.
const maxLine = 1 << 20

var errLongLine = errors.New("line too long")

// readLine is bufio.Reader.ReadBytes('\n') that gives up with errLongLine past max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errLongLine
		}
		line = append(line, chunk...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

func scan(r io.Reader, fn func(Entry, int64)) (Audit, error) {
	var rep Audit
	br := bufio.NewReaderSize(r, 64<<10)
	prev, seq := Genesis, int64(0)
	var off int64
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, maxLine)
		if len(line) == 0 && err == io.EOF {
			break
		}
		if errors.Is(err, errLongLine) {
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, Reason: fmt.Sprintf("longer than %d bytes: not a ledger entry", maxLine)})
			break
		}
		if err != nil && err != io.EOF {
			return rep, err
		}
		off += int64(len(line))
		if err == io.EOF { // no newline: an append that did not finish
			rep.TornTail = true
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, Reason: "incomplete last line (an append was interrupted)"})
			break
		}
		var e Entry
		body := line[:len(line)-1]
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, Reason: "not a ledger entry: " + err.Error()})
			break
		}
		recorded, h, ok := lineHash(body)
		switch {
		case dec.InputOffset() != int64(len(body)):
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, SIP: e.SIP, Reason: "data after the entry on the same line"})
		case !ok:
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, SIP: e.SIP, Reason: `the line does not end with its "hash" field: the entry was altered`})
		case h != recorded || recorded != e.Hash:
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, SIP: e.SIP, Reason: fmt.Sprintf("content does not match its hash (recorded %s, computed %s): the entry was altered", short(recorded), short(h))})
		case e.Prev != prev:
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, SIP: e.SIP, Reason: fmt.Sprintf("previous-entry hash %s does not match line %d's hash %s: an entry was removed, inserted or reordered", short(e.Prev), lineNo-1, short(prev))})
		case e.Seq != seq+1:
			rep.Problems = append(rep.Problems, Problem{Line: lineNo, SIP: e.SIP, Reason: fmt.Sprintf("sequence number %d, expected %d", e.Seq, seq+1)})
		}
		if len(rep.Problems) > 0 {
			break
		}
		prev, seq = e.Hash, e.Seq
		rep.Entries++
		rep.Last = e.Hash
		fn(e, off)
	}
	return rep, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// Read calls fn for every good entry of the ledger at path and returns the chain report.
func Read(path string, fn func(Entry)) (Audit, error) {
	f, err := os.Open(path)
	if err != nil {
		return Audit{Path: path}, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	rep, err := scan(f, func(e Entry, _ int64) { fn(e) })
	rep.Path = path
	return rep, err
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
	// The head first: a writer appends to the ledger before it updates the head, so a head read
	// before the ledger is never ahead of it.
	hpath := HeadPath(path)
	fileHead, herr := ReadHead(hpath)
	var ents []Entry
	rep, err := Read(path, func(e Entry) { ents = append(ents, e) })
	if err != nil {
		return rep, err
	}
	chained := len(rep.Problems) == 0 || rep.TornTail
	if chained {
		hashes := make([]string, len(ents))
		for i, e := range ents {
			hashes[i] = e.Hash
		}
		switch {
		case errors.Is(herr, fs.ErrNotExist) && len(ents) > 0 && opts.Head == nil:
			rep.Problems = append(rep.Problems, Problem{Reason: fmt.Sprintf("%s is missing: nothing shows whether entries were removed from the end of the ledger (give --head COUNT:HASH from a run report to check against a head published elsewhere)", hpath)})
		case errors.Is(herr, fs.ErrNotExist) && len(ents) > 0:
			rep.Notes = append(rep.Notes, hpath+" is missing")
		case errors.Is(herr, fs.ErrNotExist):
		case herr != nil:
			rep.Problems = append(rep.Problems, Problem{Reason: herr.Error()})
		default:
			rep.checkHead(hpath, fileHead, hashes)
			if rep.TornTail && fileHead.Entries == int64(len(ents))+1 {
				torn := &rep.Problems[0]
				torn.Reason = "incomplete last line, which " + hpath + " counts as a committed entry: the line was damaged or cut, not left by an interrupted append"
			}
		}
		if opts.Head != nil {
			rep.checkHead("--head", *opts.Head, hashes)
		}
	}
	rep.checkTwice(ents)
	if opts.Target == nil {
		return rep, nil
	}
	return rep, rep.checkTarget(ctx, opts.Target, ents)
}

func (rep *Audit) checkHead(source string, h Head, hashes []string) {
	extra, problem := h.against(hashes)
	rep.Heads = append(rep.Heads, HeadCheck{Source: source, Head: h.String(), Extra: extra, OK: problem == ""})
	switch {
	case problem != "":
		rep.Problems = append(rep.Problems, Problem{Reason: source + " " + problem})
	case extra > 0 && source != "--head":
		// Published heads fall behind as the ledger grows; the file beside it should not.
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s records %d entries, the ledger has %d and extends it: the head was not updated after the last append (an interrupted run; the next run updates it)", source, h.Entries, len(hashes)))
	}
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
		if keys[e.Target] != want || latest[e.SIP] != i {
			rep.Skipped++
			continue
		}
		if e.Status != StatusStored {
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
