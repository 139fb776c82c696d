package extract_test

import (
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// go test -run XXX -bench Dossiers -benchtime 3x ./extract   (bench/extract.sh for the comparison with psql)
func BenchmarkDossiersSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "apogee.db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Apogee, Dossiers: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	src, err := extract.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	b.ResetTimer()
	for b.Loop() {
		var w countingWriter
		n := 0
		for d, err := range src.Dossiers(context.Background(), demo.ApogeeClass()) {
			if err != nil {
				b.Fatal(err)
			}
			if err := d.WriteJSON(&w, nil); err != nil {
				b.Fatal(err)
			}
			for r := range d.LOBs() {
				rc, _ := r.LOB.Open(context.Background())
				k, _ := io.Copy(&w, rc)
				_ = k
				rc.Close()
			}
			n++
		}
		b.SetBytes(w.n)
		b.ReportMetric(float64(n), "dossiers/op")
	}
}

func TestMissingTableOrColumnSaysWhich(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Apogee, Dossiers: 5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, batched := range []bool{false, true} {
		missingCases(t, openSourceWith(t, "sqlite:"+path, extract.Options{Batched: batched}))
	}
}

func missingCases(t *testing.T, src extract.Source) {
	run := func(c extract.Spec) error {
		for _, err := range src.Dossiers(context.Background(), c) {
			if err != nil {
				return err
			}
		}
		return nil
	}
	c := demo.ApogeeClass()
	c.Children[1].Name = "INS_ADM_ANUX"
	err := run(c)
	if err == nil || !strings.HasSuffix(err.Error(), `: table INS_ADM_ANUX not found (looked for "INS_ADM_ANUX": SQLite ignores case in names)`) {
		t.Errorf("missing table: %v", err)
	}
	// Every missing required table at once, each where the profile names it; an optional one is
	// not among them.
	c = demo.ApogeeClass()
	c.Children[1].Name, c.Children[1].Origin = "INS_ADM_ANUX", "p.yaml:12"
	c.Children[2].Name, c.Children[2].Origin = "INS_ADM_ETPX", "p.yaml:17"
	c.Children[3].Name, c.Children[3].Optional = "RESULTAT_VETX", true
	err = run(c)
	if err == nil || !strings.HasPrefix(err.Error(), `class "etudiant": 2 tables not found in sqlite:`) ||
		!strings.HasSuffix(err.Error(), " (SQLite ignores case in names):\n  p.yaml:12: INS_ADM_ANUX\n  p.yaml:17: INS_ADM_ETPX") {
		t.Errorf("missing tables: %v", err)
	}
	c = demo.ApogeeClass()
	c.Children[1].JoinColumn = "COD_INDX"
	if err := run(c); err == nil || err.Error() != `class "etudiant": table INS_ADM_ANU has no column COD_INDX` {
		t.Errorf("missing column: %v", err)
	}
	c = demo.ApogeeClass()
	c.Root.Key = "DATE_NAI_IND"
	if err := run(c); err == nil || err.Error() != `class "etudiant": key column INDIVIDU.DATE_NAI_IND is date (DATE): a dossier key must be an integer or text` {
		t.Errorf("date key: %v", err)
	}
}

// OpenDB wraps a handle the caller owns: Close leaves it open.
func TestOpenDBBorrowsTheHandle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Harpege, Dossiers: 12, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src, err := extract.OpenDB(db, "sqlite", extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range src.Dossiers(context.Background(), demo.HarpegeClass()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 12 {
		t.Fatalf("%d dossiers, want 12", n)
	}
	src.Close()
	if err := db.Ping(); err != nil {
		t.Fatalf("the caller's handle was closed: %v", err)
	}
	if _, err := extract.OpenDB(db, "mysql", extract.Options{}); err == nil || err.Error() != `no dialect "mysql": want sqlite, postgres or oracle` {
		t.Fatalf("unknown dialect: %v", err)
	}
}
