package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/targets"
)

// rejectOnce is an archive that refuses the first SIP it is sent (as VITAM answers KO), then
// accepts everything: what happens once the archivist has fixed what the ATR named.
type rejectOnce struct {
	transfer.Target
	mu       sync.Mutex
	rejected string
}

func (r *rejectOnce) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	r.mu.Lock()
	first := r.rejected == ""
	if first {
		r.rejected = sip.Name
	}
	r.mu.Unlock()
	if first {
		return transfer.Receipt{Target: r.String(), Name: sip.Name, Operation: "op-1", ReplyCode: "KO"},
			transfer.Permanent(fmt.Errorf("SIP %s %w: ReplyCode KO", sip.Name, transfer.ErrRejected))
	}
	return r.Target.Put(ctx, sip)
}

// A SIP the archive rejects does not stop the run: the others are sent, the run ends in error
// naming it, the SIP stays in the spool, and the next run sends it, ending in the same state as a
// run that was never refused.
func TestRejectedSIPDoesNotBlockTheRun(t *testing.T) {
	db := demoDB(t)
	want := t.TempDir()
	runJob(t, "sqlite:"+db, t.TempDir(), "dir://"+want)

	archive := &rejectOnce{} // one archive for both runs: it refuses only the very first SIP
	openTarget = func(ctx context.Context, u string, o targets.Options) (transfer.Target, error) {
		tg, err := targets.Open(ctx, u, o)
		if err != nil {
			return nil, err
		}
		archive.Target = tg
		return archive, nil
	}
	defer func() { openTarget = targets.Open }()

	out, state := t.TempDir(), t.TempDir()
	job := JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch}
	rep, err := Execute(context.Background(), job)
	if !errors.Is(err, transfer.ErrRejected) {
		t.Fatalf("first run: error %v, want the rejection", err)
	}
	if rep == nil || len(rep.SIPs) != len(zips(t, want))-1 {
		t.Fatalf("first run sent %v SIPs, want all but the rejected one (%d)", rep, len(zips(t, want))-1)
	}
	if spooled := zips(t, filepath.Join(state, "spool")); len(spooled) != 1 || spooled[0] != archive.rejected {
		t.Fatalf("spool after the rejection: %v, want [%s]", spooled, archive.rejected)
	}

	failedSIPs, failedDossiers := Failures(err)

	rep, err = Execute(context.Background(), job)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(rep.SIPs) != 1 || !rep.SIPs[0].Recovered || rep.SIPs[0].Name != archive.rejected {
		t.Fatalf("second run sent %+v, want the rejected SIP again", rep.SIPs)
	}
	if failedSIPs != 1 || failedDossiers != rep.SIPs[0].Dossiers {
		t.Errorf("the first run's failures: %d SIPs, %d dossiers; want 1, %d", failedSIPs, failedDossiers, rep.SIPs[0].Dossiers)
	}
	if a, b := fmt.Sprint(zipSums(t, out)), fmt.Sprint(zipSums(t, want)); a != b {
		t.Errorf("archive after the rejection and the rerun:\n%s\nwant (never refused):\n%s", a, b)
	}
}

func zips(t *testing.T, dir string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	sort.Strings(names)
	return names
}

func zipSums(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range zips(t, dir) {
		sum, err := transfer.FileSHA256(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n+" "+sum)
		verifySIP(t, filepath.Join(dir, n))
	}
	return out
}
