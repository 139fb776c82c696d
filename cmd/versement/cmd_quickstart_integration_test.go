package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickstart: from an empty folder, one command makes the demo database, archives it,
// verifies everything and says where to look; the second time nothing new is archived.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, "quickstart", "--dir", dir, "--dossiers", "300", "--as-of", "2026-11-30")
	if code != 0 || !strings.Contains(out, "creating a demo Apogée database with 300 students") ||
		!strings.Contains(out, "verified: ") || !strings.Contains(out, "where to look next:") || strings.Contains(out, "nothing new was archived") {
		t.Fatalf("quickstart: code %d\n%s", code, out)
	}
	sips, _ := filepath.Glob(filepath.Join(dir, "archives", "*.zip"))
	if len(sips) < 2 {
		t.Fatalf("%d SIPs in archives", len(sips))
	}
	for _, f := range []string{"apogee-demo.db", "versement-state/ledger.jsonl", "versement-state/state.db", "elimination-proposal.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	out, code = run(t, "quickstart", "--dir", dir, "--as-of", "2026-11-30")
	if code != 0 || !strings.Contains(out, "using the demo database") || !strings.Contains(out, "nothing new was archived: 0 SIPs") {
		t.Fatalf("second quickstart: code %d\n%s", code, out)
	}
	if again, _ := filepath.Glob(filepath.Join(dir, "archives", "*.zip")); len(again) != len(sips) {
		t.Errorf("%d SIPs after the second run, %d before", len(again), len(sips))
	}
}
