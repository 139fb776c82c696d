package deposit

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// TestDepositToVITAMKeepsATR: a units transaction processed to VITAM (the in-process VITAM that
// behaves as 7.0.1's code) is done once VITAM accepted it, and its ATR is kept for GET …/atr.
func TestDepositToVITAMKeepsATR(t *testing.T) {
	ctx := context.Background()
	client := vitamtest.NewClient(t, "versement")
	srv := vitamtest.Start(t, "", client.Pool)
	client.SetEnv(t, srv)

	runOut, _ := demoRun(t)
	chosen, units := sipWithLOB(t, runOut)
	r, closeFn := openSIP(t, filepath.Join(runOut, chosen))
	defer closeFn()
	var queued []string
	s := newService(t, t.TempDir(), t.TempDir(), srv.TargetURL("&poll=1ms"), &queued)
	tx := openTx(t, s)
	if _, err := s.ATR(ctx, tx.ID); err == nil {
		t.Fatal("an ATR before processing")
	}
	depositUnits(t, s, tx.ID, r, units)
	if _, err := s.Close(ctx, tx.ID, "client"); err != nil {
		t.Fatal(err)
	}
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.Get(ctx, tx.ID)
	if tx.State != StateDone || len(tx.SIPs) != 1 || !tx.SIPs[0].ATR || tx.SIPs[0].Status != "accepted" {
		t.Fatalf("after Process: %+v", tx)
	}
	rc, err := s.ATR(ctx, tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	atr, _ := io.ReadAll(rc)
	if !strings.Contains(string(atr), "ArchiveTransferReply") || !strings.Contains(string(atr), "<ReplyCode>OK</ReplyCode>") {
		t.Errorf("ATR:\n%.600s", atr)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Errorf("%d ingests, want 1", n)
	}
}
