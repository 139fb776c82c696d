package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/profiles"
)

func TestProfilesList(t *testing.T) {
	out, code := run(t, "profiles", "list")
	if code != 0 || !strings.Contains(out, "apogee   etudiant  apogee") || !strings.Contains(out, "harpege  agent     harpege") {
		t.Fatalf("profiles list: code %d\n%s", code, out)
	}
}

func TestProfilesShowReadsBack(t *testing.T) {
	out, code := run(t, "profiles", "show", "apogee")
	if code != 0 || !strings.Contains(out, "table: THESE_HDR_SOUT") || !strings.Contains(out, "max_dossiers: 1000") {
		t.Fatalf("profiles show: code %d\n%s", code, out)
	}
	// What show prints is a profile a user can copy, edit and validate.
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, "profiles", "validate", path)
	if code != 0 || out != path+": ok\n" {
		t.Fatalf("validate of show's output: code %d\n%s", code, out)
	}
}

func TestProfilesValidateReportsEachMistake(t *testing.T) {
	src, code := run(t, "profiles", "show", "harpege")
	if code != 0 {
		t.Fatal(code)
	}
	src = strings.Replace(src, "join: NO_INDIVIDU", "joinn: NO_INDIVIDU", 1)
	src = strings.Replace(src, `version: "2.2"`, `version: "3"`, 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "profiles", "validate", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitFindings || len(lines) != 2 || lines[1] != "ERR: 1 mistake(s) found" || !strings.HasPrefix(lines[0], path+":") ||
		!strings.HasSuffix(lines[0], ": classes[0].children[6].joinn: unknown field (known here: columns, comment, join, meanings, optional, order, table, where)") {
		t.Fatalf("validate: code %d\n%s", code, out)
	}
	// Once the shape is right, the values are checked: a wrong version is reported with its line.
	src = strings.Replace(src, "joinn:", "join:", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, "profiles", "validate", path)
	if code != exitFindings || out != path+":7: seda.version: \"3\": want one of \"2.1\", \"2.2\", \"2.3\"\nERR: 1 mistake(s) found\n" {
		t.Fatalf("validate: code %d\n%s", code, out)
	}
	if _, code := run(t, "profiles", "validate", filepath.Join(t.TempDir(), "none.yaml")); code != exitError {
		t.Errorf("validate of a missing file: code %d, want %d", code, exitError)
	}
}

// validate --source against a base without theses and whose registrations lost the column the
// retention rule filters on: the optional table is a warning, the rule's column a finding (it said
// "ok" although the rule could never decide).
func TestProfilesValidateSourceWarnsAndChecksTheRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apogee.db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Apogee, Dossiers: 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE "THESE_HDR_SOUT"`, `ALTER TABLE "INS_ADM_ANU" RENAME COLUMN "ETA_IAA" TO "ETA"`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	text, _ := profiles.BuiltinSource("apogee")
	line := func(s string) int {
		for i, l := range strings.Split(string(text), "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		return 0
	}
	out, code := run(t, "profiles", "validate", "--source", path, "apogee")
	want := fmt.Sprintf(`builtin/apogee.yaml:%d: warning: classes[0].children[8].table: optional table THESE_HDR_SOUT not found in sqlite:%s (profile apogee; looked for "THESE_HDR_SOUT": SQLite ignores case in names): dossiers are archived without it
builtin/apogee.yaml:%d: classes[0].rule: rule APP-APO-IA (schedule apogee) start reads INS_ADM_ANU.ETA_IAA, which its dossiers do not hold (unknown column ETA_IAA in table INS_ADM_ANU)
builtin/apogee.yaml:%d: classes[0].children[1].meanings.ETA_IAA: unknown column ETA_IAA in table INS_ADM_ANU
ERR: 2 mistake(s) found
`, line("table: THESE_HDR_SOUT"), path, line("rule: APP-APO-IA"), line("ETA_IAA: "))
	if code != exitFindings || out != want {
		t.Errorf("validate --source: code %d\n%s\nwant:\n%s", code, out, want)
	}
}
