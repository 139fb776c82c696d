package ledger_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/transfer/ledger"
)

// testdata/v1 holds a ledger and its head as versement wrote them before the hash chain moved to
// package chain (entries of every status, an S3 target with escaped '&', non-ASCII, a note with
// characters encoding/json escapes). Ledgers already at archives must keep verifying, and what the
// code writes today must be the very same bytes.
const v1Head = "5:c039373586f552790a4e2ae0749cf227e02cf6b49dfcabc175fb428adf3d328d"

func copyV1(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"ledger.jsonl", "ledger.head"} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "ledger.jsonl")
}

func TestLedgerWrittenByVersion1StillVerifies(t *testing.T) {
	p := copyV1(t)
	want, _ := ledger.ParseHead(v1Head)
	rep, err := ledger.VerifyWith(context.Background(), p, ledger.VerifyOptions{Head: &want})
	if err != nil || !rep.OK() || rep.Entries != 5 || rep.Last != want.Hash || len(rep.Heads) != 2 || !rep.Heads[0].OK || !rep.Heads[1].OK {
		t.Fatalf("%+v %v", rep, err)
	}

	// The same entries appended again make the same bytes.
	var ents []ledger.Entry
	if _, err := ledger.Read(p, func(e ledger.Entry) { ents = append(ents, e) }); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(t.TempDir(), "again.jsonl")
	l, err := ledger.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if h := l.Head(); h != want {
		t.Errorf("head of the rewritten ledger %s, want %s", h, want)
	}
	l.Close()
	orig, _ := os.ReadFile(p)
	again, _ := os.ReadFile(q)
	if !bytes.Equal(orig, again) {
		t.Fatalf("re-encoded ledger differs:\n%s\nwant\n%s", again, orig)
	}
	if h, _ := os.ReadFile(ledger.HeadPath(q)); string(h) != v1Head+"\n" {
		t.Errorf("head file %q", h)
	}

	// And a writer goes on from where it ends.
	l, err = ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Lookup("dir:///srv/depot/", "apogee-etudiant-final-0001.zip"); !ok || e.Seq != 1 || e.Count != 1000 {
		t.Errorf("lookup: %+v %v", e, ok)
	}
	e, err := l.Append(entry(7))
	l.Close()
	if err != nil || e.Seq != 6 || e.Prev != want.Hash {
		t.Fatalf("append: %+v %v", e, err)
	}
	if rep, err := ledger.Verify(context.Background(), p, nil); err != nil || !rep.OK() || rep.Entries != 6 {
		t.Fatalf("after append: %+v %v", rep, err)
	}
}
