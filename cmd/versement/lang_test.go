package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain makes what the commands print for a person English whatever the machine's locale: a
// test that wants French says so (LANG or --lang). Helper processes started by tests inherit it.
func TestMain(m *testing.M) {
	os.Setenv("LANG", "C.UTF-8")
	os.Unsetenv("LC_ALL")
	os.Unsetenv("LC_MESSAGES")
	os.Exit(m.Run())
}

// The summary follows LANG, and --lang wins over it, before or after the command.
func TestQuickstartSummaryFollowsTheLanguage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LANG", "fr_FR.UTF-8")
	out, code := run(t, "quickstart", "--dir", dir, "--dossiers", "300", "--as-of", "2026-06-30")
	if code != 0 || !strings.Contains(out, "versement : archivage, profil apogee") || !strings.Contains(out, "\npar règle :\n") ||
		!strings.Contains(out, "\noù regarder ensuite :\n") || !strings.Contains(out, "les bordereaux (à imprimer) : "+filepath.Join(dir, "bordereaux")+"/\n") {
		t.Fatalf("LANG=fr_FR.UTF-8: exit %d\n%s", code, out)
	}
	for _, f := range []string{"bordereaux/bordereau-versement-VERS-apogee-*.html", "bordereaux/bordereau-elimination.csv", "plan.html"} {
		if m, _ := filepath.Glob(filepath.Join(dir, f)); len(m) != 1 {
			t.Errorf("quickstart wrote %d files %s, want 1", len(m), f)
		}
	}
	out, code = run(t, "--lang", "en", "quickstart", "--dir", dir, "--as-of", "2026-06-30")
	if code != 0 || !strings.Contains(out, "versement run: profile apogee") || strings.Contains(out, "par règle") {
		t.Fatalf("--lang en before the command: exit %d\n%s", code, out)
	}
	t.Setenv("LANG", "C.UTF-8")
	out, code = run(t, "quickstart", "--dir", dir, "--as-of", "2026-06-30", "--lang", "fr")
	if code != 0 || !strings.Contains(out, "rien de nouveau n'a été archivé : 0 SIP") {
		t.Fatalf("--lang fr after the command: exit %d\n%s", code, out)
	}
}

// rules list reads in French for a French archivist; the VITAM referential's descriptions are in
// French whatever the language, since VITAM shows them to French archivists.
func TestRulesListInFrench(t *testing.T) {
	out, code := run(t, "--lang", "fr", "rules", "list", "--profile", "apogee")
	for _, want := range []string{"tableau de gestion apogee (builtin:apogee) · l'année universitaire N se termine le 08-31 de N+1\n",
		"[À CONFIRMER]", "  sort    tri, sans critère : chaque dossier est conservé\n", "  statut  À CONFIRMER\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("rules list in French lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	out, code = run(t, "rules", "export", "--format", "vitam-csv", "--profile", "apogee")
	if code != 0 || !strings.Contains(out, "(à confirmer),7,year") || strings.Contains(out, "to confirm") {
		t.Errorf("referential (exit %d):\n%s", code, out)
	}
}
