package retention

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
)

const goodSchedule = `schedule: univ-x
extends: apogee
academic_year_end: "09-30"
rules:
  - id: APP-APO-IA
    title: Dossier étudiant (tableau de gestion validé par les AD)
    start: endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))
    active: 2y
    dua: 8y
    final: sample
    sampling:
      letters: [B, T]
      surname: INDIVIDU.LIB_NOM_PAT_IND
    access: {id: ACC-PERS-50, title: "Vie privée : 50 ans à compter du document le plus récent (L213-2 I 3°)", duration: 50y, basis: Code du patrimoine L213-2 I 3°}
    basis: tableau de gestion 2024 visé par les AD69
    status: verified
  - id: APP-APO-COPIES
    title: Copies d'examen
    start: addYears(endOfYear(INS_ADM_ANU[0].COD_ANU), 0)
    active: 0d
    dua: 1y
    final: destroy
    status: to-confirm
holds:
  - id: HOL-TA-2025
    keys: ["42", "43"]
    reason: contentieux TA Lyon n° 2025-0012
    until: 2029-12-31
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSchedule(t *testing.T) {
	p := writeFile(t, "univ.yaml", goodSchedule)
	s, err := LoadSchedule(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "univ-x" || len(s.Rules) != 2 || len(s.Holds) != 1 || s.YearEnd.String() != "09-30" {
		t.Fatalf("schedule %+v", s)
	}
	d := s.Decide("APP-APO-IA", apogeeEnv("2015"), "42", day("2028-01-01"))
	// Overridden: 2 + 8 years from 2016-09-30 (the establishment's cut-off), sampled on B/T.
	if d.Start != day("2016-09-30") || d.ActiveEnd != day("2018-09-30") || d.DUAEnd != day("2026-09-30") || d.Tier != Held || d.Hold.ID != "HOL-TA-2025" {
		t.Errorf("decision %s", d.Explain())
	}
	if d := s.Decide("APP-NONE", apogeeEnv("2015"), "42", day("2030-01-01")); d.Tier != Undetermined || d.Reason != "schedule univ-x has no rule APP-NONE" {
		t.Errorf("unknown rule: %s %q", d.Tier, d.Reason)
	}
}

// TestCeilingInherited: an establishment may change the 3 + 7 split of Apogée, not exceed the
// 10 years of the 1995 arrêté, even when its own rule does not restate the ceiling.
func TestCeilingInherited(t *testing.T) {
	over := strings.Replace(goodSchedule, "dua: 8y", "dua: 8y1d", 1)
	_, err := ParseSchedule([]byte(over), "univ.yaml")
	if want := "univ.yaml:5: rules[0] (APP-APO-IA) ceiling: active 2y + dua 8y1d exceeds the legal ceiling of 10y"; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	ok := strings.Replace(goodSchedule, "active: 2y\n    dua: 8y", "active: 24m\n    dua: 96m", 1)
	if _, err := ParseSchedule([]byte(ok), "univ.yaml"); err != nil {
		t.Errorf("24m + 96m: %v", err)
	}
}

// TestScheduleWindowsEditors: a BOM and CRLF line ends, as Notepad writes them, read the same.
func TestScheduleWindowsEditors(t *testing.T) {
	data := "\ufeff" + strings.ReplaceAll(goodSchedule, "\n", "\r\n")
	s, err := ParseSchedule([]byte(data), "win.yaml")
	if err != nil || s.Name != "univ-x" || len(s.Rules) != 2 {
		t.Fatalf("%v", err)
	}
	_, err = ParseSchedule([]byte(strings.Replace(data, "dua: 8y", "dua: 8x", 1)), "win.yaml")
	if want := `win.yaml:9: rules[0] (APP-APO-IA) dua: duration "8x": unit "x": want y, m or d`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestBuiltinSchedules(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "apogee,harpege" {
		t.Errorf("Names() = %s", got)
	}
	for _, n := range Names() {
		s, err := BuiltinSchedule(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Rules {
			if r.Basis == "" || r.Note == "" || r.Access == nil || r.Access.Duration != (Duration{Years: 50}) {
				t.Errorf("%s %s: basis, note and a 50-year access rule expected", n, r.ID)
			}
		}
	}
	a, _ := BuiltinSchedule("apogee")
	r, ok := a.Rule("APP-APO-IA")
	// Apogée: only the 10-year ceiling is verified; the 3 + 7 split is to confirm.
	if !ok || r.Status != ToConfirm || r.Active.Years+r.DUA.Years != 10 {
		t.Errorf("apogee rule %+v", r.Rule)
	}
	h, _ := BuiltinSchedule("harpege")
	r, ok = h.Rule("APP-HAR-DI")
	if !ok || r.DUA != (Duration{Years: 80}) || r.DUAFrom != FromStart || r.FinalAction != Sample || r.Sampling.HasCriteria() {
		t.Errorf("harpege rule %+v", r.Rule)
	}
	// Verified, but the active phase is the team's interpretation: rules list and the referential say so.
	if r.Status != Verified || r.ActiveStatus != ToConfirm || !r.ActiveToConfirm() || r.StatusLabel() != "verified, active phase à confirmer" {
		t.Errorf("harpege status %s / %s: %q", r.Status, r.ActiveStatus, r.StatusLabel())
	}
	if r, _ := a.Rule("APP-APO-IA"); r.ActiveToConfirm() || r.StatusLabel() != "TO CONFIRM" {
		t.Errorf("apogee status label %q", r.StatusLabel())
	}
	if got := (Rule{Status: Verified}).StatusLabel(); got != "verified" {
		t.Errorf("verified label %q", got)
	}
	if got := (Rule{Status: ToConfirm, ActiveStatus: ToConfirm}).StatusLabel(); got != "TO CONFIRM" {
		t.Errorf("to-confirm label %q", got)
	}
	ref, err := h.Referential()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ref.Rules[0].Description, "arrêté du 21/12/2012 art. 2 (80 years from birth, then keep or destroy under the archives' control; visa R212-14) ; phase active : interprétation, à confirmer"; got != want {
		t.Errorf("harpege referential description:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(r.Note, "Interpretation, à\nconfirmer") && !strings.Contains(r.Note, "Interpretation, à confirmer") {
		t.Errorf("harpege note: %s", r.Note)
	}
	if _, err := BuiltinSchedule("sifac"); err == nil || err.Error() != `no built-in schedule "sifac" (have apogee, harpege)` {
		t.Errorf("unknown builtin: %v", err)
	}
}

// TestScheduleErrors: each mistake is reported with the file, the line and the field.
func TestScheduleErrors(t *testing.T) {
	rule := func(extra string) string {
		return "schedule: t\nrules:\n  - id: APP-1\n    start: date(ROOT.D)\n    active: 1y\n    dua: 1y\n    final: keep\n    status: verified\n" + extra
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"bad duration", strings.Replace(rule(""), "dua: 1y", "dua: 7 ans", 1), `t.yaml:6: rules[0] (APP-1) dua: duration "7 ans": unit "ans": want y, m or d`},
		{"bad expression", strings.Replace(rule(""), "date(ROOT.D)", "date(ROOT.D", 1), `t.yaml:4: rules[0] (APP-1) start: unexpected token EOF (1:11)`},
		{"bad final", strings.Replace(rule(""), "final: keep", "final: burn", 1), `t.yaml:7: rules[0] (APP-1) final: "burn": want keep, destroy or sample`},
		{"missing status", strings.Replace(rule(""), "    status: verified\n", "", 1), `t.yaml:3: rules[0] (APP-1) status: "": want verified or to-confirm`},
		{"missing dua", strings.Replace(rule(""), "    dua: 1y\n", "", 1), `t.yaml:3: rules[0] (APP-1) dua: missing: a duration (e.g. 7y) or unlimited`},
		{"unknown field", rule("    colour: blue\n"), `t.yaml:9: rules[0].colour: unknown field "colour"`},
		{"list for text", rule("    basis: [a, b]\n"), `t.yaml:9: rules[0].basis: want a string, got a list`},
		{"scalar for a list", "schedule: t\nrules: 5\n", `t.yaml:2: rules: want a list, got "5"`},
		{"duplicate", rule("  - id: APP-1\n    start: date(ROOT.D)\n    active: 1y\n    dua: 1y\n    final: keep\n    status: verified\n"), `t.yaml:9: rules[1] (APP-1) id: rule APP-1 is already defined at rules[0]`},
		{"sampling", strings.Replace(rule(""), "final: keep", "final: sample\n    sampling: {birth_days: [32], birth: date(ROOT.B)}", 1), `t.yaml:8: rules[0] (APP-1) sampling.birth_days: 32 is not a day of the month`},
		{"year end", "schedule: t\nacademic_year_end: 31/08\n" + rule("")[len("schedule: t\n"):], `t.yaml:2: academic_year_end: "31/08": want MM-DD, e.g. 08-31`},
		{"hold date", rule("holds:\n  - id: HOL-1\n    keys: [\"1\"]\n    reason: r\n    until: 2029-02-30\n"), `t.yaml:13: holds[0] until: date "2029-02-30": want YYYY-MM-DD`},
		{"hold order", rule("holds:\n  - id: HOL-1\n    keys: [\"1\"]\n    reason: r\n    since: 2029-01-01\n    until: 2028-12-31\n"), `t.yaml:10: holds[0]: hold HOL-1: until 2028-12-31 is before since 2029-01-01`},
		{"hold keys", rule("holds:\n  - id: HOL-1\n    reason: r\n"), `t.yaml:10: holds[0]: hold HOL-1: give keys or where`},
		{"extends", "extends: sifac\n" + rule(""), `t.yaml:1: extends: no built-in schedule "sifac" (have apogee, harpege)`},
		{"no name", rule("")[len("schedule: t\n"):], `t.yaml:1: schedule: missing (the schedule's name)`},
		{"ceiling", strings.Replace(rule(""), "dua: 1y", "dua: 1y\n    ceiling: 23m", 1), `t.yaml:7: rules[0] (APP-1) ceiling: active 1y + dua 1y exceeds the legal ceiling of 23m`},
		{"library panic", "rules:\n !00\n0000000: #00000000000", "t.yaml: not a valid schedule (the YAML reader failed: runtime error: invalid memory address or nil pointer dereference)"},
		{"syntax", "schedule: t\nrules: [\n", "t.yaml:2:8: rules: list not closed: the [ here has no closing ] before the end of the file\n    2 | rules: [\n      |        ^"},
		{"open past dua", rule("    open_past_dua: birth\n"), `t.yaml:9: rules[0] (APP-1) open_past_dua: "birth": want dua-end or active`},
		{"active until is", rule("    active_until_is: last-day-in\n"), `t.yaml:9: rules[0] (APP-1) active_until_is: says what active_until's date is, and there is no active_until`},
		{"active until is value", rule("    active_until_is: inclusive\n"), `t.yaml:9: rules[0] (APP-1) active_until_is: "inclusive": want first-day-out or last-day-in`},
		{"active status", rule("    active_status: maybe\n"), `t.yaml:9: rules[0] (APP-1) active_status: "maybe": want verified or to-confirm`},
		{"max age without birth", rule("    checks: {max_age_in_post: 100y}\n"), `t.yaml:9: rules[0] (APP-1) checks.max_age_in_post: needs checks.birth, the expression giving the date of birth`},
		{"max age unit", rule("    checks: {birth: date(ROOT.B), max_age_in_post: 100}\n"), `t.yaml:9: rules[0] (APP-1) checks.max_age_in_post: duration "100": unit "": want y, m or d`},
		{"period columns", rule("    checks:\n      periods:\n        - {table: T, start: D}\n"), `t.yaml:11: rules[0] (APP-1) checks.periods[0]: give table, start and end (column names)`},
		{"checks birth", rule("    checks: {birth: date(ROOT.B}\n"), `t.yaml:9: rules[0] (APP-1) checks.birth: unexpected token EOF (1:11)`},
	} {
		_, err := ParseSchedule([]byte(tc.content), "t.yaml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
	if _, err := LoadSchedule(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.HasPrefix(err.Error(), "schedule: open ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPeriodEnd(t *testing.T) {
	s, err := BuiltinSchedule("apogee")
	if err != nil {
		t.Fatal(err)
	}
	start := civil.Date{Year: 2025, Month: 8, Day: 31}
	for _, tc := range []struct {
		rule string
		want string
		ok   bool
	}{{"APP-APO-IA", "2032-08-31", true}, {"ACC-PERS-50", "2075-08-31", true}, {"APP-NOPE", "", false}} {
		end, ok := s.PeriodEnd(tc.rule, start)
		if ok != tc.ok || (ok && end.String() != tc.want) {
			t.Errorf("PeriodEnd(%s) = %v, %v; want %s, %v", tc.rule, end, ok, tc.want, tc.ok)
		}
	}
	if _, ok := s.PeriodEnd("APP-APO-IA", civil.Date{}); ok {
		t.Error("a rule without start date has an end")
	}
}
