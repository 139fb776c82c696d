package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/versement/versement/internal/flock"
)

// Log is an open file, its single writer. Its methods are safe for concurrent use.
type Log[E any] struct {
	mu   sync.Mutex
	f    *os.File // nil once closed
	path string
	fm   *Format[E]
	head Head  // where the file ends now
	size int64 // bytes of committed entries: the file's length but for an append in progress
	cut  *Cut
}

// Cut is the torn last line that Open cut off.
type Cut struct {
	Line int    // its line number
	Ref  string // what it was about, as Format.TailRef reads it ("" when unknown)
	// Committed: the head file counted it, so it was a whole, fsync'd entry once (the file was
	// damaged, not left by a crash in the middle of an append).
	Committed bool
}

// Open opens or creates the file at path for appending, locks it, and reads and checks its chain
// and the head file beside it (HeadPath), calling each for every entry, in order.
//
// A broken chain refuses the open: appending to a file that no longer proves anything would hide
// the damage. So does a file that holds less than its head records, or other entries: entries
// were removed or the chain recomputed. A head one or more entries behind the file (a crash
// between an append and the head's update, or a file written before heads existed) is brought up
// to date.
//
// A torn last line (a crash during an append, before its fsync) is cut off with a warning: it was
// never a committed entry. If the head says it was (the line was whole once: damage, not a crash),
// it is cut all the same, so that the writer can go on, and Cut says so: the caller records again
// what it described, from its own records.
func Open[E any](ctx context.Context, path string, fm *Format[E], each func(E)) (*Log[E], error) {
	f, err := openLocked(path, fm)
	if err != nil {
		return nil, err
	}
	l, err := open(ctx, f, path, fm, each)
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// openLocked opens or creates the file at path and takes its lock, without waiting.
func openLocked[E any](path string, fm *Format[E]) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fm.Perm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fm.Name, err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("%s %s is in use by another process", fm.Name, path)
		}
		return nil, fmt.Errorf("%s %s: %w", fm.Name, path, err)
	}
	return f, nil
}

func open[E any](ctx context.Context, f *os.File, path string, fm *Format[E], each func(E)) (*Log[E], error) {
	return openFrom(ctx, f, path, fm, each, Head{Hash: Genesis}, 0)
}

// openFrom is open for a file whose first from.Entries entries, ending at offset off, are known
// good: only what follows is read and checked.
func openFrom[E any](ctx context.Context, f *os.File, path string, fm *Format[E], each func(E), from Head, off int64) (*Log[E], error) {
	l := &Log[E]{f: f, path: path, fm: fm, head: from, size: off}
	// We hold the lock: no one appends while the head and the file are read.
	hpath := HeadPath(path)
	head, herr := ReadHead(hpath)
	p := newProbe(head)
	p.see(from.Entries, from.Hash)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s %s: %w", fm.Name, path, err)
	}
	rep, err := scanFrom(ctx, f, fm, from, off, func(e E, end int64) {
		l.head.Entries++
		l.head.Hash = fm.Link(&e).Hash
		p.see(l.head.Entries, l.head.Hash)
		l.size = end
		if each != nil {
			each(e)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", fm.Name, path, err)
	}
	if !rep.OK() && !rep.TornTail {
		return nil, fmt.Errorf("%s %s is damaged, refusing to append: %s (run versement verify --ledger)", fm.Name, path, rep.Problems[0])
	}
	n := l.head.Entries
	var torn []byte
	if rep.TornTail {
		torn = tail(f, l.size)
	}
	switch {
	case errors.Is(herr, fs.ErrNotExist):
		if n > 0 {
			slog.Warn(fm.Name+": no head file beside it (written by an older version, or removed); writing one", "file", path, "head", hpath)
		}
	case herr != nil:
		return nil, fmt.Errorf("%s %s: %w; refusing to append (restore it, or remove it to accept the %s as it is)", fm.Name, path, herr, fm.Name)
	default:
		if _, problem := p.against(fm.Name, n); problem != "" {
			if !rep.TornTail || head.Entries != n+1 {
				return nil, fmt.Errorf("%s %s does not match its head: %s %s; refusing to append (run versement verify --ledger; restore the %s from a backup, or remove %s to accept it as it is)",
					fm.Name, path, hpath, problem, fm.Name, hpath)
			}
			l.cut = &Cut{Line: int(from.Entries) + rep.Entries + 1, Committed: true}
		}
	}
	if rep.TornTail {
		if l.cut == nil {
			l.cut = &Cut{Line: int(from.Entries) + rep.Entries + 1}
		}
		if fm.TailRef != nil {
			l.cut.Ref = fm.TailRef(torn)
		}
		attrs := []any{"file", path, "line", l.cut.Line}
		if l.cut.Ref != "" {
			attrs = append(attrs, "ref", l.cut.Ref)
		}
		if l.cut.Committed {
			slog.Warn(fm.Name+": the last line is incomplete, but the head shows it was a committed entry; cutting it off: what it described must be recorded again", attrs...)
		} else {
			slog.Warn(fm.Name+": cutting off a torn last line left by an interrupted append", attrs...)
		}
		if err := f.Truncate(l.size); err != nil {
			return nil, fmt.Errorf("%s %s: %w", fm.Name, path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("%s %s: fsync: %w", fm.Name, path, err)
		}
	}
	if herr != nil || head != l.head {
		if err := writeHead(hpath, l.head, fm.Perm); err != nil {
			return nil, fmt.Errorf("%s %s: head: %w", fm.Name, path, err)
		}
	}
	return l, nil
}

// Reopen is Open for a writer that held the file before and closed it: seen is the head it left,
// and size the file's length then (End). When the entry ending at size is still the one seen,
// only what other writers appended since is read and checked, each called for those entries:
// a file several processes take turns appending to is not read whole at every turn. Otherwise
// (the file shorter, that entry altered) the whole file is read and checked, as Open does.
func Reopen[E any](ctx context.Context, path string, fm *Format[E], seen Head, size int64, each func(E)) (*Log[E], error) {
	f, err := openLocked(path, fm)
	if err != nil {
		return nil, err
	}
	var l *Log[E]
	if seen.Entries > 0 && endsWith(f, fm, seen, size) {
		l, err = openFrom(ctx, f, path, fm, each, seen, size)
	} else {
		l, err = open(ctx, f, path, fm, each)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// endsWith reports whether the line that ends at offset size is entry seen, whole and unaltered.
// It reads back from size by growing windows (4 KiB first: entries are a few hundred bytes), up
// to MaxLine, the longest line an entry may be.
func endsWith[E any](f *os.File, fm *Format[E], seen Head, size int64) bool {
	if size < 2 {
		return false
	}
	for n := int64(4 << 10); ; n *= 4 {
		n = min(n, size, int64(MaxLine)+1)
		b := make([]byte, n)
		if _, err := f.ReadAt(b, size-n); err != nil || b[n-1] != '\n' {
			return false
		}
		start := bytes.LastIndexByte(b[:n-1], '\n')
		if start < 0 && n < size && n <= int64(MaxLine) {
			continue // the line starts before this window
		}
		body := b[start+1 : n-1]
		recorded, computed, ok := lineHash(body)
		if !ok || recorded != computed || recorded != seen.Hash {
			return false
		}
		var e E
		if json.Unmarshal(body, &e) != nil {
			return false
		}
		lk := fm.Link(&e)
		return lk.Seq == seen.Entries && lk.Hash == seen.Hash
	}
}

// End is where the file ends: its head and length, for Reopen.
func (l *Log[E]) End() (Head, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head, l.size
}

// tail returns up to 64 KiB of the file from off: the torn line.
func tail(f *os.File, off int64) []byte {
	b := make([]byte, 64<<10)
	n, _ := f.ReadAt(b, off)
	return b[:n]
}

// Head is where the file ends now: put it in a report so that an auditor can later check, with
// `verify --ledger FILE --head COUNT:HASH`, that nothing was removed from the end nor the chain
// recomputed since.
func (l *Log[E]) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Cut says what Open cut off the end of the file, if anything.
func (l *Log[E]) Cut() (Cut, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut == nil {
		return Cut{}, false
	}
	return *l.cut, true
}

// Path is where the file lives.
func (l *Log[E]) Path() string { return l.path }

// Append writes e with its chain fields filled in (V, Seq, Prev, Hash, and Time when zero, in
// UTC), fsyncs, updates the head file, and returns e as written. When Append returns an error,
// nothing was committed and the file is as it was.
func (l *Log[E]) Append(e E) (E, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return e, errors.New(l.fm.Name + " is closed")
	}
	lk := l.fm.Link(&e)
	lk.V, lk.Seq, lk.Prev, lk.Hash = l.fm.Version, l.head.Entries+1, l.head.Hash, ""
	if lk.Time.IsZero() {
		lk.Time = time.Now().UTC()
	}
	l.fm.SetLink(&e, lk)
	line, h, err := encode(e)
	if err != nil {
		return e, fmt.Errorf("%s: %w", l.fm.Name, err)
	}
	if len(line) > MaxLine {
		return e, fmt.Errorf("%s: an entry of %d bytes is longer than the %d bytes verify accepts: not written", l.fm.Name, len(line), MaxLine)
	}
	if _, err := l.f.WriteAt(line, l.size); err != nil {
		// Take back a partial line (disk full…), so that the next append does not follow garbage.
		_ = l.f.Truncate(l.size)
		return e, fmt.Errorf("%s %s: %w", l.fm.Name, l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		// Whether the line reached the disk is unknown: take it back, so that the next append
		// does not chain to an entry that may not be there.
		_ = l.f.Truncate(l.size)
		return e, fmt.Errorf("%s %s: fsync: %w", l.fm.Name, l.path, err)
	}
	lk.Hash = h
	l.fm.SetLink(&e, lk)
	l.size += int64(len(line))
	l.head = Head{Entries: lk.Seq, Hash: h}
	// The entry is committed whatever happens to the head: a head left one entry behind is what a
	// crash at this point leaves too, and the next append or Open brings it up to date.
	if err := writeHead(HeadPath(l.path), l.head, l.fm.Perm); err != nil {
		slog.Warn(l.fm.Name+": the entry is recorded, but the head file could not be updated", "file", l.path, "seq", lk.Seq, "err", err)
	}
	return e, nil
}

// Read calls each for every entry committed so far, in order, checking the chain as Scan does,
// while other goroutines go on appending: it reads what was committed when it started, never a
// line being written.
func (l *Log[E]) Read(ctx context.Context, each func(E)) (Audit, error) {
	l.mu.Lock()
	f, size := l.f, l.size
	l.mu.Unlock()
	if f == nil {
		return Audit{Path: l.path}, errors.New(l.fm.Name + " is closed")
	}
	// ReadAt on the writer's descriptor: appends use WriteAt, so no file offset is shared.
	rep, err := Scan(ctx, io.NewSectionReader(f, 0, size), l.fm, func(e E, _ int64) { each(e) })
	rep.Path = l.path
	if err != nil {
		return rep, fmt.Errorf("%s %s: %w", l.fm.Name, l.path, err)
	}
	return rep, nil
}

// Close releases the lock.
func (l *Log[E]) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
