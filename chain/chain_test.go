package chain_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versement/versement/chain"
)

// note is the smallest entry a Format can describe.
type note struct {
	V    int       `json:"v"`
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Prev string    `json:"prev"`
	Text string    `json:"text"`
	Hash string    `json:"hash"`
}

var notes = &chain.Format[note]{
	Name: "notebook", EntryName: "a note", Version: 3, Perm: 0o600, HeadFrom: "from the notary", Writer: "scribe",
	Link: func(n *note) chain.Link {
		return chain.Link{V: n.V, Seq: n.Seq, Time: n.Time, Prev: n.Prev, Hash: n.Hash}
	},
	SetLink: func(n *note, l chain.Link) { n.V, n.Seq, n.Time, n.Prev, n.Hash = l.V, l.Seq, l.Time, l.Prev, l.Hash },
	Check: func(n *note) error {
		if n.Text == "" {
			return errors.New("no text")
		}
		return nil
	},
}

func openNotes(t *testing.T, p string) *chain.Log[note] {
	t.Helper()
	l, err := chain.Open(context.Background(), p, notes, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAppendFillsTheChainAndTheFormatNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	l := openNotes(t, p)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := l.Append(note{Text: "a", Time: at, Seq: 99, Prev: "x", Hash: "y"})
	if err != nil || a.V != 3 || a.Seq != 1 || a.Prev != chain.Genesis || !a.Time.Equal(at) || len(a.Hash) != 64 {
		t.Fatalf("%+v %v", a, err)
	}
	b, _ := l.Append(note{Text: "b"})
	if b.Seq != 2 || b.Prev != a.Hash || b.Time.IsZero() || b.Time.Location() != time.UTC {
		t.Fatalf("%+v", b)
	}
	if h := l.Head(); h != (chain.Head{Entries: 2, Hash: b.Hash}) {
		t.Fatalf("head %v", h)
	}
	for _, f := range []string{p, chain.HeadPath(p)} {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want the format's 0600", f, fi.Mode().Perm())
		}
	}
	if _, err := chain.Open(context.Background(), p, notes, nil); err == nil || err.Error() != "notebook "+p+" is in use by another process" {
		t.Errorf("second writer: %v", err)
	}
	l.Close()
	if _, err := l.Append(note{Text: "c"}); err == nil || err.Error() != "notebook is closed" {
		t.Errorf("append after close: %v", err)
	}

	// The messages name the notebook and its entries.
	os.Remove(chain.HeadPath(p))
	rep, _ := chain.Verify(context.Background(), p, notes, nil, nil)
	want := chain.HeadPath(p) + " is missing: nothing shows whether entries were removed from the end of the notebook (give --head COUNT:HASH from the notary to check against a head published elsewhere)"
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].String() != want {
		t.Errorf("%+v\nwant %s", rep, want)
	}
	os.WriteFile(chain.HeadPath(p), []byte("1:"+a.Hash+"\n"), 0o600)
	rep, _ = chain.Verify(context.Background(), p, notes, nil, nil)
	want = chain.HeadPath(p) + " records 1 entries, the notebook has 2 and extends it: the head was not updated after the last append (an interrupted scribe; the next scribe updates it)"
	if !rep.OK() || len(rep.Notes) != 1 || rep.Notes[0] != want {
		t.Errorf("%+v\nwant the note %s", rep, want)
	}
}

// Check runs on entries whose chain holds: a well-chained line that is not the format's entry
// is named as such.
func TestCheckRefusesAWellChainedForeignEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	lax := *notes
	lax.Check = nil
	l, _ := chain.Open(context.Background(), p, &lax, nil)
	l.Append(note{Text: "a"})
	l.Append(note{})
	l.Close()
	rep, err := chain.Verify(context.Background(), p, notes, nil, nil)
	if err != nil || rep.OK() || rep.Entries != 1 || rep.Problems[0].String() != "line 2: not a note: no text" {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, err := chain.Open(context.Background(), p, notes, nil); err == nil || err.Error() != "notebook "+p+" is damaged, refusing to append: line 2: not a note: no text (run versement verify --ledger)" {
		t.Fatalf("open: %v", err)
	}
}

// A web server appends from many goroutines: every entry lands once, chained, in some order.
func TestConcurrentAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	l := openNotes(t, p)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := l.Append(note{Text: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// A reader meanwhile sees whole, chained entries only.
	for r := 0; r < 5; r++ {
		rep, err := l.Read(context.Background(), func(note) {})
		if err != nil || !rep.OK() {
			t.Fatalf("read during appends: %+v %v", rep, err)
		}
	}
	wg.Wait()
	seen := map[string]bool{}
	rep, err := chain.Verify(context.Background(), p, notes, nil, func(n note) { seen[n.Text] = true })
	if err != nil || !rep.OK() || rep.Entries != writers*each || len(seen) != writers*each {
		t.Fatalf("%d entries, %d distinct: %+v %v", rep.Entries, len(seen), rep, err)
	}
}

// What verify would refuse is never written.
func TestAppendRefusesAnOverlongEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	l := openNotes(t, p)
	l.Append(note{Text: "a"})
	_, err := l.Append(note{Text: strings.Repeat("x", chain.MaxLine), Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	want := fmt.Sprintf("notebook: an entry of %d bytes is longer than the 1048576 bytes verify accepts: not written", chain.MaxLine+204)
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if b, err := l.Append(note{Text: "b"}); err != nil || b.Seq != 2 {
		t.Fatalf("after a refused append: %+v %v", b, err)
	}
	if rep, _ := chain.Verify(context.Background(), p, notes, nil, nil); !rep.OK() || rep.Entries != 2 {
		t.Fatalf("%+v", rep)
	}
}

// A head given as a hash alone is found wherever it is in the file, without holding the file's
// hashes in memory.
func TestPublishedHashAlone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	l := openNotes(t, p)
	var hashes []string
	for i := 0; i < 5; i++ {
		n, _ := l.Append(note{Text: "n"})
		hashes = append(hashes, n.Hash)
	}
	for i, h := range hashes {
		head := chain.Head{Entries: -1, Hash: h}
		rep, err := chain.Verify(context.Background(), p, notes, &head, nil)
		if err != nil || !rep.OK() || rep.Heads[1].Extra != int64(4-i) {
			t.Errorf("hash of entry %d: %+v %v", i+1, rep, err)
		}
	}
}

func TestReadIsCancelled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	l := openNotes(t, p)
	for i := 0; i < 300; i++ {
		l.Append(note{Text: "n"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Read(ctx, func(note) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v", err)
	}
	if _, err := chain.Read(ctx, p, notes, func(note) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("chain.Read: %v", err)
	}
}

// A file may be damaged in any way: reading it must report, never panic, and the entries it
// accepts must chain.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"v":3,"seq":1,"text":"a","hash":""}` + "\n"))
	f.Add([]byte("\n\n{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		prev := chain.Genesis
		rep, err := chain.Scan(context.Background(), strings.NewReader(string(b)), notes, func(n note, end int64) {
			if n.Prev != prev || end > int64(len(b)) {
				t.Fatalf("accepted an entry that does not chain: %+v", n)
			}
			prev = n.Hash
		})
		if err == nil && rep.OK() && len(b) > 0 && rep.Entries == 0 {
			t.Fatalf("non-empty file accepted with no entries: %q", b)
		}
	})
}
