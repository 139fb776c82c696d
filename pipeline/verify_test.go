package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
)

// A SIP damaged in the spool between writing and sending (here: 8 bytes of its first object's
// compressed data flipped) fails `versement verify`'s checks: the run stops with an error naming
// it and its first finding, nothing of it reaches the target or the ledger, it is kept in
// spool/damaged/, and the next run writes it again and ends where a run that was never damaged
// ends. Every SIP that run sends went through the check.
func TestDamagedSIPIsNotSent(t *testing.T) {
	db := demoDB(t)
	refState, refOut := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, refState, "dir://"+refOut)
	ref := takeSnapshot(t, refState, refOut)

	var damaged string
	n := 0
	verifyHook = func(path string) {
		if n++; n != 2 {
			return
		}
		damaged = path
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 200; i < 208; i++ {
			b[i] ^= 0xff
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { verifyHook = nil }()
	state, out := t.TempDir(), t.TempDir()
	job := JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out, State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch}
	rep, err := Execute(context.Background(), job)
	name := filepath.Base(damaged)
	kept := filepath.Join(state, "spool", "damaged", name)
	want := "class etudiant dossier 116: SIP " + name + " does not pass verification (1 finding): " +
		"READ_ERROR Content/dictionary-etudiant.json: object BDO-1: read failed after 59 bytes: flate: corrupt input before offset 132; " +
		"it was not sent: kept as " + kept + " for inspection (versement verify " + kept + "), and the next run writes it again"
	if err == nil || err.Error() != want {
		t.Fatalf("run with a damaged SIP:\n got %v\nwant %s", err, want)
	}
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.SIP != name || ve.Kept != kept || ve.Dossiers != e2eBatch || ve.Findings[0].Code != seda.CodeReadError {
		t.Fatalf("VerifyError %+v", ve)
	}
	if s, d := Failures(err); s != 1 || d != e2eBatch {
		t.Errorf("Failures: %d SIPs, %d dossiers; want 1, %d", s, d, e2eBatch)
	}
	if sent := zips(t, out); len(sent) != 1 || slices.Contains(sent, name) || len(rep.SIPs) != 1 || rep.SIPs[0].Name != sent[0] {
		t.Errorf("at the target: %v, reported %+v; want only the SIP before the damaged one", sent, rep.SIPs)
	}
	var entries []string
	if _, err := ledger.Read(DefaultLedger(state), func(e ledger.Entry) { entries = append(entries, e.SIP) }); err != nil || len(entries) != 1 || entries[0] == name {
		t.Errorf("ledger: %v %v", entries, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("the damaged SIP was not kept: %v", err)
	}
	if left := zips(t, filepath.Join(state, "spool")); len(left) != 0 {
		t.Errorf("spool: %v", left)
	}
	st, err := OpenState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	names, err := st.SIPNames(context.Background(), "apogee")
	st.Close()
	if err != nil || slices.Contains(names, name) {
		t.Errorf("the state still records the damaged SIP: %v %v", names, err)
	}

	verified := 0
	verifyHook = func(string) { verified++ }
	rep, err = Execute(context.Background(), job)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if verified != len(rep.SIPs) || verified != len(ref.SIPs)-1 {
		t.Errorf("the rerun verified %d SIPs and sent %d, want %d", verified, len(rep.SIPs), len(ref.SIPs)-1)
	}
	equalSnapshots(t, "after a damaged SIP", takeSnapshot(t, state, out), ref)
}

// Failures counts each SIP once, however deep the run's joined errors hold it, with its dossiers;
// a bare rejection counts as a SIP of unknown size, other errors as none.
func TestFailures(t *testing.T) {
	rejected := &SIPError{SIP: "a.zip", Dossiers: 40, Err: fmt.Errorf("SIP a.zip %w: ReplyCode KO", transfer.ErrRejected)}
	unsent := &SIPError{SIP: "b.zip", Dossiers: 7, Err: errors.New("SIP b.zip: connection refused")}
	damaged := &VerifyError{SIP: "c.zip", Dossiers: 5, Findings: []seda.Finding{{Code: seda.CodeReadError}}}
	for _, c := range []struct {
		err            error
		sips, dossiers int
	}{
		{nil, 0, 0},
		{errors.New("source: gone"), 0, 0},
		{rejected, 1, 40},
		{errors.Join(errors.New("class x: boom"), errors.Join(rejected, unsent), fmt.Errorf("dossier 1: %w", damaged)), 3, 52},
		{errors.Join(rejected, fmt.Errorf("SIP d.zip %w", transfer.ErrRejected)), 2, 40},
	} {
		if s, d := Failures(c.err); s != c.sips || d != c.dossiers {
			t.Errorf("Failures(%v) = %d SIPs, %d dossiers; want %d, %d", c.err, s, d, c.sips, c.dossiers)
		}
	}
}

// A SIP left in the spool whose file is not the one the state recorded (damaged there after it was
// written, or written over by another run sharing the state folder) would fail to send for ever: the
// next run sets it aside in spool/damaged/, says so, writes it again from the source, and ends where
// a run that was never damaged ends. Its bytes at the wrong size, then at the right size.
func TestDamagedSpooledSIPIsRebuilt(t *testing.T) {
	db := demoDB(t)
	refState, refOut := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, refState, "dir://"+refOut)
	ref := takeSnapshot(t, refState, refOut)

	for _, tc := range []struct {
		name   string
		damage func(f *os.File, size int64) error
		why    func(name string, size int64, sum string) string
	}{
		{"truncated", func(f *os.File, size int64) error { return f.Truncate(size - 100) },
			func(_ string, size int64, _ string) string {
				return fmt.Sprintf("%d bytes, the state recorded %d", size-100, size)
			}},
		{"one byte changed", func(f *os.File, size int64) error { _, err := f.WriteAt([]byte{0xff}, size/2); return err },
			func(path string, _ int64, sum string) string {
				got, _ := transfer.FileSHA256(path)
				return "SHA-256 " + got + ", the state recorded " + sum
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, out := t.TempDir(), t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
			cmd.Env = append(os.Environ(), "VERSEMENT_TEST_CRASH=spooled:3", "VERSEMENT_TEST_CRASH_DB="+db,
				"VERSEMENT_TEST_CRASH_STATE="+state, "VERSEMENT_TEST_CRASH_OUT="+out)
			if b, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("the child was not killed:\n%s", b)
			}
			name := spooledOne(t, state)
			path := filepath.Join(state, "spool", name)
			sum, err := transfer.FileSHA256(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			if err := tc.damage(f, st.Size()); err != nil {
				t.Fatal(err)
			}
			f.Close()
			why := tc.why(path, st.Size(), sum)

			job := JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out, State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch}
			rep, err := Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("run over a damaged spooled SIP: %v", err)
			}
			kept := filepath.Join(state, "spool", damagedDir, name)
			if want := []SpoolDamaged{{SIP: name, Why: why, Kept: kept}}; fmt.Sprint(rep.SpoolDamaged) != fmt.Sprint(want) {
				t.Errorf("report's spool_damaged: %v, want %v", rep.SpoolDamaged, want)
			}
			var sum2 strings.Builder
			if err := rep.WriteSummary(&sum2); err != nil {
				t.Fatal(err)
			}
			if want := "\nspool: SIP " + name + " did not match its record (" + why + "): set aside as " + kept + ", written again by this run\n"; !strings.Contains(sum2.String(), want) {
				t.Errorf("summary lacks %q:\n%s", want, sum2.String())
			}
			equalSnapshots(t, "after a damaged spooled SIP", takeSnapshot(t, state, out), ref)
			if _, err := os.Stat(kept); err != nil {
				t.Errorf("the damaged file was not kept: %v", err)
			}
		})
	}
}
