package retention

import (
	"strings"
	"testing"

	"github.com/versement/versement/civil"
)

// agent is a Harpège dossier with one row in each table the built-in rule reads: an assignment,
// a career and a contract amendment, all ended; edit sets one column of one table.
func agent(edit func(env map[string]any)) map[string]any {
	env := map[string]any{
		"INDIVIDU": map[string]any{"NO_INDIVIDU": int64(7), "D_NAISSANCE": day("1960-05-10"), "NOM_PATRONYMIQUE": "Dupont"},
		"AFFECTATION": []map[string]any{
			{"D_DEB_AFFECTATION": day("1990-09-01"), "D_FIN_AFFECTATION": day("2010-08-31")},
		},
		"CARRIERE": []map[string]any{
			{"D_DEB_CARRIERE": day("1990-09-01"), "D_FIN_CARRIERE": day("2009-06-30")},
		},
		"CONTRAT_AVENANT": []map[string]any{
			{"D_DEB_CONTRAT_TRAV": day("1988-01-01"), "D_FIN_CONTRAT_TRAV": day("1989-12-31"), "D_FIN_EXECUTION": day("1989-10-15")},
		},
	}
	if edit != nil {
		edit(env)
	}
	return env
}

func set(table, column string, v any) func(map[string]any) {
	return func(env map[string]any) {
		switch t := env[table].(type) {
		case map[string]any:
			t[column] = v
		case []map[string]any:
			t[0][column] = v
		}
	}
}

func builtinSchedule(t *testing.T, name string) *Schedule {
	t.Helper()
	s, err := BuiltinSchedule(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBlankDatesHarpege: blank text ("" and " ") in every date column the built-in Harpège rule
// reads. An end is "still running" (before the fix a blank end was dropped: the agent below was
// intermediate, as if they had left on 2010-08-31); a start is missing.
func TestBlankDatesHarpege(t *testing.T) {
	s := builtinSchedule(t, "harpege")
	asOf := day("2026-12-03")
	if d := s.Decide("APP-HAR-DI", agent(nil), "7", asOf); d.Tier != Intermediate || d.ActiveEnd != day("2010-09-01") || d.AccessStart != day("2010-08-31") {
		t.Fatalf("baseline: %s", d.Explain())
	}
	for _, blank := range []string{"", " ", "\t "} {
		for _, tc := range []struct {
			table, column string
			tier          Tier
			activeEnd     string // "" when ongoing
			note          string
			accessStart   string
		}{
			{"AFFECTATION", "D_FIN_AFFECTATION", Active, "", "an end date is blank text (still running)", "2009-06-30"},
			{"CARRIERE", "D_FIN_CARRIERE", Active, "", "an end date is blank text (still running)", "2010-08-31"},
			// coalesce(.D_FIN_EXECUTION, .D_FIN_CONTRAT_TRAV): a blank execution end takes the contract's end.
			{"CONTRAT_AVENANT", "D_FIN_EXECUTION", Intermediate, "2010-09-01", "", "2010-08-31"},
			{"CONTRAT_AVENANT", "D_FIN_CONTRAT_TRAV", Intermediate, "2010-09-01", "", "2010-08-31"},
			// Starts: skipped among the others (the access start is the latest date of the rows).
			{"AFFECTATION", "D_DEB_AFFECTATION", Intermediate, "2010-09-01", "", "2010-08-31"},
			{"CARRIERE", "D_DEB_CARRIERE", Intermediate, "2010-09-01", "", "2010-08-31"},
			{"CONTRAT_AVENANT", "D_DEB_CONTRAT_TRAV", Intermediate, "2010-09-01", "", "2010-08-31"},
		} {
			d := s.Decide("APP-HAR-DI", agent(set(tc.table, tc.column, blank)), "7", asOf)
			want := civil.Date{}
			if tc.activeEnd != "" {
				want = day(tc.activeEnd)
			}
			if d.Tier != tc.tier || d.ActiveEnd != want || d.Ongoing != (tc.activeEnd == "") || d.ActiveNote != tc.note || d.AccessStart != day(tc.accessStart) {
				t.Errorf("%s.%s = %q: %s (ongoing %v, active end %s, note %q, access from %s)", tc.table, tc.column, blank, d.Explain(), d.Ongoing, d.ActiveEnd, d.ActiveNote, d.AccessStart)
			}
		}
		// Both ends of the amendment blank: still running.
		d := s.Decide("APP-HAR-DI", agent(func(env map[string]any) {
			set("CONTRAT_AVENANT", "D_FIN_EXECUTION", blank)(env)
			set("CONTRAT_AVENANT", "D_FIN_CONTRAT_TRAV", blank)(env)
		}), "7", asOf)
		if d.Tier != Active || d.ActiveNote != "an end date is blank text (still running)" {
			t.Errorf("both amendment ends %q: %s", blank, d.Explain())
		}
		// The birth date is the start: blank is missing, hence undetermined, as NULL is.
		d = s.Decide("APP-HAR-DI", agent(set("INDIVIDU", "D_NAISSANCE", blank)), "7", asOf)
		if d.Tier != Undetermined || d.Reason != "start event gave no date (date(INDIVIDU.D_NAISSANCE))" || len(d.Anomalies) != 0 {
			t.Errorf("D_NAISSANCE %q: %s %q %v", blank, d.Tier, d.Reason, d.Anomalies)
		}
	}
	// NULL and blank in one list: NULL says so first.
	d := s.Decide("APP-HAR-DI", agent(func(env map[string]any) {
		set("AFFECTATION", "D_FIN_AFFECTATION", "")(env)
		set("CARRIERE", "D_FIN_CARRIERE", nil)(env)
	}), "7", asOf)
	if d.Tier != Active || d.ActiveNote != "an end date is NULL (still running)" {
		t.Errorf("NULL and blank: %s", d.Explain())
	}
}

// TestBlankDatesApogee: the built-in Apogée rule reads INS_ADM_ANU (COD_ANU, ETA_IAA) and, for
// its checks, INDIVIDU.DATE_NAI_IND. A blank year code is a missing start: skipped among the
// registrations (before the fix: undetermined, `year code "" is not a year`), undetermined alone.
func TestBlankDatesApogee(t *testing.T) {
	s := builtinSchedule(t, "apogee")
	asOf := day("2026-01-01")
	for _, blank := range []string{"", " ", "\t "} {
		env := apogeeEnv("2014", "2015")
		env["INS_ADM_ANU"] = append(env["INS_ADM_ANU"].([]map[string]any), map[string]any{"COD_ANU": blank, "ETA_IAA": "E"})
		if d := s.Decide("APP-APO-IA", env, "42", asOf); d.Tier != Intermediate || d.Start != day("2016-08-31") || d.StartNote != "end of year 2015-2016" {
			t.Errorf("COD_ANU %q among others: %s", blank, d.Explain())
		}
		env = apogeeEnv()
		env["INS_ADM_ANU"] = []map[string]any{{"COD_ANU": blank, "ETA_IAA": "E"}}
		if d := s.Decide("APP-APO-IA", env, "42", asOf); d.Tier != Undetermined || d.Reason != `start event gave no date (endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU)))` {
			t.Errorf("COD_ANU %q alone: %s %q", blank, d.Tier, d.Reason)
		}
		env = apogeeEnv("2015")
		env["INDIVIDU"].(map[string]any)["DATE_NAI_IND"] = blank
		if d := s.Decide("APP-APO-IA", env, "42", asOf); d.Tier != Intermediate || len(d.Anomalies) != 0 {
			t.Errorf("DATE_NAI_IND %q: %s", blank, d.Explain())
		}
	}
}

// TestBlankInFunctions: the same rule in each function that reads dates.
func TestBlankInFunctions(t *testing.T) {
	env := map[string]any{"R": map[string]any{"E": "", "S": " ", "D": day("2015-06-30"), "N": nil, "Z": civil.Date{}}}
	for _, tc := range []struct {
		src  string
		want any
	}{
		{`latestEnd(R.D, R.E)`, Ongoing{Note: "an end date is blank text (still running)"}},
		{`latestEnd(R.D, R.S)`, Ongoing{Note: "an end date is blank text (still running)"}},
		{`latestEnd(R.S, R.N)`, Ongoing{Note: "an end date is NULL (still running)"}},
		{`latestEnd(R.D, R.Z)`, Ongoing{Note: "an end date is NULL (still running)"}}, // the zero date is what NULL becomes
		{`latest(R.D, R.E, R.S)`, Event{Date: day("2015-06-30")}},
		{`earliest(R.S, R.D)`, Event{Date: day("2015-06-30")}},
		{`date(R.S)`, nil},
		{`parseDate(R.S, "DD/MM/YYYY")`, nil},
		{`parseDate(R.E, "DD/MM/YYYY")`, nil},
		{`coalesce(R.S, R.E, R.D)`, day("2015-06-30")},
		{`coalesce(R.S, R.N)`, " "}, // all missing: the blank, so that latestEnd can say so
		{`coalesce(R.N, R.Z)`, nil},
		{`R.S ?? R.D`, " "}, // expr's ?? only skips NULL: use coalesce for dates
		{`year(R.S)`, nil},
		{`endOfYear([R.E, "2015", R.S])`, Event{Date: day("2016-08-31"), Note: "end of year 2015-2016"}},
		{`endOfYear([R.E, R.S])`, nil},
		{`addYears(R.S, 80)`, nil},
	} {
		got, err := eval(t, tc.src, env)
		if err != nil || got != tc.want {
			t.Errorf("%s = %#v, %v; want %#v", tc.src, got, err, tc.want)
		}
	}
	e, _ := CompileDateExpr(`latestEnd(R.D, R.S)`, MonthDay{})
	if _, _, err := e.Eval(env); err == nil || err.Error() != "latestEnd(R.D, R.S): an end date is blank text (still running), not a date" {
		t.Errorf("DateExpr of an open end: %v", err)
	}
	if !strings.Contains(noteEndBlank, "blank") {
		t.Error(noteEndBlank)
	}
}
