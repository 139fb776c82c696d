package accesslog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/versement/versement/chain"
)

// format is the access log's entry as package chain reads and writes it.
var format = &chain.Format[Entry]{
	Name:      "access log",
	EntryName: "an access log entry",
	Version:   Version,
	Perm:      0o600,
	HeadFrom:  "from an earlier verify",
	Writer:    "append",
	Link: func(e *Entry) chain.Link {
		return chain.Link{V: e.V, Seq: e.Seq, Time: e.Time, Prev: e.Prev, Hash: e.Hash}
	},
	SetLink: func(e *Entry, l chain.Link) { e.V, e.Seq, e.Time, e.Prev, e.Hash = l.V, l.Seq, l.Time, l.Prev, l.Hash },
	// No Ref nor TailRef: what an entry is about is personal data, and verify's output is shown
	// and logged. A problem names its line.
	Check: func(e *Entry) error {
		if e.Kind != Kind {
			return fmt.Errorf("its kind is %q, not %q", e.Kind, Kind)
		}
		return nil
	},
}

// ErrDamaged is wrapped by ForKey's error when the log's chain breaks before its end: the
// listing stops at the break.
var ErrDamaged = errors.New("the access log is damaged")

// Log is an open access log, its process's single writer. Its methods are safe for concurrent use.
type Log struct {
	log *chain.Log[Entry]
}

// Open opens or creates the access log at path (0600) for appending, and checks its chain and
// head as chain.Open does: a damaged log is refused rather than appended to.
func Open(path string) (*Log, error) {
	l, err := chain.Open(context.Background(), path, format, nil)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		slog.Warn("access log: readable by others; narrowing it to 0600", "file", path, "mode", fi.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			l.Close()
			return nil, fmt.Errorf("access log %s: %w", path, err)
		}
	}
	return &Log{log: l}, nil
}

// Append records e (Kind, V, Seq, Prev and Hash are filled in; Time too when zero) and returns it
// as written, once it is on disk. An entry that could not answer who did what to which dossier
// and with what result is refused: the caller must not go on with an operation it cannot log.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return e, err
	}
	e.Kind = Kind
	if err := e.check(); err != nil {
		return e, fmt.Errorf("access log: entry refused: %w", err)
	}
	if !e.Time.IsZero() {
		e.Time = e.Time.UTC()
	}
	return l.log.Append(e)
}

// ForKey calls fn, in order, for every committed entry that touches the dossier profile/key (see
// Entry.Touches): its views, downloads and listings, refused ones included, and the searches that
// returned it. It reads the whole log, checking its chain on the way; fn's first error stops the
// calls and is returned. When the chain breaks, the entries before the break have been listed
// and the error wraps ErrDamaged.
func (l *Log) ForKey(ctx context.Context, profile, key string, fn func(Entry) error) error {
	var ferr error
	rep, err := l.log.Read(ctx, func(e Entry) {
		if ferr == nil && e.Touches(profile, key) {
			ferr = fn(e)
		}
	})
	return forKeyErr(rep, err, ferr)
}

// ForKey is Log.ForKey on a log no one need hold open: for an auditor's copy. It takes no lock;
// a torn last line (an append in progress elsewhere) ends the listing without an error.
func ForKey(ctx context.Context, path, profile, key string, fn func(Entry) error) error {
	var ferr error
	rep, err := chain.Read(ctx, path, format, func(e Entry) {
		if ferr == nil && e.Touches(profile, key) {
			ferr = fn(e)
		}
	})
	return forKeyErr(rep, err, ferr)
}

func forKeyErr(rep chain.Audit, err, ferr error) error {
	switch {
	case err != nil:
		return err
	case ferr != nil:
		return ferr
	case len(rep.Problems) > 0 && !rep.TornTail:
		return fmt.Errorf("%w at %s: only the entries before it are listed (run versement verify --ledger %s)", ErrDamaged, rep.Problems[0], rep.Path)
	}
	return nil
}

// Head is where the log ends now (see chain.Head): publish it to let an auditor check later that
// nothing was removed from its end.
func (l *Log) Head() chain.Head { return l.log.Head() }

// Path is where the log lives.
func (l *Log) Path() string { return l.log.Path() }

// Close releases the lock.
func (l *Log) Close() error { return l.log.Close() }

// Read calls fn for every good entry of the log at path and says what it found.
func Read(ctx context.Context, path string, fn func(Entry)) (chain.Audit, error) {
	return chain.Read(ctx, path, format, fn)
}

// Verify checks the chain of the access log at path, its head file and, when head is not nil, a
// head published elsewhere (see chain.Verify).
func Verify(ctx context.Context, path string, head *chain.Head) (chain.Audit, error) {
	return chain.Verify(ctx, path, format, head, nil)
}

// sniffLen is how much of a file IsAccessLog reads.
const sniffLen = 64

// IsAccessLog reports whether the file at path is an access log: its first entry begins with
// "kind":"access". Anything else (a transfer ledger, whose entries have no kind; an empty file;
// bytes that are no log at all) is not, and is left to the transfer ledger's checks to name.
func IsAccessLog(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(f), sniffLen))
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(b, []byte(`{"kind":"`+Kind+`"`)), nil
}
