package deposit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/versement/versement/chain"
)

// Events of the journal: every call that changes a transaction.
const (
	EventCreate    = "create"
	EventUnits     = "units-added"
	EventObject    = "object-completed"
	EventClose     = "close"
	EventSubmit    = "submit"
	EventProcessed = "processed"
	EventFailed    = "failed"
)

// JournalFile is the journal's name in the deposits folder.
const JournalFile = "journal.jsonl"

// Event is one line of the deposits journal: who did what to which transaction. It holds no
// dossier content: counts, names the depositor gave objects, digests and SIP names.
type Event struct {
	V    int       `json:"v"`
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Prev string    `json:"prev"`

	Event         string   `json:"event"`
	Establishment string   `json:"establishment"`
	Tx            string   `json:"tx"`
	Kind          string   `json:"kind,omitempty"`
	By            string   `json:"by,omitempty"`
	Profile       string   `json:"profile,omitempty"`
	Class         string   `json:"class,omitempty"`
	Units         int      `json:"units,omitempty"` // added by this call, or in the transaction at close
	Object        string   `json:"object,omitempty"`
	Size          int64    `json:"size,omitempty"`
	SHA256        string   `json:"sha256,omitempty"`
	SIP           string   `json:"sip,omitempty"`
	SIPs          []string `json:"sips,omitempty"`
	State         string   `json:"state,omitempty"`
	Error         string   `json:"error,omitempty"`

	Hash string `json:"hash"`
}

var journalFormat = &chain.Format[Event]{
	Name:      "deposits journal",
	EntryName: "a deposits journal entry",
	Version:   1,
	Perm:      0o600,
	HeadFrom:  "from an earlier verify",
	Writer:    "deposit",
	Link: func(e *Event) chain.Link {
		return chain.Link{V: e.V, Seq: e.Seq, Time: e.Time, Prev: e.Prev, Hash: e.Hash}
	},
	SetLink: func(e *Event, l chain.Link) { e.V, e.Seq, e.Time, e.Prev, e.Hash = l.V, l.Seq, l.Time, l.Prev, l.Hash },
	Ref:     func(e *Event) string { return "transaction " + e.Tx },
	Check: func(e *Event) error {
		if e.Event == "" || e.Tx == "" {
			return fmt.Errorf("not a deposits journal entry (no event or transaction)")
		}
		return nil
	},
}

// A process keeps the journal open while it appends to it, and gives it up once idle for
// journalIdle, or after journalHold however busy: chain.Open re-reads and checks the whole file,
// too much to do for every object of a large transaction, and another process (a worker, a
// second server) waits at most about journalHold for its turn.
const (
	journalIdle = 20 * time.Millisecond
	journalHold = 250 * time.Millisecond
)

// openJournal is the journal this process holds, and the lock it holds it under.
type openJournal struct {
	mu     sync.Mutex
	log    *chain.Log[Event]
	unlock func()
	opened time.Time
	idle   *time.Timer
	// Where the file ended when this process last let it go: the next opening checks only what
	// others appended since (chain.Reopen). Reading the whole journal at every opening made each
	// deposit slower than the one before (one line per object, for the establishment's life).
	seen     chain.Head
	seenSize int64
}

// journal appends e, on disk before it returns. chain.Open refuses at once a file another process
// holds, so the journal's own lock file serialises the servers and workers sharing the folder.
// The first opening in a process checks the whole chain, each later one what was appended since:
// a damaged journal stops the deposits rather than being appended to.
func (s *Service) journal(ctx context.Context, e Event) error {
	j := &s.jnl
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.log == nil {
		path := filepath.Join(s.cfg.Dir, JournalFile)
		unlock, err := lockFile(ctx, path+".lock", 0)
		if err != nil {
			return err
		}
		var l *chain.Log[Event]
		if j.seen.Entries > 0 {
			l, err = chain.Reopen(ctx, path, journalFormat, j.seen, j.seenSize, nil)
		} else {
			l, err = chain.Open(ctx, path, journalFormat, nil)
		}
		if err != nil {
			unlock()
			return fmt.Errorf("deposit %s: %w", s.cfg.Establishment, err)
		}
		j.log, j.unlock, j.opened = l, unlock, time.Now()
	}
	e.Establishment = s.cfg.Establishment
	e.Time = s.now()
	_, err := j.log.Append(e)
	if time.Since(j.opened) > journalHold {
		j.close()
	} else if j.idle == nil {
		j.idle = time.AfterFunc(journalIdle, s.releaseJournal)
	} else {
		j.idle.Reset(journalIdle)
	}
	if err != nil {
		return fmt.Errorf("deposit %s: journal: %w", s.cfg.Establishment, err)
	}
	return nil
}

// close closes the journal and gives its lock up; j.mu is held.
func (j *openJournal) close() {
	if j.log != nil {
		j.seen, j.seenSize = j.log.End()
		j.log.Close()
		j.unlock()
		j.log, j.unlock = nil, nil
	}
}

// releaseJournal closes the journal and gives its lock up, for other processes.
func (s *Service) releaseJournal() {
	s.jnl.mu.Lock()
	defer s.jnl.mu.Unlock()
	s.jnl.close()
}

// Release waits for the processing Close started in the background and gives the journal up:
// what a server shutting down calls.
func (s *Service) Release() {
	s.bg.Wait()
	s.releaseJournal()
}

// VerifyJournal checks the deposits journal of dir (its chain and its head), calling each for
// every good entry.
func VerifyJournal(ctx context.Context, dir string, each func(Event)) (chain.Audit, error) {
	return chain.Verify(ctx, filepath.Join(dir, JournalFile), journalFormat, nil, each)
}

// VerifyJournalFile is VerifyJournal of the journal at path, also checking head (a head an
// earlier verify printed) when it is not nil.
func VerifyJournalFile(ctx context.Context, path string, head *chain.Head) (chain.Audit, error) {
	return chain.Verify(ctx, path, journalFormat, head, nil)
}

// IsJournal reports whether the file at path is a deposits journal: its first entry has the
// journal's "event" and "tx" fields, which neither a transfer ledger's nor an access log's
// entries have. An empty file, or one that is no JSON, is not.
func IsJournal(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(f, 64<<10), 64<<10).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, nil // a first line past 64 KiB is no journal entry
	}
	var first struct {
		Event *string `json:"event"`
		Tx    *string `json:"tx"`
	}
	if json.Unmarshal(line, &first) != nil {
		return false, nil
	}
	return first.Event != nil && first.Tx != nil, nil
}
