package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run --dry-run --plan FILE writes the plan as a page with its charts, in the reader's language.
func TestRunWritesThePlanPage(t *testing.T) {
	db := cliDemo(t, "apogee")
	page := filepath.Join(t.TempDir(), "plan.html")
	out, code := run(t, "--lang", "fr", "run", "--profile", "apogee", "--source", db, "--dry-run", "--as-of", "2026-11-30", "--plan", page)
	b, err := os.ReadFile(page)
	if code != 0 || err != nil || !strings.Contains(string(b), "<h1>Plan de versement</h1>") || strings.Count(string(b), "<svg ") != 2 ||
		!strings.Contains(out, "fichiers écrits : "+page) {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
}
