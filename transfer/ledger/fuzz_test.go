package ledger_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/transfer/ledger"
)

// A ledger file may be damaged in any way: reading it must report, never panic, and the entries it
// accepts must chain.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"v":1,"seq":1}` + "\n"))
	f.Add([]byte("\n\n{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "l")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		prev := ledger.Genesis
		rep, err := ledger.Read(p, func(e ledger.Entry) {
			if e.Prev != prev {
				t.Fatalf("accepted an entry that does not chain: %+v", e)
			}
			prev = e.Hash
		})
		if err == nil && rep.OK() && len(b) > 0 && rep.Entries == 0 {
			t.Fatalf("non-empty file accepted with no entries: %q", b)
		}
	})
}

// A head comes from a file or a flag an auditor was handed: parsing it must never panic, and what
// it accepts must print back as itself.
func FuzzParseHead(f *testing.F) {
	f.Add("27:" + ledger.Genesis)
	f.Add(ledger.Genesis)
	f.Add("0:" + ledger.Genesis + "\n")
	f.Add("-1:x")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ledger.ParseHead(s)
		if err != nil {
			return
		}
		h2, err := ledger.ParseHead(h.String())
		if err != nil || h2 != h {
			t.Fatalf("%q parsed as %+v, which prints as %q and parses as %+v, %v", s, h, h.String(), h2, err)
		}
	})
}
