package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/ledger"
)

// A deletion the ledger records must follow the visa it names; a SIP recorded as deleted must be
// gone, and one recorded as locked is still checked like a stored one.
func TestVerifyEliminationNeedsVisa(t *testing.T) {
	ctx := context.Background()
	put := func(t *testing.T, tgt transfer.Target, name, body string) ledger.Entry {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := tgt.Put(ctx, transfer.SIP{Name: name, Path: p})
		if err != nil {
			t.Fatal(err)
		}
		return ledger.FromReceipt(transfer.SIP{Name: name, SHA256: r.SHA256, Size: r.Size}, r)
	}
	cases := []struct {
		name string
		visa bool // record the visa before the deletion
		keep bool // leave the deleted SIP at the target
		want string
	}{
		{name: "visa then deletion", visa: true},
		{name: "no visa", want: `line 4 (SIP old.zip): a deletion recorded under visa "V-2026-12", which no earlier entry records`},
		{name: "deleted but still there", visa: true, keep: true, want: `recorded as deleted under visa "V-2026-12" but still at dir://`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			tgt, err := dir.New(root)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "ledger.jsonl")
			l, err := ledger.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			old, err := l.Append(put(t, tgt, "old.zip", "old "+c.name))
			if err != nil {
				t.Fatal(err)
			}
			if c.visa {
				if _, err := l.Append(ledger.Entry{Kind: ledger.KindVisa, Status: ledger.StatusRecorded,
					Elimination: &ledger.Elimination{Proposal: "P1", Reference: "V-2026-12", Accepted: []string{"P1/L001"}}}); err != nil {
					t.Fatal(err)
				}
			} else {
				if _, err := l.Append(ledger.Entry{Kind: ledger.KindVisa, Status: ledger.StatusRecorded,
					Elimination: &ledger.Elimination{Proposal: "P1", Reference: "V-OTHER"}}); err != nil {
					t.Fatal(err)
				}
			}
			nw := put(t, tgt, "old-E1.zip", "new "+c.name)
			nw.Replaces, nw.Visa = "old.zip", "V-2026-12"
			if _, err := l.Append(nw); err != nil {
				t.Fatal(err)
			}
			if !c.keep {
				if err := os.Remove(filepath.Join(root, "old.zip")); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.RecordDeletion(old, "V-2026-12", time.Time{}, ""); err != nil {
				t.Fatal(err)
			}
			locked := put(t, tgt, "locked.zip", "locked "+c.name)
			locked, _ = l.Append(locked)
			if _, err := l.RecordDeletion(locked, "V-2026-12", time.Date(2031, 6, 30, 0, 0, 0, 0, time.UTC), ""); err != nil {
				t.Fatal(err)
			}
			l.Close()
			rep, err := ledger.Verify(ctx, p, tgt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pr := range rep.Problems {
				got = append(got, pr.String())
			}
			all := strings.Join(got, "\n")
			if c.want == "" {
				if !rep.OK() || rep.Checked != 3 {
					t.Fatalf("want OK with 3 checked (new, deleted, locked), got %d checked, problems:\n%s", rep.Checked, all)
				}
			} else if !strings.Contains(all, c.want) {
				t.Fatalf("want a problem %q, got:\n%s", c.want, all)
			}
		})
	}
}
