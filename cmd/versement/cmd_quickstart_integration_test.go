package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
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
	// VITAM reads an upload as a stream, not through the central directory: every quickstart SIP,
	// photos (stored) included, must go through its reader whole.
	photos := 0
	for i, s := range testsvc.StreamLikeVITAM(t, sips...) {
		if s.Err != "" || s.Manifest != "manifest.xml" {
			t.Errorf("%s: VITAM's reader: manifest %q, %s", filepath.Base(sips[i]), s.Manifest, s.Err)
		}
		for _, e := range s.Entries {
			if strings.Contains(e.Name, ".PHO_ETU.") {
				photos++
			}
		}
	}
	if photos == 0 {
		t.Error("no photo streamed: the test no longer covers STORED entries")
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
