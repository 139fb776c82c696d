package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/ledger"
)

func entry(i int) ledger.Entry {
	return ledger.Entry{
		SIP: "sip-" + string(rune('a'+i)) + ".zip", MessageID: "MSG-" + string(rune('a'+i)), SHA256: strings.Repeat("0", 63) + string(rune('0'+i)),
		Size: int64(100 + i), Target: "dir:///x", Status: ledger.StatusStored, Profile: "apogee", Class: "etudiant", Tier: "final",
		FirstKey: "1000", LastKey: "1999", Count: 1000,
	}
}

func write(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := l.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAppendReopenLookup(t *testing.T) {
	p := write(t, 3)
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e, ok := l.Lookup("dir:///x", "sip-b.zip")
	if !ok || e.Seq != 2 || e.Count != 1000 || !e.Done() {
		t.Fatalf("lookup: %+v %v", e, ok)
	}
	if _, ok := l.Lookup("dir:///other", "sip-b.zip"); ok {
		t.Fatal("found at the wrong target")
	}
	e4, err := l.Append(entry(3))
	if err != nil || e4.Seq != 4 || e4.Prev == ledger.Genesis {
		t.Fatalf("append after reopen: %+v %v", e4, err)
	}
	rep, err := ledger.Verify(context.Background(), p, nil)
	if err != nil || !rep.OK() || rep.Entries != 4 || rep.Last != e4.Hash {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestSecondWriterRefused(t *testing.T) {
	p := write(t, 1)
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := ledger.Open(p); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second writer: %v", err)
	}
}

// Changing any single byte of any entry must be caught, at that entry's line.
func TestTamperOneByteNamesTheBrokenEntry(t *testing.T) {
	p := write(t, 5)
	orig, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	for _, tc := range []struct {
		name string
		line int
		edit func(b []byte) []byte
	}{
		{"size digit", 3, func(b []byte) []byte { return bytes.Replace(b, []byte(`"size":102`), []byte(`"size":103`), 1) }},
		{"sip name", 2, func(b []byte) []byte { return bytes.Replace(b, []byte(`sip-b`), []byte(`sip-x`), 1) }},
		{"hash itself", 5, func(b []byte) []byte { i := bytes.Index(b, []byte(`"hash":"`)) + 8; b[i] ^= 1; return b }},
		{"whitespace", 1, func(b []byte) []byte { return bytes.Replace(b, []byte(`,"seq"`), []byte(`, "seq"`), 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			for i, l := range lines {
				l = append([]byte(nil), l...)
				if i+1 == tc.line {
					l = tc.edit(l)
				}
				out = append(out, l...)
			}
			if bytes.Equal(out, orig) {
				t.Fatal("edit changed nothing")
			}
			q := filepath.Join(t.TempDir(), "l.jsonl")
			os.WriteFile(q, out, 0o644)
			rep, err := ledger.Verify(context.Background(), q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || len(rep.Problems) == 0 || rep.Problems[0].Line != tc.line {
				t.Fatalf("want a problem at line %d, got %+v", tc.line, rep)
			}
			if rep.Entries != tc.line-1 {
				t.Errorf("good entries %d, want %d", rep.Entries, tc.line-1)
			}
			if _, err := ledger.Open(q); err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("open for append of a damaged ledger: %v", err)
			}
		})
	}
}

func TestRemovedOrSwappedLines(t *testing.T) {
	p := write(t, 4)
	orig, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(orig, []byte("\n"))[:4]
	removed := bytes.Join([][]byte{lines[0], lines[2], lines[3]}, nil)
	swapped := bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3]}, nil)
	for name, content := range map[string][]byte{"removed": removed, "swapped": swapped} {
		q := filepath.Join(t.TempDir(), name)
		os.WriteFile(q, content, 0o644)
		rep, _ := ledger.Verify(context.Background(), q, nil)
		if rep.OK() || rep.Problems[0].Line != 2 || !strings.Contains(rep.Problems[0].Reason, "previous-entry hash") {
			t.Errorf("%s: %+v", name, rep)
		}
	}
}

func TestTornTailIsReportedAndCutOnOpen(t *testing.T) {
	p := write(t, 2)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"seq":3,"ti`)
	f.Close()
	rep, _ := ledger.Verify(context.Background(), p, nil)
	if rep.OK() || !rep.TornTail || rep.Problems[0].Line != 3 {
		t.Fatalf("verify: %+v", rep)
	}
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(entry(2)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rep, _ = ledger.Verify(context.Background(), p, nil)
	if !rep.OK() || rep.Entries != 3 {
		t.Fatalf("after cutting the torn tail: %+v", rep)
	}
}

// A ledger from elsewhere may hold a line with no end: verify reports it instead of reading it all
// into memory, and Open refuses it rather than cutting it off as a torn append.
func TestOverlongLineIsNotReadIntoMemory(t *testing.T) {
	p := write(t, 1)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Repeat([]byte("x"), 2<<20))
	f.Close()
	rep, err := ledger.Verify(context.Background(), p, nil)
	want := "line 2: longer than 1048576 bytes: not a ledger entry"
	if err != nil || rep.OK() || rep.TornTail || rep.Entries != 1 || rep.Problems[0].String() != want {
		t.Fatalf("verify: %+v %v; want the problem %q", rep, err, want)
	}
	if _, err := ledger.Open(p); err == nil || !strings.Contains(err.Error(), "is damaged, refusing to append: "+want) {
		t.Fatalf("open: %v", err)
	}
}

func TestVerifyAgainstTarget(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tg, err := dir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.zip", "b.zip", "c.zip"} {
		src := filepath.Join(t.TempDir(), name)
		os.WriteFile(src, []byte("content of "+name), 0o644)
		sip := transfer.SIP{Name: name, Path: src}
		r, err := tg.Put(ctx, sip)
		if err != nil {
			t.Fatal(err)
		}
		sip.Prepare(context.Background())
		if _, err := l.Append(ledger.FromReceipt(sip, r)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	rep, err := ledger.Verify(ctx, p, tg)
	if err != nil || !rep.OK() || rep.Checked != 3 {
		t.Fatalf("clean: %+v %v", rep, err)
	}
	os.Remove(filepath.Join(root, "b.zip"))
	os.WriteFile(filepath.Join(root, "c.zip"), []byte("altered"), 0o644)
	rep, err = ledger.Verify(ctx, p, tg)
	if err != nil || rep.OK() || rep.Checked != 1 || len(rep.Problems) != 2 {
		t.Fatalf("damaged target: %+v %v", rep, err)
	}
	if rep.Problems[0].Line != 2 || !strings.Contains(rep.Problems[0].Reason, "missing") ||
		rep.Problems[1].Line != 3 || !strings.Contains(rep.Problems[1].Reason, "recorded: sha256") {
		t.Errorf("problems: %+v", rep.Problems)
	}
}

func TestSendExactlyOnce(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tg, _ := dir.New(root)
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "s.zip")
	os.WriteFile(src, []byte("sip bytes"), 0o644)
	sip := transfer.SIP{Name: "s.zip", Path: src, Origin: transfer.Origin{Tier: "final"}}
	e, skipped, err := l.Send(ctx, tg, sip, ledger.Batch{FirstKey: "1", LastKey: "9", Count: 9})
	if err != nil || skipped || e.Seq != 1 || e.Tier != "final" || e.Count != 9 || e.Status != ledger.StatusStored {
		t.Fatalf("first send: %+v %v %v", e, skipped, err)
	}
	_, skipped, err = l.Send(ctx, tg, sip, ledger.Batch{})
	if err != nil || !skipped {
		t.Fatalf("second send: %v %v", skipped, err)
	}
	// A crash after Put but before Append: the ledger (and its head) lack the entry, the target
	// has the SIP.
	l.Close()
	os.Truncate(p, 0)
	os.WriteFile(ledger.HeadPath(p), []byte("0:"+ledger.Genesis+"\n"), 0o644)
	if l, err = ledger.Open(p); err != nil {
		t.Fatal(err)
	}
	e, skipped, err = l.Send(ctx, tg, sip, ledger.Batch{})
	if err != nil || skipped || !e.Receipt.AlreadyThere {
		t.Fatalf("after a lost append: %+v %v %v", e, skipped, err)
	}
	os.WriteFile(src, []byte("other bytes"), 0o644)
	if _, _, err := l.Send(ctx, tg, transfer.SIP{Name: "s.zip", Path: src}, ledger.Batch{}); !errors.Is(err, transfer.ErrConflict) {
		t.Fatalf("changed SIP: %v", err)
	}
	l.Close()
	rep, _ := ledger.Verify(ctx, p, tg)
	if !rep.OK() || rep.Entries != 1 || rep.Checked != 1 {
		t.Fatalf("%+v", rep)
	}
}
