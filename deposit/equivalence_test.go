package deposit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/sip"
)

// sipUnits reads the dossier units of every SIP in folder, by SIP file.
func sipUnits(t *testing.T, folder string) map[string][]sip.Unit {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(folder, "*.zip"))
	out := map[string][]sip.Unit{}
	for _, f := range files {
		r, closeFn := openSIP(t, f)
		var us []sip.Unit
		if err := r.Units(context.Background(), func(u sip.Unit) error {
			if len(u.OriginatingSystemIDs) > 0 {
				us = append(us, u)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		closeFn()
		out[filepath.Base(f)] = us
	}
	return out
}

func openSIP(t *testing.T, path string) (*sip.Reader, func()) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	r, err := sip.Open(context.Background(), f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return r, func() { f.Close() }
}

// demoRun runs a 60-dossier demo Apogée base to a dir:// target in batches of 10 and returns
// the target folder and the state folder.
func demoRun(t *testing.T) (out, state string) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "apogee.db")
	if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: demo.Apogee, Dossiers: 60, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	p, _ := builtinProfile("apogee")
	out, state = t.TempDir(), t.TempDir()
	if _, err := pipeline.Execute(ctx, pipeline.JobSpec{Profile: p, Source: "sqlite:" + db, Target: "dir://" + out, State: state,
		AsOf: asOf, MaxDossiers: 10}); err != nil {
		t.Fatal(err)
	}
	return out, state
}

// sipWithLOB is a SIP of folder holding a dossier with a LOB, and its dossier units.
func sipWithLOB(t *testing.T, folder string) (string, []sip.Unit) {
	t.Helper()
	for name, us := range sipUnits(t, folder) {
		for _, u := range us {
			if len(u.Objects) > 1 {
				return name, us
			}
		}
	}
	t.Fatal("no dossier with a LOB in the run's SIPs")
	return "", nil
}

// depositUnits deposits the dossiers of units, read out of r (their documents and LOB objects),
// into transaction id; it returns how many LOBs it uploaded.
func depositUnits(t *testing.T, s *Service, id string, r *sip.Reader, units []sip.Unit) int {
	t.Helper()
	ctx := context.Background()
	var docs bytes.Buffer
	lobs := 0
	for _, u := range units {
		doc := readObject(t, r, u.Objects[0])
		docs.Write(doc)
		docs.WriteByte('\n')
		var d struct {
			Tables []struct {
				Rows [][]json.RawMessage `json:"rows"`
			} `json:"tables"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		byName := map[string]sip.Object{}
		for _, o := range u.Objects[1:] {
			byName[path.Base(o.URI)] = o
		}
		for _, tb := range d.Tables {
			for _, row := range tb.Rows {
				for _, v := range row {
					var o struct{ Object string }
					if json.Unmarshal(v, &o) != nil || o.Object == "" {
						continue
					}
					so, ok := byName[o.Object]
					if !ok {
						t.Fatalf("the document names object %s, not in its unit %v", o.Object, byName)
					}
					data := readObject(t, r, so)
					// Chunks of 1000 bytes: several per photo.
					if got := upload(t, s, id, o.Object, data, 1000); !got.Complete {
						t.Fatalf("object %s not complete: %+v", o.Object, got)
					}
					lobs++
				}
			}
		}
	}
	n, err := s.AddUnits(ctx, id, &docs, "client-sco")
	if err != nil || n != len(units) {
		t.Fatalf("AddUnits: %d, %v; want %d", n, err, len(units))
	}
	return lobs
}

// TestDepositSameAsRun: the dossiers of a run's SIP, one with a photo (a LOB), read back out of
// it and deposited as units + objects in a fresh state folder, give a SIP whose units are the
// run's: tier, rules and their start dates, title, identifiers, and every object's digest.
func TestDepositSameAsRun(t *testing.T) {
	ctx := context.Background()
	runOut, _ := demoRun(t)
	chosen, units := sipWithLOB(t, runOut)
	r, closeFn := openSIP(t, filepath.Join(runOut, chosen))
	defer closeFn()

	dir, state, out := t.TempDir(), t.TempDir(), t.TempDir()
	var queued []string
	s := newService(t, dir, state, "dir://"+out, &queued)
	tx, err := s.Create(ctx, Header{Profile: "apogee", Class: demo.ApogeeClass().Name, Reference: "deposit-1"}, "client-sco")
	if err != nil {
		t.Fatal(err)
	}
	lobs := depositUnits(t, s, tx.ID, r, units)
	if lobs == 0 {
		t.Fatal("no LOB deposited")
	}
	t.Logf("run SIP %s: %d dossiers, %d LOBs deposited", chosen, len(units), lobs)
	if tx, err = s.Close(ctx, tx.ID, "client-sco"); err != nil || tx.State != StateQueued || len(queued) != 1 {
		t.Fatalf("Close: %+v %v, queued %v", tx, err, queued)
	}
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.Get(ctx, tx.ID)
	// Done: the staging copy of the dossiers is gone, the record of what was deposited stays.
	left, _ := filepath.Glob(filepath.Join(dir, "tx", tx.ID, "objects", "*.data"))
	if _, err := os.Stat(filepath.Join(dir, "tx", tx.ID, "units.ndjson")); !os.IsNotExist(err) || len(left) > 0 {
		t.Errorf("after Process the staging folder still holds the documents (%v) or objects %v", err, left)
	}
	if len(tx.Objects) != lobs || !tx.Objects[0].Complete || tx.Objects[0].SHA256 == "" {
		t.Errorf("after the purge the transaction lists objects %+v, want %d with their digests", tx.Objects, lobs)
	}
	if tx.State != StateDone || len(tx.SIPs) != 1 || tx.SIPs[0].Dossiers != len(units) || tx.SIPs[0].Status != "stored" {
		t.Fatalf("after Process: %+v", tx)
	}
	if tx.Tiers[tx.SIPs[0].Tier] != int64(len(units)) {
		t.Errorf("tiers %v: want %d %s", tx.Tiers, len(units), tx.SIPs[0].Tier)
	}
	got := sipUnits(t, out)
	if len(got) != 1 {
		t.Fatalf("deposit SIPs: %v", got)
	}
	for name, us := range got {
		if name != chosen {
			t.Errorf("deposit SIP %s, the run's %s: the same dossiers as of the same date are the same SIP", name, chosen)
		}
		if len(us) != len(units) {
			t.Fatalf("%d units, the run's SIP %d", len(us), len(units))
		}
		for i := range us {
			a, b := us[i], units[i]
			if a.Title != b.Title || !reflect.DeepEqual(a.OriginatingSystemIDs, b.OriginatingSystemIDs) ||
				!reflect.DeepEqual(a.OriginatingAgencyArchiveUnitIDs, b.OriginatingAgencyArchiveUnitIDs) ||
				!reflect.DeepEqual(a.Management, b.Management) || a.StartDate != b.StartDate || a.EndDate != b.EndDate {
				t.Errorf("unit %d differs:\ndeposit %+v\nrun     %+v", i, a, b)
			}
			if len(a.Objects) != len(b.Objects) {
				t.Fatalf("unit %d: %d objects, the run's %d", i, len(a.Objects), len(b.Objects))
			}
			for j := range a.Objects {
				if a.Objects[j].Digest != b.Objects[j].Digest || a.Objects[j].Size != b.Objects[j].Size {
					t.Errorf("unit %d object %d: %s %d, the run's %s %d", i, j, a.Objects[j].Digest, a.Objects[j].Size, b.Objects[j].Digest, b.Objects[j].Size)
				}
			}
		}
		if us[0].Management.Appraisal == nil || us[0].Management.Appraisal.StartDate == "" {
			t.Errorf("no DUA start date: %+v", us[0].Management)
		}
	}
	// Process again: nothing is sent twice.
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	// The journal: create, an object completed per LOB, units, close, processed; chained.
	var events []string
	a, err := VerifyJournal(ctx, dir, func(e Event) { events = append(events, e.Event) })
	if err != nil || !a.OK() {
		t.Fatalf("journal: %+v %v", a, err)
	}
	want := "create," + strings.Repeat("object-completed,", lobs) + "units-added,close,processed"
	if strings.Join(events, ",") != want {
		t.Errorf("journal events %v, want %s", events, want)
	}
	// The SIP is in the establishment's ledger as a run records it.
	if _, err := os.Stat(filepath.Join(state, "ledger.jsonl")); err != nil {
		t.Error(err)
	}
}

func readObject(t *testing.T, r *sip.Reader, o sip.Object) []byte {
	t.Helper()
	rc, err := r.Object(context.Background(), o)
	return readAll(t, rc, err)
}
