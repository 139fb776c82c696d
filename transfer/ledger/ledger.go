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
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/versement/versement/internal/flock"
	"github.com/versement/versement/transfer"
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

	Hash string `json:"hash"` // SHA-256 of this line with "hash":""
}

// Status values.
const (
	StatusStored   = "stored"   // at the target (sent now or found already there)
	StatusAccepted = "accepted" // VITAM ATR OK or WARNING
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
		Profile: sip.Meta[transfer.MetaProfile], Class: sip.Meta[transfer.MetaClass], Tier: sip.Meta[transfer.MetaTier],
	}
	switch {
	case r.DryRun:
		e.Status = StatusDryRun
	case r.ReplyCode == "" && r.Operation != "":
		e.Status = StatusPending
	case r.ReplyCode == "":
		e.Status = StatusStored
	case r.ReplyCode == "OK" || r.ReplyCode == "WARNING" || r.ReplyCode == "Test OK" || r.ReplyCode == "Test WARNING":
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
	index map[key]int // (target, sip) → position in entries of the latest entry
	ents  []Entry
}

type key struct{ target, sip string }

// Open opens or creates the ledger at path for appending, locks it, reads and checks the chain.
// A broken chain refuses the open: appending to a ledger that no longer proves anything would hide
// the damage. A torn last line (a crash during an append, before its fsync) is cut off with a
// warning: it was never a committed entry.
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
	l := &Ledger{f: f, path: path, last: Genesis, index: map[key]int{}}
	var good int64
	rep, err := scan(f, func(e Entry, end int64) {
		l.add(e)
		good = end
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if rep.TornTail {
		slog.Warn("ledger: cutting off a torn last line left by an interrupted append", "ledger", path, "line", rep.Entries+1)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("ledger %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
	} else if !rep.OK() {
		f.Close()
		return nil, fmt.Errorf("ledger %s is damaged, refusing to append: %s (run versement verify --ledger)", path, rep.Problems[0])
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *Ledger) add(e Entry) {
	l.ents = append(l.ents, e)
	l.index[key{e.Target, e.SIP}] = len(l.ents) - 1
	l.last, l.seq = e.Hash, e.Seq
}

// Append writes e (Seq, Time, Prev, Hash and V are filled in), fsyncs, and returns it.
func (l *Ledger) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return e, errors.New("ledger is closed")
	}
	e.V, e.Seq, e.Prev = Version, l.seq+1, l.last
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

// Lookup returns the latest entry for sip at target (a URL as Target.String() gives it).
func (l *Ledger) Lookup(target, sip string) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.index[key{target, sip}]
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

// Problem is one finding, at a line of the ledger file (1-based).
type Problem struct {
	Line   int    `json:"line"`
	SIP    string `json:"sip,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.SIP != "" {
		return fmt.Sprintf("line %d (SIP %s): %s", p.Line, p.SIP, p.Reason)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// Report is what Verify found.
type Report struct {
	Path     string    `json:"ledger"`
	Entries  int       `json:"entries"`             // well-formed, correctly chained entries before the first break
	Last     string    `json:"last_hash"`           // hash of the last good entry: publish it to anchor the ledger
	Target   string    `json:"target,omitempty"`    // checked against, if any
	Checked  int       `json:"checked,omitempty"`   // SIPs found at the target with their recorded checksum
	Skipped  int       `json:"skipped,omitempty"`   // entries not checkable at the target (VITAM, dry runs, other targets)
	TornTail bool      `json:"torn_tail,omitempty"` // last line incomplete: an interrupted append
	Problems []Problem `json:"problems"`
}

// OK reports whether nothing is wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 && !r.TornTail }

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

func scan(r io.Reader, fn func(Entry, int64)) (Report, error) {
	var rep Report
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
func Read(path string, fn func(Entry)) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{Path: path}, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	rep, err := scan(f, func(e Entry, _ int64) { fn(e) })
	rep.Path = path
	return rep, err
}

// Verify checks the chain of the ledger at path and, if target is not nil, that every SIP the
// ledger records as stored at that target is there with its recorded SHA-256. Entries for other
// targets, dry runs and rejections are counted as skipped; VITAM cannot be asked for a stored SIP's
// checksum (its ATR is the receipt), so its entries are skipped too.
func Verify(ctx context.Context, path string, target transfer.Target) (Report, error) {
	var ents []Entry
	rep, err := Read(path, func(e Entry) { ents = append(ents, e) })
	if err != nil {
		return rep, err
	}
	if target == nil {
		return rep, nil
	}
	rep.Target = target.String()
	// Only the latest entry per SIP counts: an earlier "rejected" superseded by "stored" is history.
	latest := map[string]int{}
	for i, e := range ents {
		if e.Target == rep.Target {
			latest[e.SIP] = i
		}
	}
	for i, e := range ents {
		if e.Target != rep.Target || latest[e.SIP] != i || e.Status != StatusStored {
			rep.Skipped++
			continue
		}
		line := i + 1
		obj, err := target.Stat(ctx, e.SIP)
		switch {
		case errors.Is(err, transfer.ErrNotSupported):
			rep.Skipped++
		case errors.Is(err, transfer.ErrNotExist):
			rep.Problems = append(rep.Problems, Problem{Line: line, SIP: e.SIP, Reason: "recorded as stored but missing at " + rep.Target})
		case err != nil:
			if ctx.Err() != nil {
				return rep, ctx.Err()
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
	return rep, nil
}
