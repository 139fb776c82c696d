package pipeline

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

var e2eAsOf = civil.Date{Year: 2026, Month: 11, Day: 30}

// e2eBatch is small so that the demo database makes many SIPs per tier.
const e2eBatch = 40

func runJob(t *testing.T, source, state, target string) *Report {
	t.Helper()
	rep, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: source, Target: target,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var originatingID = regexp.MustCompile(`<OriginatingSystemId>([^<]*)</OriginatingSystemId>`)

// checkSIPs verifies every SIP in dir (seda.Verify, xmllint against the official XSD) and reads
// their manifests back: the keys per tier, each of which must appear once.
func checkSIPs(t *testing.T, dir string) map[retention.Tier][]string {
	t.Helper()
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	names, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	if len(names) == 0 {
		t.Fatalf("no SIP in %s", dir)
	}
	keys := map[retention.Tier][]string{}
	seen := map[string]string{}
	version := builtin(t, "apogee").SEDA.Version
	for _, path := range names {
		vr, err := seda.Verify(context.Background(), path, seda.VerifyOptions{XSDDir: xsdDir})
		if err != nil {
			t.Fatal(err)
		}
		if !vr.OK() {
			t.Errorf("%s does not verify: %+v", filepath.Base(path), vr.Findings)
		}
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		var manifest []byte
		dict := false
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, "Content/dictionary-") {
				dict = true
			}
			if f.Name != "manifest.xml" {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			manifest, _ = io.ReadAll(rc)
			rc.Close()
		}
		zr.Close()
		if !dict {
			t.Errorf("%s has no data dictionary", filepath.Base(path))
		}
		mf := filepath.Join(t.TempDir(), "manifest.xml")
		if err := os.WriteFile(mf, manifest, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := testsvc.XSD(t, version, mf); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		tier := retention.Intermediate
		if strings.Contains(filepath.Base(path), "-final-") {
			tier = retention.Final
		}
		for _, m := range originatingID.FindAllSubmatch(manifest, -1) {
			k := string(tier) + "/" + string(m[1])
			if prev, dup := seen[k]; dup {
				t.Errorf("dossier %s is in %s and %s", k, prev, filepath.Base(path))
			}
			seen[k] = filepath.Base(path)
			keys[tier] = append(keys[tier], string(m[1]))
		}
	}
	return keys
}

// verifySIP: a SIP the pipeline sent passes `versement verify` (seda.Verify with its defaults), the
// property every test that takes a snapshot of a target checks.
func verifySIP(t *testing.T, path string) {
	t.Helper()
	vr, err := seda.Verify(context.Background(), path, seda.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !vr.OK() || !vr.Complete() || vr.Objects == 0 || vr.ObjectsVerified != vr.Objects {
		t.Errorf("%s at the target does not verify: %d/%d objects, %+v", filepath.Base(path), vr.ObjectsVerified, vr.Objects, vr.Findings)
	}
}

// snapshot is what a run leaves: the SIPs at the target (name → bytes' SHA-256), the ledger's
// entries (without times), and the state.
type snapshot struct {
	SIPs   map[string]string
	Ledger []string
	State  map[string]int64
	Names  []string
	// Index is, for every dossier of every SIP at the target, the SIP the index says it is in.
	Index []string
}

func takeSnapshot(t *testing.T, state, targetDir string) snapshot {
	t.Helper()
	s := snapshot{SIPs: map[string]string{}}
	names, _ := filepath.Glob(filepath.Join(targetDir, "*.zip"))
	for _, n := range names {
		sum, err := transfer.FileSHA256(n)
		if err != nil {
			t.Fatal(err)
		}
		s.SIPs[filepath.Base(n)] = sum
		verifySIP(t, n)
	}
	rep, err := ledger.Read(DefaultLedger(state), func(e ledger.Entry) {
		s.Ledger = append(s.Ledger, fmt.Sprintf("%s %s %s %d %s %s %d", e.SIP, e.SHA256, e.Status, e.Size, e.FirstKey, e.LastKey, e.Count))
	})
	if err != nil || !rep.OK() {
		t.Fatalf("ledger: %v %+v", err, rep)
	}
	sort.Strings(s.Ledger)
	st, err := OpenState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s.State, err = st.Count(context.Background(), "apogee"); err != nil {
		t.Fatal(err)
	}
	if s.Names, err = st.SIPNames(context.Background(), "apogee"); err != nil {
		t.Fatal(err)
	}
	pend, err := st.pending(context.Background(), "apogee")
	if err != nil || len(pend) > 0 {
		t.Fatalf("SIPs still spooled: %v %v", pend, err)
	}
	s.Index = indexOf(t, state, names)
	return s
}

// indexOf reads every dossier unit of the SIPs and says where the state's index puts it: a dossier
// archived but missing from the index is a failure.
func indexOf(t *testing.T, state string, sips []string) []string {
	t.Helper()
	ctx := context.Background()
	ix, err := index.Open(ctx, DefaultIndex(state))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var out []string
	for _, p := range sips {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		r, err := sip.Open(ctx, f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		err = index.FromSIP(ctx, r, index.Where{Profile: "apogee"}, func(e index.Entry) error {
			got, err := ix.Get(ctx, "apogee", e.Key)
			if err != nil {
				return fmt.Errorf("dossier %s of %s: %w", e.Key, filepath.Base(p), err)
			}
			out = append(out, e.Key+" "+got.Tier+" "+got.SIP)
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

func equalSnapshots(t *testing.T, what string, got, want snapshot) {
	t.Helper()
	if fmt.Sprint(got.SIPs) != fmt.Sprint(want.SIPs) {
		t.Errorf("%s: SIPs at the target differ:\n got %v\nwant %v", what, got.SIPs, want.SIPs)
	}
	if !slices.Equal(got.Ledger, want.Ledger) {
		t.Errorf("%s: ledgers differ:\n got %v\nwant %v", what, got.Ledger, want.Ledger)
	}
	if !slices.Equal(got.Index, want.Index) {
		t.Errorf("%s: indexes differ:\n got %d entries %.300v\nwant %d entries %.300v", what, len(got.Index), got.Index, len(want.Index), want.Index)
	}
	if fmt.Sprint(got.State) != fmt.Sprint(want.State) || !slices.Equal(got.Names, want.Names) {
		t.Errorf("%s: states differ: got %v %v, want %v %v", what, got.State, got.Names, want.State, want.Names)
	}
}

// TestEndToEndSQLite runs the whole pipeline into a folder: the counts per tier match SQL written
// from the rule, every SIP is valid, every archived dossier is in exactly one SIP per tier, the
// ledger checks out, and a second run archives nothing new.
func TestEndToEndSQLite(t *testing.T) {
	testsvc.Xmllint(t)
	state, out := t.TempDir(), t.TempDir()
	rep := runJob(t, "sqlite:"+demoDB(t), state, "dir://"+out)
	want, _ := sqlTiers(t, e2eAsOf, false)
	for _, tier := range []retention.Tier{retention.Intermediate, retention.Final} {
		if rep.Tiers[tier] != want[tier] || want[tier] == 0 {
			t.Errorf("%s: run counts %d, SQL %d", tier, rep.Tiers[tier], want[tier])
		}
	}
	keys := checkSIPs(t, out)
	for _, tier := range []retention.Tier{retention.Intermediate, retention.Final} {
		if int64(len(keys[tier])) != want[tier] {
			t.Errorf("%s: the SIPs hold %d dossiers, SQL counts %d", tier, len(keys[tier]), want[tier])
		}
	}
	if n := want[retention.Intermediate]/e2eBatch + want[retention.Final]/e2eBatch; int64(len(rep.SIPs)) < n {
		t.Errorf("%d SIPs for batches of %d", len(rep.SIPs), e2eBatch)
	}
	for _, s := range rep.SIPs {
		if s.Dossiers > e2eBatch || s.Target == "" || s.LedgerSeq == 0 || s.ManifestDigest == "" || s.MessageID == "" {
			t.Errorf("SIP report %+v", s)
		}
	}
	tg, err := targetsOpen(t, "dir://"+out)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := ledger.Verify(context.Background(), DefaultLedger(state), tg)
	if err != nil || !lr.OK() {
		t.Fatalf("ledger verify: %v %+v", err, lr)
	}
	first := takeSnapshot(t, state, out)

	rep2 := runJob(t, "sqlite:"+demoDB(t), state, "dir://"+out)
	if len(rep2.SIPs) != 0 || rep2.Archived != 0 || rep2.AlreadyArchived != want[retention.Intermediate]+want[retention.Final] {
		t.Errorf("second run: %d SIPs, %d archived, %d already archived", len(rep2.SIPs), rep2.Archived, rep2.AlreadyArchived)
	}
	var sum strings.Builder
	rep2.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "nothing new was archived") {
		t.Errorf("second run's summary:\n%s", sum.String())
	}
	equalSnapshots(t, "second run", takeSnapshot(t, state, out), first)

	// Later, intermediate dossiers reach their final tier: they are archived again, at final
	// only, and nothing already archived at final is sent twice.
	later := civil.Date{Year: 2036, Month: 11, Day: 30}
	rep3, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + demoDB(t), Target: "dir://" + out,
		State: state, AsOf: later, MaxDossiers: e2eBatch})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep3.SIPs {
		if s.Tier != retention.Final && s.Tier != retention.Intermediate {
			t.Errorf("SIP %s at tier %s", s.ID, s.Tier)
		}
	}
	if rep3.Archived == 0 || rep3.AlreadyArchived == 0 {
		t.Errorf("ten years later: %d archived, %d already archived", rep3.Archived, rep3.AlreadyArchived)
	}
	checkSIPs(t, out)
}

// TestCrashResume kills a run (SIGKILL, in a child process) at each step of finishing a SIP and
// reruns it: it must end in the same state as an uninterrupted run.
func TestCrashResume(t *testing.T) {
	db := demoDB(t)
	refState, refOut := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, refState, "dir://"+refOut)
	ref := takeSnapshot(t, refState, refOut)
	if len(ref.SIPs) < 4 {
		t.Fatalf("only %d SIPs", len(ref.SIPs))
	}
	for _, stage := range []string{"renamed", "spooled", "ledgered", "indexed", "sent", "spooled+lost"} {
		t.Run(stage, func(t *testing.T) {
			stage, lost := strings.CutSuffix(stage, "+lost")
			state, out := t.TempDir(), t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
			cmd.Env = append(os.Environ(), "VERSEMENT_TEST_CRASH="+stage+":3", "VERSEMENT_TEST_CRASH_DB="+db,
				"VERSEMENT_TEST_CRASH_STATE="+state, "VERSEMENT_TEST_CRASH_OUT="+out)
			outb, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed: %v\n%s", err, outb)
			}
			if n, _ := filepath.Glob(filepath.Join(out, "*.zip")); len(n) == 0 || len(n) >= len(ref.SIPs) {
				t.Fatalf("the child sent %d SIPs before it was killed", len(n))
			}
			if lost {
				// Someone removed the spooled SIP before the rerun: its dossiers are archived again.
				if err := os.Remove(filepath.Join(state, "spool", spooledOne(t, state))); err != nil {
					t.Fatal(err)
				}
			}
			rep := runJob(t, "sqlite:"+db, state, "dir://"+out)
			if (stage == "spooled" && !lost) || stage == "ledgered" {
				if len(rep.SIPs) == 0 || !rep.SIPs[0].Recovered {
					t.Errorf("the rerun did not report the SIP left in the spool: %+v", rep.SIPs)
				}
			}
			equalSnapshots(t, stage, takeSnapshot(t, state, out), ref)
			if ents, _ := os.ReadDir(filepath.Join(state, "spool", "tmp")); len(ents) != 0 {
				t.Errorf("spool/tmp not empty: %v", ents)
			}
			if ents, _ := filepath.Glob(filepath.Join(state, "spool", "*.*")); len(ents) != 0 {
				t.Errorf("spool not empty: %v", ents)
			}
		})
	}
}

// spooledOne is the one SIP a crash left spooled and not sent (a SIP sent but not yet indexed
// may be in the spool beside it: it is not the one).
func spooledOne(t *testing.T, state string) string {
	t.Helper()
	st, err := OpenState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pend, err := st.pending(context.Background(), "apogee")
	if err != nil || len(pend) != 1 {
		t.Fatalf("spooled: %v %v", pend, err)
	}
	return pend[0].Name
}

// TestCancelResume: a cancelled run (Ctrl-C, SIGTERM) stops at a safe point, discards its
// unfinished SIPs, and the rerun ends in the state of an uninterrupted run.
func TestCancelResume(t *testing.T) {
	db := demoDB(t)
	refState, refOut := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+db, refState, "dir://"+refOut)
	ref := takeSnapshot(t, refState, refOut)

	state, out := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	sent := 0
	_, err := Execute(ctx, JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + db, Target: "dir://" + out, State: state,
		AsOf: e2eAsOf, MaxDossiers: e2eBatch, OnSIP: func(SIP) {
			if sent++; sent == 2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if n, _ := filepath.Glob(filepath.Join(out, "*.zip")); len(n) != 2 {
		t.Errorf("%d SIPs sent by the cancelled run, want 2", len(n))
	}
	runJob(t, "sqlite:"+db, state, "dir://"+out)
	equalSnapshots(t, "after a cancellation", takeSnapshot(t, state, out), ref)
}

// TestCrashChild is the child process of TestCrashResume: it kills itself with SIGKILL the Nth
// time the run reaches the given stage.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv("VERSEMENT_TEST_CRASH")
	if spec == "" {
		t.Skip("child process of TestCrashResume")
	}
	stage, nstr, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(nstr)
	seen := 0
	kill := func(s string) {
		if s == stage {
			if seen++; seen == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	crashHook = kill
	_, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + os.Getenv("VERSEMENT_TEST_CRASH_DB"),
		Target: "dir://" + os.Getenv("VERSEMENT_TEST_CRASH_OUT"), State: os.Getenv("VERSEMENT_TEST_CRASH_STATE"), AsOf: e2eAsOf,
		MaxDossiers: e2eBatch, OnSIP: func(SIP) { kill("sent") }})
	t.Fatalf("not killed: %v", err)
}

func targetsOpen(t *testing.T, u string) (transfer.Target, error) {
	t.Helper()
	tg, err := targets.Open(context.Background(), u, targets.Options{Retries: -1})
	if err == nil {
		t.Cleanup(func() { tg.Close() })
	}
	return tg, err
}

// TestBatchBytesAndDecommission: the byte limit closes SIPs before they pass it (a dossier is
// never split), and decommission mode archives active dossiers as intermediate.
func TestBatchBytesAndDecommission(t *testing.T) {
	state, out := t.TempDir(), t.TempDir()
	const limit = 64 << 10
	rep, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + demoDB(t), Target: "dir://" + out,
		State: state, AsOf: e2eAsOf, MaxBytes: limit, Decommission: true})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := sqlTiers(t, e2eAsOf, false)
	if rep.Tiers[retention.Intermediate] != want[retention.Intermediate]+want[retention.Active] || rep.Decommissioned != want[retention.Active] {
		t.Errorf("decommission: %d intermediate (%d by decommission), SQL %d intermediate + %d active",
			rep.Tiers[retention.Intermediate], rep.Decommissioned, want[retention.Intermediate], want[retention.Active])
	}
	var total int64
	for _, s := range rep.SIPs {
		total += int64(s.Dossiers)
		if s.Dossiers > 1 && s.Bytes > limit {
			t.Errorf("SIP %s: %d bytes for a limit of %d", s.Name, s.Bytes, limit)
		}
	}
	if total != rep.Archived || len(rep.SIPs) < 10 {
		t.Errorf("%d SIPs hold %d dossiers, %d archived", len(rep.SIPs), total, rep.Archived)
	}
	keys := checkSIPs(t, out)
	if int64(len(keys[retention.Intermediate])) != rep.Tiers[retention.Intermediate] {
		t.Errorf("%d intermediate dossiers in the SIPs, %d decided", len(keys[retention.Intermediate]), rep.Tiers[retention.Intermediate])
	}
}

// TestReadAheadLOBs proves that reading ahead changes nothing: with no LOB read ahead into memory
// (every dossier with a photo holds the reader until it is packaged), the SIPs, ledger and state
// are the same as with the default read-ahead.
func TestReadAheadLOBs(t *testing.T) {
	state, out := t.TempDir(), t.TempDir()
	runJob(t, "sqlite:"+demoDB(t), state, "dir://"+out)
	want := takeSnapshot(t, state, out)

	defer func(n int64) { lobBuffer = n }(lobBuffer)
	lobBuffer = 0
	state2, out2 := t.TempDir(), t.TempDir()
	rep := runJob(t, "sqlite:"+demoDB(t), state2, "dir://"+out2)
	if rep.Archived == 0 {
		t.Fatal("nothing archived")
	}
	equalSnapshots(t, "LOBs read in place", takeSnapshot(t, state2, out2), want)
}
