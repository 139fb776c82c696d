package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/versement/versement/transfer/ledger"
)

// tearLastEntry cuts the ledger's last line short, after its head file counted it: the damage
// (not a crash) after which the ledger's writer cuts the line and the SIP it recorded must be
// recorded again from the state. It returns that entry.
func tearLastEntry(t *testing.T, path string) ledger.Entry {
	t.Helper()
	var last ledger.Entry
	if _, err := ledger.Read(path, func(e ledger.Entry) { last = e }); err != nil || last.Seq == 0 {
		t.Fatalf("ledger: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-40], 0o644); err != nil {
		t.Fatal(err)
	}
	return last
}

func readLedger(t *testing.T, path string) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	rep, err := ledger.Read(path, func(e ledger.Entry) { out = append(out, e) })
	if err != nil || !rep.OK() {
		t.Fatalf("ledger: %v %+v", err, rep)
	}
	return out
}

// A ledger entry lost after it was committed (its line torn) is recorded again from the state,
// with a note saying why, when the target has the SIP: nothing is sent again, the run warns once,
// and the report and the summary carry the ledger's head.
func TestLostLedgerEntryIsRecordedAgain(t *testing.T) {
	db := demoDB(t)
	state, out := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, state, "dir://"+out)
	ref := takeSnapshot(t, state, out)
	lpath := DefaultLedger(state)
	lost := tearLastEntry(t, lpath)

	var logs bytes.Buffer
	rep, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SIPs) != 0 || len(rep.LedgerRerecorded) != 1 || rep.LedgerRerecorded[0] != lost.SIP || len(rep.LedgerLost) != 0 {
		t.Fatalf("rerun: %d SIPs sent, re-recorded %v, lost %v; want only %s re-recorded", len(rep.SIPs), rep.LedgerRerecorded, rep.LedgerLost, lost.SIP)
	}
	ents := readLedger(t, lpath)
	e := ents[len(ents)-1]
	wantNote := "re-recorded from the run state, which marks it sent as ledger entry " + itoa(lost.Seq) +
		": its entry was lost in a torn last line (line " + itoa(lost.Seq) + ") cut off when the ledger was opened; found at the target with its SHA-256"
	if len(ents) != int(lost.Seq) || e.SIP != lost.SIP || e.Seq != lost.Seq || e.Status != ledger.StatusStored || e.SHA256 != lost.SHA256 ||
		e.FirstKey != lost.FirstKey || e.LastKey != lost.LastKey || e.Count != lost.Count || e.Note != wantNote {
		t.Errorf("re-recorded entry %+v\nwant %s seq %d with note %q", e, lost.SIP, lost.Seq, wantNote)
	}
	if n := strings.Count(logs.String(), `msg="ledger entry missing for a SIP the state marks sent: recorded again" sip=`+lost.SIP); n != 1 {
		t.Errorf("%d warnings for the lost entry:\n%s", n, logs.String())
	}
	head, err := ledger.ReadHead(ledger.HeadPath(lpath))
	if err != nil {
		t.Fatal(err)
	}
	if want := itoa(e.Seq) + ":" + e.Hash; rep.LedgerHead != want || head.String() != want {
		t.Errorf("report's ledger head %q, head file %q, want %q", rep.LedgerHead, head, want)
	}
	var sum strings.Builder
	rep.WriteSummary(&sum)
	for _, line := range []string{"\nledger: 1 SIP(s) the state marks sent had lost their entry, recorded again: " + lost.SIP + "\n",
		"\nledger head: " + rep.LedgerHead + "\n"} {
		if !strings.Contains(sum.String(), line) {
			t.Errorf("summary lacks %q:\n%s", line, sum.String())
		}
	}
	equalSnapshots(t, "after a lost entry", takeSnapshot(t, state, out), ref)

	// The next run has nothing to reconcile and says nothing about it.
	logs.Reset()
	rep, err = Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil || len(rep.LedgerRerecorded) != 0 || strings.Contains(logs.String(), "ledger entry missing") || rep.LedgerHead != head.String() {
		t.Errorf("third run: %v, re-recorded %v, head %s (was %s)\n%s", err, rep.LedgerRerecorded, rep.LedgerHead, head, logs.String())
	}
}

// A SIP whose ledger entry was lost and that the target does not have either (removed there) is
// forgotten in the state, and this run archives its dossiers again: the same SIP, sent and
// recorded, as an uninterrupted run leaves it.
func TestLostLedgerEntryAndSIPAreArchivedAgain(t *testing.T) {
	db := demoDB(t)
	state, out := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, state, "dir://"+out)
	ref := takeSnapshot(t, state, out)
	lost := tearLastEntry(t, DefaultLedger(state))
	if err := os.Remove(filepath.Join(out, lost.SIP)); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	rep, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.LedgerLost) != 1 || rep.LedgerLost[0] != lost.SIP || len(rep.LedgerRerecorded) != 0 ||
		len(rep.SIPs) != 1 || rep.SIPs[0].Name != lost.SIP || rep.SIPs[0].Dossiers != lost.Count || rep.Archived != int64(lost.Count) {
		t.Fatalf("rerun: lost %v, re-recorded %v, sent %+v, %d archived; want %s (%d dossiers) archived again",
			rep.LedgerLost, rep.LedgerRerecorded, rep.SIPs, rep.Archived, lost.SIP, lost.Count)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="a SIP the state marks sent is neither in the ledger nor at the target: its dossiers are archived again by this run" sip=`+lost.SIP) {
		t.Errorf("no warning for the lost SIP:\n%s", logs.String())
	}
	var sum strings.Builder
	rep.WriteSummary(&sum)
	if line := "\nledger: 1 SIP(s) the state marks sent were neither in the ledger nor at the target, archived again: " + lost.SIP + "\n"; !strings.Contains(sum.String(), line) {
		t.Errorf("summary lacks %q:\n%s", line, sum.String())
	}
	equalSnapshots(t, "after a lost entry and SIP", takeSnapshot(t, state, out), ref)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A lost entry for a SIP sent to a target this run does not send to cannot be checked there: the
// run says so and records nothing; a run with that target records it again.
func TestLostLedgerEntryAtAnotherTarget(t *testing.T) {
	db := demoDB(t)
	state, out, other := t.TempDir(), t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, state, "dir://"+out)
	lost := tearLastEntry(t, DefaultLedger(state))

	var logs bytes.Buffer
	job := JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + other,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	rep, err := Execute(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	want := `level=WARN msg="the state marks a SIP sent to a target this run does not send to, and the ledger has no entry for it: run with that target to record it again" sip=` +
		lost.SIP + " target=dir://" + out + " ledger=" + DefaultLedger(state) + "\n"
	if !strings.Contains(logs.String(), " "+want) || len(rep.LedgerRerecorded) != 0 || len(rep.SIPs) != 0 {
		t.Errorf("run at another target: re-recorded %v, %d SIPs sent, log:\n%s\nwant a line ending in:\n%s", rep.LedgerRerecorded, len(rep.SIPs), logs.String(), want)
	}
	if ents := readLedger(t, DefaultLedger(state)); len(ents) != int(lost.Seq)-1 {
		t.Errorf("the ledger has %d entries, want %d", len(ents), lost.Seq-1)
	}
	job.Target = "dir://" + out
	if rep, err = Execute(context.Background(), job); err != nil || len(rep.LedgerRerecorded) != 1 || rep.LedgerRerecorded[0] != lost.SIP {
		t.Errorf("run at the SIP's target: %v, re-recorded %v", err, rep.LedgerRerecorded)
	}
}
