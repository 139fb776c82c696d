package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/pipeline"
)

// --undetermined lists every undetermined dossier, where the report keeps the first ones; in
// French, with the header, separator and byte-order mark French spreadsheets expect.
func TestRunListsEveryUndeterminedDossier(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if _, err := demo.CreateSQLite(context.Background(), db, demo.Options{Profile: demo.Apogee, Dossiers: 2000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	list, report := filepath.Join(dir, "undetermined.csv"), filepath.Join(dir, "report.json")
	out, code := run(t, "run", "--profile", "apogee", "--source", db, "--dry-run", "--as-of", "2026-11-30", "--undetermined", list, "--report", report)
	if code != 0 || !strings.Contains(out, "files written: "+report+", "+list+"\n") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep pipeline.Report
	b, _ := os.ReadFile(report)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(list)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Tiers["undetermined"]
	if n == 0 || int64(len(rows)-1) != n || strings.Join(rows[0], ",") != "class,key,rule,reason" {
		t.Fatalf("%d rows for %d undetermined dossiers: %v", len(rows)-1, n, rows[:min(3, len(rows))])
	}
	for i, u := range rep.Undetermined {
		if rows[i+1][1] != u.Key || rows[i+1][3] != u.Reason {
			t.Errorf("row %d %v, the report says %+v", i+1, rows[i+1], u)
		}
	}

	out, code = run(t, "--lang", "fr", "run", "--profile", "apogee", "--source", db, "--dry-run", "--as-of", "2026-11-30", "--undetermined", list)
	b, _ = os.ReadFile(list)
	if code != 0 || !strings.HasPrefix(string(b), "\ufeffclasse;clé;règle;motif\r\n") || strings.Count(string(b), "\r\n") != int(n)+1 {
		t.Fatalf("French: exit %d, list %q\n%s", code, b[:min(len(b), 200)], out)
	}
}
