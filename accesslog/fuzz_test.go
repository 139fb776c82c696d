package accesslog_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/chain"
)

// An access log handed to an auditor may hold anything: reading it reports, never panics, and
// every entry it accepts is an access entry that chains.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"kind":"access","v":1,"seq":1,"time":"2026-12-04T09:30:00Z","prev":"` + chain.Genesis + `","user":{"id":"a","via":"cli"},"op":"view","result":"ok","hash":""}` + "\n"))
	f.Add([]byte(`{"kind":"other","v":1,"seq":1}` + "\n{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "access.jsonl")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		prev := chain.Genesis
		rep, err := accesslog.Read(ctx, p, func(e accesslog.Entry) {
			if e.Prev != prev || e.Kind != accesslog.Kind {
				t.Fatalf("accepted %+v", e)
			}
			prev = e.Hash
		})
		if err == nil && rep.OK() && len(b) > 0 && rep.Entries == 0 {
			t.Fatalf("non-empty file accepted with no entries: %q", b)
		}
		if _, err := accesslog.IsAccessLog(p); err != nil {
			t.Fatal(err)
		}
	})
}
