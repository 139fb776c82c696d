package chain_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/chain"
)

// appendNotes opens the file, appends the texts, closes it and returns where it ended.
func appendNotes(t *testing.T, p string, texts ...string) (chain.Head, int64) {
	t.Helper()
	l, err := chain.Open(context.Background(), p, notes, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, s := range texts {
		if _, err := l.Append(note{Text: s}); err != nil {
			t.Fatal(err)
		}
	}
	h, n := l.End()
	return h, n
}

// Two writers taking turns: the one that comes back reads only what the other appended, and
// checks it; the file stays one chain.
func TestReopenReadsOnlyWhatOthersAppended(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	seen, size := appendNotes(t, p, "a", "b", "c")
	appendNotes(t, p, "d", "e") // another writer's turn (Open reads the whole file)

	var read []string
	l, err := chain.Reopen(ctx, p, notes, seen, size, func(n note) { read = append(read, n.Text) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(read, "") != "de" || l.Head().Entries != 5 {
		t.Fatalf("read %v, head %+v: want d and e only, 5 entries", read, l.Head())
	}
	if f, err := l.Append(note{Text: "f"}); err != nil || f.Seq != 6 {
		t.Fatalf("append after Reopen: %+v %v", f, err)
	}
	l.Close()
	rep, err := chain.Verify(ctx, p, notes, nil, nil)
	if err != nil || !rep.OK() || rep.Entries != 6 {
		t.Fatalf("the file after the turns: %+v %v", rep, err)
	}
}

// What Reopen does not read is still guarded: an entry altered after the writer's turn (at the
// point it resumes from, or after it) refuses the open, as Open refuses it.
func TestReopenRefusesWhatWasAltered(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, old, new string
	}{
		{"the entry it left the file at", `"text":"c"`, `"text":"C"`},
		{"an entry another writer appended", `"text":"e"`, `"text":"E"`},
		{"an entry before its turn", `"text":"a"`, `"text":"A"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "notes.jsonl")
			seen, size := appendNotes(t, p, "a", "b", "c")
			appendNotes(t, p, "d", "e")
			b, _ := os.ReadFile(p)
			if err := os.WriteFile(p, bytes.Replace(b, []byte(c.old), []byte(c.new), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := chain.Reopen(ctx, p, notes, seen, size, nil)
			if c.name == "an entry before its turn" {
				// Not read again: the writer checked it when it first opened the file, and verify
				// finds it; appending goes on after the entries it can prove.
				if err != nil {
					t.Fatalf("Reopen: %v", err)
				}
				l.Close()
				if rep, _ := chain.Verify(ctx, p, notes, nil, nil); rep.OK() {
					t.Fatal("verify does not see the altered first entry")
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatal("Reopen appends after an altered entry")
			}
			if !strings.Contains(err.Error(), "damaged, refusing to append") {
				t.Fatalf("error: %v", err)
			}
		})
	}
}

// A file shorter than the writer left it (entries removed from its end) is read whole, and the
// head beside it says entries were removed.
func TestReopenOfAShortenedFileReadsItWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	seen, size := appendNotes(t, p, "a", "b", "c")
	if err := os.Truncate(p, size/2); err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Reopen(context.Background(), p, notes, seen, size, nil); err == nil {
		t.Fatal("Reopen of a file cut in half")
	}
}

// An entry longer than the first window Reopen reads back is still recognised.
func TestReopenAfterALongEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	seen, size := appendNotes(t, p, "a", strings.Repeat("x", 20<<10))
	appendNotes(t, p, "b")
	var read []string
	l, err := chain.Reopen(context.Background(), p, notes, seen, size, func(n note) { read = append(read, n.Text) })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if strings.Join(read, ",") != "b" {
		t.Fatalf("read %v: want only b (the 20 KiB entry was not recognised, so the file was read whole)", read)
	}
}
