package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/retention"
)

// rules runs `versement rules …` in-process: what it printed, the error message, the exit code.
func rules(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	app.ErrWriter = &bytes.Buffer{}
	err := app.RunContext(context.Background(), append([]string{"versement", "rules"}, args...))
	if err == nil {
		return out.String(), "", exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return out.String(), ec.Error(), ec.ExitCode()
	}
	return out.String(), err.Error(), exitError
}

func TestRulesList(t *testing.T) {
	out, msg, code := rules(t, "list", "--profile", "apogee")
	if code != 0 {
		t.Fatalf("code %d: %s", code, msg)
	}
	for _, want := range []string{
		"schedule apogee (builtin:apogee) · academic year N ends on 08-31 of N+1",
		"APP-APO-IA  Données personnelles du traitement Apogée (dossier étudiant)  [TO CONFIRM]",
		"  active  3y from the start (DUC)\n  DUA     7y after the active phase\n  ceiling 10y at most for active + DUA (legal maximum)\n  final   sample, no criteria set: every dossier kept\n",
		"  access  ACC-PERS-50 50y from the start · Code du patrimoine L213-2 I 3°\n",
		"  source  arrêté du 26/01/1995 art. 4",
		"  status  TO CONFIRM\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list apogee lacks %q:\n%s", want, out)
		}
	}
	// Harpège's rule is verified for its DUA, and its active phase is the team's reading: the
	// header, the active line and the status say which part is still to confirm.
	out, _, code = rules(t, "list", "--profile", "harpege")
	for _, want := range []string{
		"APP-HAR-DI  Dossier individuel de l'agent (carrière, affectations, contrats)  [verified, active phase à confirmer]\n",
		"  active  until latestEnd(map(AFFECTATION, .D_FIN_AFFECTATION), map(CARRIERE, .D_FIN_CARRIERE), map(CONTRAT_AVENANT, coalesce(.D_FIN_EXECUTION, .D_FIN_CONTRAT_TRAV))) · à confirmer (interpretation)\n",
		"  DUA     80y from the start\n",
		"start   date of birth: date(INDIVIDU.D_NAISSANCE)",
		"  status  verified, active phase à confirmer\n",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("list harpege (%d) lacks %q:\n%s", code, want, out)
		}
	}
}

func TestRulesListScheduleFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "univ.yaml")
	os.WriteFile(path, []byte(`schedule: univ
extends: apogee
rules:
  - id: APP-APO-COPIES
    title: Copies d'examen
    start: endOfYear(map(INS_ADM_ANU, .COD_ANU))
    active: 0d
    dua: 1y
    final: sample
    sampling:
      year_modulo: 5
      year: year(endOfYear(map(INS_ADM_ANU, .COD_ANU)))
    status: to-confirm
  - id: APP-APO-DIPLOMES
    title: Registre des diplômes
    start: endOfYear(map(INS_ADM_ANU, .COD_ANU))
    active: 1y
    dua: 5y
    final: keep
    status: verified
holds:
  - id: HOL-1
    keys: ["12"]
    reason: contentieux
    until: 2030-01-01
`), 0o644)
	out, msg, code := rules(t, "list", "--schedule", path)
	if code != 0 {
		t.Fatalf("code %d: %s", code, msg)
	}
	for _, want := range []string{"APP-APO-IA ", "APP-APO-COPIES  Copies d'examen  [TO CONFIRM]", "  final   sample: kept when year mod 5 = 0\n", "hold HOL-1  contentieux · 1 key(s) · until 2030-01-01\n",
		"APP-APO-DIPLOMES  Registre des diplômes  [verified]\n  start   endOfYear(map(INS_ADM_ANU, .COD_ANU))\n  active  1y from the start (DUC)\n  DUA     5y after the active phase\n  final   keep\n  status  verified\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	// A mistake in the file: exit 2, the file, the line, the field.
	os.WriteFile(path, []byte("schedule: univ\nextends: apogee\nrules:\n  - id: APP-X\n    start: date(INDIVIDU.DATE_NAI_IND)\n    active: 1y\n    dua: forever\n    final: keep\n    status: verified\n"), 0o644)
	_, msg, code = rules(t, "list", "--schedule", path)
	if want := path + `:7: rules[0] (APP-X) dua: duration "forever": want e.g. 7y, 18m, 30d, 1y6m or unlimited`; code != exitError || msg != want {
		t.Errorf("bad schedule: %d %q\nwant %q", code, msg, want)
	}
}

func TestRulesExport(t *testing.T) {
	out, msg, code := rules(t, "export", "--format", "vitam-csv", "--profile", "apogee", "--profile", "harpege")
	if code != 0 {
		t.Fatalf("code %d: %s", code, msg)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || lines[0] != "RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement" ||
		!strings.HasPrefix(lines[1], "APP-APO-IA,AppraisalRule,") || !strings.HasSuffix(lines[1], "(à confirmer),7,year") ||
		!strings.HasPrefix(lines[2], "ACC-PERS-50,AccessRule,") || !strings.HasSuffix(lines[2], ",50,year") ||
		!strings.HasPrefix(lines[3], "APP-HAR-DI,AppraisalRule,") || !strings.HasSuffix(lines[3], ",80,year") {
		t.Errorf("export:\n%s", out)
	}
	// -o writes the same bytes, and VITAM's format reads back.
	path := filepath.Join(t.TempDir(), "rules.csv")
	if _, msg, code := rules(t, "export", "--profile", "apogee", "--profile", "harpege", "-o", path); code != 0 {
		t.Fatalf("export -o: %s", msg)
	}
	data, _ := os.ReadFile(path)
	if string(data) != out {
		t.Errorf("-o wrote:\n%s", data)
	}
	if ref, err := retention.ReadReferential(bytes.NewReader(data), path); err != nil || len(ref.Rules) != 3 {
		t.Errorf("read back: %v", err)
	}
}

func TestRulesExportConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "univ.yaml")
	os.WriteFile(path, []byte(`schedule: univ
rules:
  - id: APP-U
    start: date(INDIVIDU.DATE_NAI_IND)
    active: 1y
    dua: 1y
    final: keep
    access: {id: ACC-PERS-50, title: "Vie privée : 50 ans à compter du document le plus récent (L213-2 I 3°)", duration: 25y, basis: Code du patrimoine L213-2 I 3°}
    status: verified
`), 0o644)
	_, msg, code := rules(t, "export", "--profile", "apogee", "--schedule", path)
	want := `referential: conflicting definitions of rule ACC-PERS-50: AccessRule 50y "Vie privée : 50 ans à compter du document le plus récent (L213-2 I 3°)" (rule APP-APO-IA of builtin:apogee) and AccessRule 25y "Vie privée : 50 ans à compter du document le plus récent (L213-2 I 3°)" (rule APP-U of ` + path + ")"
	if code != exitError || msg != want {
		t.Errorf("conflict: %d\n got %s\nwant %s", code, msg, want)
	}
}

func TestRulesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "give --profile (apogee, harpege) or --schedule FILE"},
		{[]string{"list", "--profile", "sifac"}, `--profile: no built-in profile "sifac" (built-in: apogee, harpege)`},
		{[]string{"export", "--format", "json", "--profile", "apogee"}, `--format "json": want vitam-csv`},
		{[]string{"list", "--schedule", "/nonexistent/s.yaml"}, "schedule: open /nonexistent/s.yaml: no such file or directory"},
	} {
		_, msg, code := rules(t, tc.args...)
		if code != exitError || msg != tc.want {
			t.Errorf("%v: %d %q, want %q", tc.args, code, msg, tc.want)
		}
	}
}

// TestRulesShowReadsBack: what show prints is a schedule file a user can copy, edit and load.
func TestRulesShowReadsBack(t *testing.T) {
	out, msg, code := rules(t, "show", "harpege")
	if code != 0 {
		t.Fatalf("show: %s", msg)
	}
	path := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(path, []byte(strings.Replace(out, "schedule: harpege", "schedule: univ-rh", 1)), 0o644)
	got, msg, code := rules(t, "list", "--schedule", path)
	if code != 0 || !strings.Contains(got, "schedule univ-rh ("+path+")") || !strings.Contains(got, "APP-HAR-DI  ") {
		t.Errorf("list of show's output: %d %s\n%s", code, msg, got)
	}
	if _, msg, code := rules(t, "show", "sifac"); code != exitError || msg != `no built-in schedule "sifac" (have apogee, harpege)` {
		t.Errorf("show sifac: %d %q", code, msg)
	}
}
