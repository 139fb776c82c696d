package eliminate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// destroyedKeys are the keys an execution destroys, from a dry run's attestation.
func (f *fixture) simulate(t *testing.T) attested {
	t.Helper()
	if _, err := f.execute(t, func(o *ExecuteOptions) { o.DryRun = true }); err != nil {
		t.Fatal(err)
	}
	return f.attestation(t, true)
}

func (a attested) dossier(key string) (bordereau.AttestationDossier, bool) {
	for _, d := range a.Dossiers {
		if d.Key == key {
			return d, true
		}
	}
	return bordereau.AttestationDossier{}, false
}

func (a attested) first(outcome string) string {
	for _, d := range a.Dossiers {
		if d.Outcome == outcome {
			return d.Key
		}
	}
	return ""
}

// A legal hold put after the proposal spares the dossier it covers, which stays at the target;
// the attestation says why, in French.
func TestExecuteSparesADossierHeldSinceTheProposal(t *testing.T) {
	f := archived(t, dirTarget(t), nil)
	key := f.simulate(t).first(bordereau.OutcomeDestroyed)
	if key == "" {
		t.Fatal("the simulation destroys nothing")
	}
	f.profile = writeProfile(t, f.dir, "holds:\n  - id: HOL-2026-01\n    keys: [\""+key+"\"]\n    reason: contentieux en cours\n")
	before, _ := readArchive(t, f.target)
	if _, err := f.execute(t, nil); err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	d, _ := a.dossier(key)
	if d.Outcome != bordereau.OutcomeSpared || d.Reason != "hold" || d.Detail != "HOL-2026-01" || a.SparedBy["hold"] != 1 {
		t.Fatalf("held dossier %s: %+v (spared by %v)", key, d, a.SparedBy)
	}
	after, _ := readArchive(t, f.target)
	if _, ok := after["intermediate/"+key]; !ok {
		t.Fatalf("held dossier %s is no longer at the target", key)
	}
	if _, ok := before["intermediate/"+key]; !ok {
		t.Fatalf("dossier %s was not archived as intermediate", key)
	}
	f.checkExecuted(t, before, a)
	html, _ := os.ReadFile(filepath.Join(f.dir, "out", attestationBase(visaRef, false)+".html"))
	if !strings.Contains(string(html), "sous gel (conservation pour contentieux) depuis la proposition") {
		t.Errorf("the attestation does not say why the dossier was spared:\n%.3000s", html)
	}
}

// Without the dossier's rows (the source is gone), a hold on an expression cannot be evaluated:
// every dossier it could cover is spared rather than destroyed on a guess.
func TestExecuteWithoutSourceSparesWhatAnExpressionHoldMayCover(t *testing.T) {
	f := archived(t, dirTarget(t), nil)
	f.profile = writeProfile(t, f.dir, "holds:\n  - id: HOL-2026-02\n    where: len(INS_ADM_ANU) > 100\n    reason: audit\n")
	res, err := f.execute(t, func(o *ExecuteOptions) { o.Source = nil })
	if err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	if res.Destroyed != 0 || a.SparedBy["hold"] == 0 {
		t.Fatalf("without the source: %d destroyed, spared by %v", res.Destroyed, a.SparedBy)
	}
}

// Lots refused or not answered by the visa are spared, and their dossiers stay.
func TestExecuteSparesRefusedAndUnansweredLots(t *testing.T) {
	n := 0
	f := archived(t, dirTarget(t), func(lot string) string {
		n++
		switch n {
		case 1:
			return "refused"
		case 2:
			return ""
		}
		return "accepted"
	})
	before, _ := readArchive(t, f.target)
	if _, err := f.execute(t, nil); err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	if a.SparedBy["refused"] == 0 || a.SparedBy["unanswered"] == 0 || a.Lots[0].Decision != bordereau.DecisionRefused || a.Lots[1].Decision != "" {
		t.Fatalf("spared by %v; lots %+v", a.SparedBy, a.Lots[:2])
	}
	for _, d := range a.Dossiers {
		if (d.Lot == a.Lots[0].LineID || d.Lot == a.Lots[1].LineID) && d.Outcome != bordereau.OutcomeSpared {
			t.Errorf("dossier %s of a lot not accepted: %s", d.Key, d.Outcome)
		}
	}
	f.checkExecuted(t, before, a)
}

// A visa the ledger does not record executes nothing, and says how to record it.
func TestExecuteRefusesAVisaNotRecorded(t *testing.T) {
	f := archived(t, dirTarget(t), nil)
	_, err := f.execute(t, func(o *ExecuteOptions) { o.Visa = "AD-1999-1" })
	var m interface{ Message(language.Tag) string }
	want := "aucun visa AD-1999-1 dans le journal " + pipeline.DefaultLedger(f.state) + " : enregistrez-le d'abord (versement eliminate import-visa)"
	if !errors.As(err, &m) || m.Message(lang.French) != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "out")); !os.IsNotExist(err) {
		t.Error("an attestation was written")
	}
}

// lockingTarget refuses to delete before until, as S3 Object Lock does.
type lockingTarget struct {
	transfer.Target
	until time.Time
	now   func() time.Time
}

func (l *lockingTarget) Unwrap() transfer.Target { return l.Target }

func (l *lockingTarget) Delete(ctx context.Context, name string) error {
	if l.now().Before(l.until) {
		return &transfer.LockedError{Name: name, Until: l.until, Mode: "COMPLIANCE"}
	}
	d, _ := transfer.As[transfer.Deleter](l.Target)
	return d.Delete(ctx, name)
}

// A SIP the target's lock keeps is listed as to destroy when the lock ends: its rewrite is
// stored, the old one stays (the ledger says locked, and verifies), and an execution after the
// lock's date deletes it and records a new attestation; one more changes nothing.
func TestExecuteFinishesLockedSIPsWhenTheLockEnds(t *testing.T) {
	f := archived(t, dirTarget(t), nil)
	before, _ := readArchive(t, f.target)
	until := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	withLock := func(o *ExecuteOptions) {
		o.Now = func() time.Time { return clock }
		o.OpenTarget = func(ctx context.Context, raw string) (transfer.Target, error) {
			t, err := targets.Open(ctx, raw, targets.Options{Retries: -1})
			return &lockingTarget{Target: t, until: until, now: o.Now}, err
		}
	}
	res, err := f.execute(t, withLock)
	if err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	if res.Locked == 0 || res.Destroyed != 0 || a.SparedBy["locked"] == 0 {
		t.Fatalf("under lock: %+v, spared by %v", res, a.SparedBy)
	}
	d, _ := a.dossier(a.first(bordereau.OutcomeSpared))
	if d.Reason != "locked" || d.Detail != "2027-03-01" {
		t.Fatalf("a locked dossier: %+v", d)
	}
	html, _ := os.ReadFile(filepath.Join(f.dir, "out", attestationBase(visaRef, false)+".html"))
	if !strings.Contains(string(html), "verrouillé (Object Lock) : détruit à la fin du verrou") {
		t.Errorf("the attestation does not say the lock:\n%.3000s", html)
	}
	locked := 0
	ledger.Read(pipeline.DefaultLedger(f.state), func(e ledger.Entry) {
		if e.Status == ledger.StatusLocked && e.LockedUntil != nil && e.LockedUntil.Equal(until) && e.Visa == visaRef {
			locked++
		}
	})
	if locked != res.Locked {
		t.Errorf("%d locked entries in the ledger, %d SIPs locked", locked, res.Locked)
	}
	tg, _ := targets.Open(context.Background(), f.target, targets.Options{Retries: -1})
	if rep, err := ledger.Verify(context.Background(), pipeline.DefaultLedger(f.state), tg); err != nil || !rep.OK() {
		t.Fatalf("ledger verify with locked SIPs: %v %+v", err, rep.Problems)
	}
	tg.Close()
	// Before the date, a rerun changes nothing.
	if again, err := f.execute(t, withLock); err != nil || !again.NothingToDo {
		t.Fatalf("before the lock's end: %+v %v", again, err)
	}
	clock = until.Add(time.Hour)
	// A simulation once the lock has ended says the SIPs would go, and deletes nothing.
	headBefore := ledgerHead(t, f)
	sim, err := f.execute(t, func(o *ExecuteOptions) { withLock(o); o.DryRun = true })
	if err != nil || sim.Locked != 0 || sim.Destroyed == 0 {
		t.Fatalf("simulation after the lock's end: %+v %v", sim, err)
	}
	if h := ledgerHead(t, f); h != headBefore {
		t.Fatalf("a simulation wrote the ledger: %s → %s", headBefore, h)
	}
	if after, _ := readArchiveOf(t, f.target, true); len(after) <= len(before)-int(sim.Destroyed) {
		t.Fatal("a simulation deleted SIPs")
	}
	done, err := f.execute(t, withLock)
	if err != nil || done.NothingToDo || done.Locked != 0 || done.Destroyed == 0 {
		t.Fatalf("after the lock's end: %+v %v", done, err)
	}
	a2 := f.attestation(t, false)
	if a2.ID == a.ID || a2.SparedBy["locked"] != 0 {
		t.Errorf("the new attestation %s (spared by %v) after %s", a2.ID, a2.SparedBy, a.ID)
	}
	f.checkExecuted(t, before, a2)
	if again, err := f.execute(t, withLock); err != nil || !again.NothingToDo {
		t.Fatalf("once finished: %+v %v", again, err)
	}
}

func ledgerHead(t *testing.T, f *fixture) string {
	t.Helper()
	h, err := ledger.ReadHead(ledger.HeadPath(pipeline.DefaultLedger(f.state)))
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
