package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/pipeline"
)

// The archivist's visa, returned in the bordereau's own CSV, is recorded once in the ledger, and
// the ledger still verifies; recording it again changes nothing.
func TestEliminateImportVisa(t *testing.T) {
	dir := t.TempDir()
	prof, db, docs := samplingProfile(t, dir), seededDemo(t, 200), filepath.Join(dir, "bordereaux")
	state := filepath.Join(dir, "state")
	if out, code := run(t, "--lang", "fr", "run", "--profile", prof, "--source", db, "--dry-run", "--as-of", "2026-11-30", "--bordereaux", docs, "--state", state); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(docs, pipeline.EliminationFile+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	answered := 0
	for i, l := range lines {
		if strings.Contains(l, "/L001;") && strings.HasSuffix(strings.TrimSuffix(l, "\r"), ";;;;") {
			lines[i] = strings.TrimSuffix(strings.TrimSuffix(l, "\r"), ";;;;") + ";accepté;AD-2026-17;2026-12-01;Claire Dupont, directrice des archives\r"
			answered++
		}
	}
	if answered != 1 {
		t.Fatalf("the bordereau's CSV has %d line L001 with empty visa columns:\n%.2000s", answered, b)
	}
	visa := filepath.Join(dir, "visa.csv")
	if err := os.WriteFile(visa, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--lang", "fr", "eliminate", "import-visa", "--proposal", filepath.Join(docs, pipeline.EliminationFile+".json"), "--state", state, visa}
	out, code := run(t, args...)
	if code != 0 || !strings.Contains(out, "visa AD-2026-17 enregistré pour la proposition ELIM-") || !strings.Contains(out, "1 lot(s) accepté(s)") {
		t.Fatalf("import-visa: exit %d\n%s", code, out)
	}
	out, code = run(t, args...)
	if code != 0 || !strings.Contains(out, "le visa AD-2026-17 était déjà enregistré") {
		t.Fatalf("import-visa again: exit %d\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", filepath.Join(state, "ledger.jsonl")); code != 0 {
		t.Fatalf("verify --ledger: exit %d\n%s", code, out)
	}

	// A visa without its reference is refused, and says what is missing.
	noRef := strings.Replace(strings.Join(lines, "\n"), ";AD-2026-17;", ";;", 1)
	if err := os.WriteFile(visa, []byte(noRef), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, args...)
	if code == 0 || !strings.Contains(out, "eliminate : ") {
		t.Fatalf("a visa without reference: exit %d\n%s", code, out)
	}
	t.Logf("refusal: %s", out)
}
