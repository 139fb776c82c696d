package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/retry"
	"github.com/versement/versement/transfer/vitam"
)

// resumable is a folder target that can also resume (as VITAM does): it records the operations.
type resumable struct {
	transfer.Target
	ops []string
}

func (r *resumable) Resume(_ context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	r.ops = append(r.ops, op)
	return transfer.Receipt{Target: r.String(), Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256, Operation: op, ReplyCode: "OK"}, nil
}

// A SIP recorded as pending is resumed through the decorators when the target can resume, and
// refused with the operation named when it cannot: both branches of Send run, whatever wraps
// the target.
func TestSendPendingThroughDecorators(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "s.zip")
	os.WriteFile(src, []byte("sip bytes"), 0o644)
	sum, _ := transfer.FileSHA256(src)
	for name, wrap := range map[string]func(transfer.Target) transfer.Target{
		"bare":  func(t transfer.Target) transfer.Target { return t },
		"retry": func(t transfer.Target) transfer.Target { return retry.Wrap(t, retry.Policy{}) },
		// dry run wraps the folder as targets.Open does; Resume sends nothing.
		"retry+dryrun": func(t transfer.Target) transfer.Target { return retry.Wrap(dryrun.Wrap(t), retry.Policy{}) },
	} {
		t.Run(name, func(t *testing.T) {
			d, err := dir.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, canResume := range []bool{false, true} {
				var inner transfer.Target = d
				res := &resumable{Target: d}
				if canResume {
					inner = res
				}
				tg := wrap(inner)
				l, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				pending := ledger.Entry{SIP: "s.zip", SHA256: sum, Size: 9, Target: tg.String(), Status: ledger.StatusPending,
					Receipt: transfer.Receipt{Target: tg.String(), Name: "s.zip", Operation: "op-42"}}
				if _, err := l.Append(pending); err != nil {
					t.Fatal(err)
				}
				e, skipped, err := l.Send(ctx, tg, transfer.SIP{Name: "s.zip", Path: src}, ledger.Batch{})
				switch {
				case !canResume && (err == nil || !strings.Contains(err.Error(), "operation op-42 (ledger entry 1) has no known outcome yet")):
					t.Errorf("a target that cannot resume: %+v %v", e, err)
				case !canResume && transfer.IsTransient(err):
					t.Errorf("the refusal is retried: %v", err)
				case canResume && (err != nil || skipped || len(res.ops) != 1 || res.ops[0] != "op-42" || e.Status != ledger.StatusAccepted || e.Seq != 2):
					t.Errorf("a target that resumes: %+v skipped=%v ops=%v %v", e, skipped, res.ops, err)
				}
				l.Close()
			}
		})
	}
}

// The status of an archive's receipt follows VITAM's acceptance rule, which only vitam writes.
func TestStatusFollowsVITAMsAcceptanceRule(t *testing.T) {
	for code, want := range map[string]string{
		"OK": ledger.StatusAccepted, "WARNING": ledger.StatusAccepted, "Test OK": ledger.StatusAccepted, "Test WARNING": ledger.StatusAccepted,
		"KO": ledger.StatusRejected, "FATAL": ledger.StatusRejected, "Test KO": ledger.StatusRejected, "ok": ledger.StatusRejected,
	} {
		e := ledger.FromReceipt(transfer.SIP{Name: "a.zip"}, transfer.Receipt{Operation: "op", ReplyCode: code})
		if e.Status != want || (want == ledger.StatusAccepted) != vitam.Accepted(code) {
			t.Errorf("ReplyCode %q: status %s, want %s (vitam.Accepted %v)", code, e.Status, want, vitam.Accepted(code))
		}
	}
	if e := ledger.FromReceipt(transfer.SIP{Name: "a.zip"}, transfer.Receipt{Operation: "op"}); e.Status != ledger.StatusPending {
		t.Errorf("no verdict yet: %s", e.Status)
	}
}
