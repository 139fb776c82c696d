package eliminate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// The demo's dossiers under a schedule that destroys four years out of five: archived as of
// 2016 (their DUA running, intermediate), proposed as of 2026, when most DUAs have ended.
const (
	archivedAsOf = "2016-06-30"
	proposedAsOf = "2026-11-30"
	visaRef      = "AD-2026-17"
)

var executedAsOf = mustDate("2026-12-02")

func mustDate(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

var importedAt = time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)

const samplingSchedule = `schedule: univ
extends: apogee
rules:
  - id: APP-APO-IA
    title: Données personnelles du traitement Apogée (dossier étudiant)
    start: endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))
    active: 3y
    dua: 7y
    final: sample
    sampling:
      year_modulo: 5
    basis: "arrêté du 26/01/1995 art. 4"
    status: to-confirm
`

// fixture is a state folder whose runs archived the demo to a target and proposed an
// elimination, with the visa recorded: what an execution starts from.
type fixture struct {
	dir, state, target, db string
	profile                *profiles.Profile
	proposal               string
}

// writeProfile writes the demo's profile under the sampling schedule, with holds appended.
func writeProfile(t *testing.T, dir, holds string) *profiles.Profile {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "univ-schedule.yaml"), []byte(samplingSchedule+holds), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := profiles.BuiltinSource("apogee")
	if err != nil {
		t.Fatal(err)
	}
	prof := bytes.Replace(src, []byte("schedule: apogee"), []byte("schedule: univ-schedule.yaml"), 1)
	path := filepath.Join(dir, "univ.yaml")
	if err := os.WriteFile(path, prof, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// archived runs the two runs and records a visa answering each lot as answer says (nil: every
// lot accepted).
func archived(t *testing.T, target string, answer func(lot string) string) *fixture {
	t.Helper()
	return archivedLocked(t, target, "", answer)
}

// archivedLocked is archived with the runs locking each SIP (S3 Object Lock mode lock).
func archivedLocked(t *testing.T, target, lock string, answer func(lot string) string) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &fixture{dir: dir, state: filepath.Join(dir, "state"), target: target, db: filepath.Join(dir, "apogee.db")}
	if _, err := demo.CreateSQLite(ctx, f.db, demo.Options{Profile: demo.Apogee, Dossiers: 120, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f.profile = writeProfile(t, dir, "")
	for i, asOf := range []string{archivedAsOf, proposedAsOf} {
		docs := filepath.Join(dir, "docs"+string(rune('1'+i)))
		_, err := pipeline.Execute(ctx, pipeline.JobSpec{Profile: f.profile, Source: "sqlite:" + f.db, Target: target, State: f.state,
			AsOf: mustDate(asOf), MaxDossiers: 6, ObjectLock: lock, Documents: &pipeline.Documents{Dir: docs, ProposedBy: "proposer"}})
		if err != nil {
			t.Fatalf("run as of %s: %v", asOf, err)
		}
		f.proposal = filepath.Join(docs, pipeline.EliminationFile+".json")
	}
	p, err := ReadProposal(f.proposal)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range p.Lots {
		a := "accepted"
		if answer != nil {
			a = answer(l.ID)
		}
		if a != "" {
			rows = append(rows, `{"line":"`+l.ID+`","decision":"`+a+`"}`)
		}
	}
	visa := filepath.Join(dir, "visa.json")
	js := `{"reference":"` + visaRef + `","date":"2026-12-01","signatory":"Claire Dupont","lines":[` + strings.Join(rows, ",") + `]}`
	if err := os.WriteFile(visa, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(pipeline.DefaultLedger(f.state))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	if _, err := ImportVisa(ctx, ImportOptions{Visa: visa, Proposal: f.proposal, State: f.state, Ledger: led, User: roles.User{ID: "archiviste"}, Now: importedAt}); err != nil {
		t.Fatal(err)
	}
	return f
}

// execute runs Execute as the CLI does.
func (f *fixture) execute(t *testing.T, mod func(*ExecuteOptions)) (*Executed, error) {
	t.Helper()
	ctx := context.Background()
	led, err := ledger.Open(pipeline.DefaultLedger(f.state))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	ix, err := index.Open(ctx, pipeline.DefaultIndex(f.state))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	src, err := extract.Open(ctx, "sqlite:"+f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	o := ExecuteOptions{Visa: visaRef, State: f.state, Ledger: led, Profile: f.profile, Source: src, Index: ix, Out: filepath.Join(f.dir, "out"),
		AsOf: executedAsOf, Executor: "ops", Lang: lang.French,
		OpenTarget: func(ctx context.Context, raw string) (transfer.Target, error) {
			return targets.Open(ctx, raw, targets.Options{Retries: -1})
		}}
	if mod != nil {
		mod(&o)
	}
	return Execute(ctx, o)
}

// attestation reads the attestation JSON the execution wrote.
type attested struct {
	bordereau.Attestation
	Dossiers []bordereau.AttestationDossier `json:"dossiers"`
}

func (f *fixture) attestation(t *testing.T, dry bool) attested {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "out", attestationBase(visaRef, dry)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var a attested
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// archiveContent is every dossier unit found at a target, with its objects' bytes: what the
// proof compares before and after.
type archiveContent map[string]map[string]string // tier/key → object Uri → bytes

func readArchive(t *testing.T, target string) (archiveContent, []string) {
	t.Helper()
	return readArchiveOf(t, target, false)
}

// readArchiveOf is readArchive; twice allows a dossier in two SIPs of a tier (an old SIP a lock
// keeps, and its rewrite).
func readArchiveOf(t *testing.T, target string, twice bool) (archiveContent, []string) {
	t.Helper()
	ctx := context.Background()
	tg, err := targets.Open(ctx, target, targets.Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	op, _ := transfer.As[transfer.Opener](tg)
	out := archiveContent{}
	var names []string
	err = tg.List(ctx, func(o transfer.Object) error {
		if !strings.HasSuffix(o.Name, ".zip") {
			return nil
		}
		names = append(names, o.Name)
		b, err := op.Open(ctx, o.Name)
		if err != nil {
			return err
		}
		defer b.Close()
		r, err := sip.Open(ctx, b, b.Size())
		if err != nil {
			return err
		}
		return r.Units(ctx, func(u sip.Unit) error {
			k := unitKey(u)
			if k == "" {
				return nil
			}
			// A dossier archived as intermediate, then as final when its DUA ended, is in
			// one SIP of each tier.
			k = tierOf(o.Name) + "/" + k
			if _, dup := out[k]; dup && !twice {
				t.Errorf("dossier %s is in two SIPs at the target (second: %s)", k, o.Name)
			}
			objs := map[string]string{}
			for _, obj := range u.Objects {
				rc, err := r.Object(ctx, obj)
				if err != nil {
					return err
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				objs[obj.URI] = string(data)
			}
			out[k] = objs
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return out, names
}

// checkExecuted is the proof of an execution: no destroyed dossier at the target, every other
// one there with the same bytes, the ledger verifying, the index forgetting the destroyed.
func (f *fixture) checkExecuted(t *testing.T, before archiveContent, a attested) {
	t.Helper()
	after, _ := readArchive(t, f.target)
	destroyed := map[string]bool{}
	for _, d := range a.Dossiers {
		if d.Outcome == bordereau.OutcomeDestroyed {
			destroyed[d.Key] = true
		}
	}
	for k := range after {
		if _, key, _ := strings.Cut(k, "/"); destroyed[key] {
			t.Errorf("destroyed dossier %s is still at the target", k)
		}
	}
	gone := 0
	for k, objs := range before {
		if _, key, _ := strings.Cut(k, "/"); destroyed[key] {
			gone++
			continue
		}
		got, ok := after[k]
		if !ok {
			t.Errorf("kept dossier %s is no longer at the target", k)
			continue
		}
		for uri, data := range objs {
			if got[uri] != data {
				t.Errorf("kept dossier %s: object %s changed", k, uri)
			}
		}
	}
	if len(after) != len(before)-gone || gone < len(destroyed) {
		t.Errorf("%d dossiers after, %d before, %d destroyed (%d units)", len(after), len(before), len(destroyed), gone)
	}
	if root, ok := strings.CutPrefix(f.target, "dir://"); ok {
		checkSIPs(t, root)
	}
	tg, err := targets.Open(context.Background(), f.target, targets.Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	rep, err := ledger.Verify(context.Background(), pipeline.DefaultLedger(f.state), tg)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %v %+v", err, rep.Problems)
	}
	ix, err := index.Open(context.Background(), pipeline.DefaultIndex(f.state))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for k := range destroyed {
		if _, err := ix.Get(context.Background(), f.profile.Name, k); !errors.Is(err, index.ErrNotFound) {
			t.Errorf("the index still has destroyed dossier %s: %v", k, err)
		}
	}
}

// checkSIPs verifies every SIP of a folder as a run verifies what it sends, against the official
// XSD, and reads each as VITAM reads it (commons-compress, streaming).
func checkSIPs(t *testing.T, root string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(root, "*.zip"))
	xsd := testsvc.SharedDir(t, "seda-xsd")
	for _, p := range paths {
		v, err := seda.Verify(context.Background(), p, seda.VerifyOptions{XSDDir: xsd})
		if err != nil || !v.OK() || len(v.Blocking()) > 0 {
			t.Errorf("%s does not verify: %v %+v", filepath.Base(p), err, v.Findings)
		}
	}
	for _, s := range testsvc.StreamLikeVITAM(t, paths...) {
		if s.Err != "" || s.Manifest == "" {
			t.Errorf("VITAM's reader on %s: %s", filepath.Base(s.Path), s.Err)
		}
	}
}

func tierOf(name string) string {
	if strings.Contains(name, "-final-") {
		return "final"
	}
	return "intermediate"
}

func dirTarget(t *testing.T) string { return "dir://" + filepath.Join(t.TempDir(), "archive") }

// An execution destroys what the visa accepts and the schedule still destroys: no object of a
// destroyed dossier is left at the target, the kept ones are byte-identical in their new SIPs,
// and a second execution does nothing. A dry run before it changes nothing.
func TestExecuteDestroysWhatTheVisaAccepts(t *testing.T) {
	f := archived(t, dirTarget(t), nil)
	before, names := readArchive(t, f.target)

	res, err := f.execute(t, func(o *ExecuteOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if res.Destroyed == 0 {
		t.Fatalf("the simulation destroys nothing: %+v", res)
	}
	if after, names2 := readArchive(t, f.target); len(after) != len(before) || !slices.Equal(names, names2) {
		t.Fatalf("a dry run changed the archive: %v → %v", names, names2)
	}
	if sim := f.attestation(t, true); !sim.DryRun || !strings.HasSuffix(sim.ID, "-SIM") || sim.Destroyed != res.Destroyed {
		t.Errorf("simulation attestation: %+v", sim.Attestation)
	}

	res, err = f.execute(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	if res.Destroyed == 0 || res.Rewritten == 0 || a.Destroyed != res.Destroyed || a.InSource != res.InSource || len(a.SIPs) == 0 {
		t.Fatalf("execution: %+v; attestation %+v", res, a.Attestation)
	}
	for _, s := range a.SIPs {
		if !s.Deleted || s.OldSHA256 == "" || (s.New != "" && s.NewSHA256 == "") {
			t.Errorf("rewritten SIP: %+v", s)
		}
	}
	f.checkExecuted(t, before, a)
	whole := 0
	for _, s := range a.SIPs {
		if s.New == "" {
			whole++
		}
	}
	if whole == 0 || whole == len(a.SIPs) {
		t.Errorf("%d of the %d SIPs replaced were deleted whole: the fixture should have both kinds", whole, len(a.SIPs))
	}
	t.Logf("%d destroyed, %d spared, %d in the source; %d SIPs rewritten, %d deleted whole", res.Destroyed, res.Spared, res.InSource, res.Rewritten, whole)

	again, err := f.execute(t, nil)
	if err != nil || !again.NothingToDo {
		t.Fatalf("second execution: %+v, %v", again, err)
	}
	f.checkExecuted(t, before, a)
}
