package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
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

// The whole loop as an archivist and ops type it, in French: two runs archive then propose, the
// visa is recorded, a simulation changes nothing, the execution destroys and attests, a second
// one has nothing left to do; every SIP at the target verifies against the XSD, and the ledger
// verifies against the target.
func TestEliminateExecute(t *testing.T) {
	dir := t.TempDir()
	prof, db := samplingProfile(t, dir), seededDemo(t, 120)
	state, arch, docs, out := filepath.Join(dir, "state"), filepath.Join(dir, "archive"), filepath.Join(dir, "bordereaux"), filepath.Join(dir, "attestations")
	for _, asOf := range []string{"2016-06-30", "2026-11-30"} {
		if o, code := run(t, "run", "--profile", prof, "--source", db, "--as-of", asOf, "--target", "dir://"+arch, "--state", state, "--bordereaux", docs, "--batch-dossiers", "6"); code != 0 {
			t.Fatalf("run as of %s: exit %d\n%s", asOf, code, o)
		}
	}
	visa := acceptAllLots(t, docs, "AD-2026-17", "Claire Dupont, directrice des archives")
	if o, code := run(t, "eliminate", "import-visa", "--proposal", filepath.Join(docs, pipeline.EliminationFile+".json"), "--state", state, visa); code != 0 {
		t.Fatalf("import-visa: exit %d\n%s", code, o)
	}
	before, _ := filepath.Glob(filepath.Join(arch, "*.zip"))
	exec := []string{"--lang", "fr", "eliminate", "execute", "--visa", "AD-2026-17", "--profile", prof, "--source", db, "--state", state, "--out", out, "--as-of", "2026-12-02"}
	o, code := run(t, append(exec, "--dry-run")...)
	if code != 0 || !strings.Contains(o, "simulation du visa AD-2026-17 : ") || !strings.Contains(o, "rien n'a été modifié") {
		t.Fatalf("dry run: exit %d\n%s", code, o)
	}
	if after, _ := filepath.Glob(filepath.Join(arch, "*.zip")); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("the dry run changed the archive: %v → %v", before, after)
	}
	o, code = run(t, exec...)
	if code != 0 || !strings.Contains(o, "visa AD-2026-17 exécuté : ") || !strings.Contains(o, "attestation : "+filepath.Join(out, "attestation-elimination-AD-2026-17.html")) ||
		!strings.Contains(o, "cles-a-supprimer-source-AD-2026-17.csv") {
		t.Fatalf("execute: exit %d\n%s", code, o)
	}
	t.Logf("execute: %s", o)
	o, code = run(t, exec...)
	if code != 0 || !strings.Contains(o, "le visa AD-2026-17 a déjà été exécuté") {
		t.Fatalf("execute again: exit %d\n%s", code, o)
	}
	after, _ := filepath.Glob(filepath.Join(arch, "*.zip"))
	if len(after) == 0 || strings.Join(after, " ") == strings.Join(before, " ") {
		t.Fatalf("the archive did not change: %v", after)
	}
	xsd := testsvc.SharedDir(t, "seda-xsd")
	if o, code := run(t, append([]string{"verify", "--xsd-dir", xsd}, after...)...); code != 0 || strings.Contains(o, "XSD not checked") {
		t.Fatalf("verify the SIPs after the execution: exit %d\n%s", code, o)
	}
	if o, code := run(t, "verify", "--ledger", filepath.Join(state, "ledger.jsonl"), "--target", "dir://"+arch); code != 0 {
		t.Fatalf("verify --ledger --target: exit %d\n%s", code, o)
	}
	// A consultation of a destroyed dossier says it was destroyed, and under which visa; the
	// access log keeps the request.
	var att struct {
		Dossiers []struct{ Key, Outcome string } `json:"dossiers"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "attestation-elimination-AD-2026-17.json")); err != nil || json.Unmarshal(b, &att) != nil {
		t.Fatalf("attestation: %v", err)
	}
	gone := ""
	for _, d := range att.Dossiers {
		if d.Outcome == "destroyed" {
			gone = d.Key
			break
		}
	}
	if err := os.WriteFile(filepath.Join(state, "roles.yaml"), roles.ExampleYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	o, code = run(t, "consult", "--state", state, "--as", "archiviste", "--groups", "archives", "--motive-category", "controle-audit", "--motive", "contrôle",
		"--profile", "apogee", "--key", gone)
	if code != exitFindings || !strings.Contains(o, "key "+gone+": destroyed on 20") || !strings.Contains(o, "under visa AD-2026-17") {
		t.Fatalf("consult a destroyed dossier: exit %d\n%s", code, o)
	}
	if lg, _ := os.ReadFile(filepath.Join(state, "access-log.jsonl")); !strings.Contains(string(lg), "destroyed under visa AD-2026-17") {
		t.Errorf("the access log does not say the dossier was destroyed:\n%.1000s", lg)
	}
	keys, err := os.ReadFile(filepath.Join(out, "cles-a-supprimer-source-AD-2026-17.csv"))
	if err != nil || !strings.HasPrefix(string(keys), "\ufeffTable;Colonne de la clé;Clé;Classe;Lot;Fin de DUA\r\n") || !strings.Contains(string(keys), "\r\nINDIVIDU;COD_IND;") ||
		strings.Index(string(keys), "\r\nINS_ADM_ANU;COD_IND;") > strings.Index(string(keys), "\r\nINDIVIDU;") {
		t.Errorf("the DBA's list of source keys:\n%.300s", keys)
	}
}

// acceptAllLots fills in the bordereau's CSV as the archivist returns it: every lot accepted
// under one visa dated 2026-12-01, and returns the file.
func acceptAllLots(t *testing.T, docs, ref, signatory string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docs, pipeline.EliminationFile+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if l = strings.TrimSuffix(l, "\r"); strings.Contains(l, "/L0") && strings.HasSuffix(l, ";;;;") {
			lines[i] = strings.TrimSuffix(l, ";;;;") + ";accepté;" + ref + ";2026-12-01;" + signatory + "\r"
		}
	}
	visa := filepath.Join(t.TempDir(), "visa.csv")
	if err := os.WriteFile(visa, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return visa
}
