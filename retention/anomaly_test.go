package retention

import (
	"reflect"
	"strings"
	"testing"
)

// inPost is an agent born on birth whose assignment since 1985 has no end (still in post).
func inPost(birth any) map[string]any {
	return agent(func(env map[string]any) {
		set("INDIVIDU", "D_NAISSANCE", birth)(env)
		set("AFFECTATION", "D_DEB_AFFECTATION", day("1985-09-01"))(env)
		set("AFFECTATION", "D_FIN_AFFECTATION", nil)(env)
	})
}

// TestHarpegeDUAEndsInPost: arrêté du 21/12/2012 art. 2 fixes the DUA at 80 years from birth. An
// agent whose career was never closed in the base used to stay active for ever; now the DUA end
// wins by default and the decision says so with DUA_ENDED_WHILE_ACTIVE.
func TestHarpegeDUAEndsInPost(t *testing.T) {
	s := builtinSchedule(t, "harpege")
	env := inPost(day("1940-01-01"))
	if d := s.Decide("APP-HAR-DI", env, "7", day("2019-12-31")); d.Tier != Active || len(d.Anomalies) != 0 {
		t.Errorf("the day before the 80th birthday: %s", d.Explain())
	}
	d := s.Decide("APP-HAR-DI", env, "7", day("2020-01-01"))
	want := []Anomaly{{Code: DUAEndedWhileActive, Detail: "the DUA of 80y from the start ended 2020-01-01 while the active phase is still open (an end date is NULL (still running)); the DUA end wins (open_past_dua: dua-end)"}}
	if d.Tier != Final || !reflect.DeepEqual(d.Anomalies, want) || !d.Has(DUAEndedWhileActive) {
		t.Errorf("the 80th birthday: %s %v", d.Tier, d.Anomalies)
	}
	wantExplain := "final: APP-HAR-DI [7] start 1940-01-01 (date of birth) · active: an end date is NULL (still running) · DUA 80y from start ended 2020-01-01 · " +
		"sample (no criteria set: every dossier kept) · access ACC-PERS-50 until 2059-06-30 · " +
		"anomaly DUA_ENDED_WHILE_ACTIVE: the DUA of 80y from the start ended 2020-01-01 while the active phase is still open (an end date is NULL (still running)); the DUA end wins (open_past_dua: dua-end) · " +
		"source: arrêté du 21/12/2012 art. 2 (80 years from birth, then keep or destroy under the archives' control; visa R212-14)"
	if got := d.Explain(); got != wantExplain {
		t.Errorf("Explain:\n got %s\nwant %s", got, wantExplain)
	}
	if d.DUAStart != day("1940-01-01") || d.AppraisalAction() != Keep {
		t.Errorf("appraisal from %s: %s", d.DUAStart, d.AppraisalAction())
	}

	// A recorded end after the 80th birthday: the same anomaly, with the date.
	late := agent(func(env map[string]any) {
		set("INDIVIDU", "D_NAISSANCE", day("1940-01-01"))(env)
		set("AFFECTATION", "D_FIN_AFFECTATION", day("2021-06-30"))(env)
	})
	d = s.Decide("APP-HAR-DI", late, "7", day("2020-06-01"))
	if d.Tier != Final || len(d.Anomalies) != 1 || d.Anomalies[0].Detail != "the DUA of 80y from the start ended 2020-01-01 while the active phase runs until 2021-07-01; the DUA end wins (open_past_dua: dua-end)" {
		t.Errorf("late end: %s %v", d.Tier, d.Anomalies)
	}
	if d := s.Decide("APP-HAR-DI", late, "7", day("2021-07-01")); d.Tier != Final || len(d.Anomalies) != 0 {
		t.Errorf("after the late end: %s", d.Explain())
	}

	// The schedule may say the active phase wins instead: active, with the anomaly still reported.
	own, err := ParseSchedule([]byte(`schedule: univ-rh
extends: harpege
rules:
  - id: APP-HAR-DI
    title: Dossier individuel
    start: date(INDIVIDU.D_NAISSANCE)
    active_until: latestEnd(map(AFFECTATION, .D_FIN_AFFECTATION))
    dua: 80y
    dua_from: start
    open_past_dua: active
    final: keep
    status: to-confirm
`), "univ-rh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d = own.Decide("APP-HAR-DI", env, "7", day("2030-01-01"))
	if d.Tier != Active || len(d.Anomalies) != 1 || d.Anomalies[0].Detail != "the DUA of 80y from the start ended 2020-01-01 while the active phase is still open (an end date is NULL (still running)); the active phase wins (open_past_dua: active)" {
		t.Errorf("open_past_dua: active: %s %v", d.Tier, d.Anomalies)
	}
}

// TestHarpegeEdgeCases: a NULL birth date while in post, no career rows at all, and the recorded
// last day of service.
func TestHarpegeEdgeCases(t *testing.T) {
	s := builtinSchedule(t, "harpege")
	// NULL birth while in post: the DUA cannot be placed, so neither can the dossier once the
	// agent could be 80; undetermined whatever the career says, and nothing is archived.
	d := s.Decide("APP-HAR-DI", inPost(nil), "7", day("2026-12-03"))
	if d.Tier != Undetermined || d.Reason != "start event gave no date (date(INDIVIDU.D_NAISSANCE))" || d.AppraisalAction() != "" {
		t.Errorf("NULL birth in post: %s %q", d.Tier, d.Reason)
	}

	// No career rows at all: before the 80th birthday nothing says whether the file is in current
	// use (undetermined); from it on, the DUA counted from birth decides alone.
	none := agent(func(env map[string]any) {
		env["AFFECTATION"], env["CARRIERE"], env["CONTRAT_AVENANT"] = []map[string]any{}, []map[string]any{}, []map[string]any{}
	})
	d = s.Decide("APP-HAR-DI", none, "7", day("2040-05-09"))
	if d.Tier != Undetermined || !strings.HasPrefix(d.Reason, "end of active phase gave no date (latestEnd(map(AFFECTATION, .D_FIN_AFFECTATION), ") {
		t.Errorf("no rows, before 80: %s %q", d.Tier, d.Reason)
	}
	d = s.Decide("APP-HAR-DI", none, "7", day("2040-05-10"))
	if d.Tier != Undetermined || !strings.HasPrefix(d.Reason, "access start gave no date (") {
		// The access runs from the most recent career date, which does not exist either.
		t.Errorf("no rows, at 80, access: %s %q", d.Tier, d.Reason)
	}
	noAccess := *s.Rules[0]
	noAccess.Access = nil
	c := mustCompile(t, noAccess.Rule)
	d = c.Decide(none, "7", day("2040-05-10"))
	want := "final: APP-HAR-DI [7] start 1960-05-10 (date of birth) · active: no end of activity recorded · DUA 80y from start ended 2040-05-10 · " +
		"sample (no criteria set: every dossier kept) · source: arrêté du 21/12/2012 art. 2 (80 years from birth, then keep or destroy under the archives' control; visa R212-14)"
	if d.Tier != Final || d.Explain() != want {
		t.Errorf("no rows, at 80:\n got %s\nwant %s", d.Explain(), want)
	}
	if d := c.Decide(none, "7", day("2040-05-09")); d.Tier != Undetermined {
		t.Errorf("no rows, the day before 80: %s", d.Explain())
	}

	// The recorded end is the last day in post (active_until_is: last-day-in): on 2010-08-31 the
	// agent is still in post, the file is intermediate from 2010-09-01. A schedule reading the end
	// as the first day out moves the boundary one day earlier.
	for _, tc := range []struct{ asOf, want string }{{"2010-08-30", "active"}, {"2010-08-31", "active"}, {"2010-09-01", "intermediate"}} {
		if d := s.Decide("APP-HAR-DI", agent(nil), "7", day(tc.asOf)); string(d.Tier) != tc.want || d.LastDayIn != day("2010-08-31") || d.ActiveEnd != day("2010-09-01") {
			t.Errorf("last day in, %s: %s", tc.asOf, d.Explain())
		}
	}
	out := *s.Rules[0]
	out.ActiveUntilIs = FirstDayOut
	c = mustCompile(t, out.Rule)
	if d := c.Decide(agent(nil), "7", day("2010-08-31")); d.Tier != Intermediate || !d.LastDayIn.IsZero() || d.ActiveEnd != day("2010-08-31") {
		t.Errorf("first day out, 2010-08-31: %s", d.Explain())
	}
}

// TestAnomalies: dates that cannot be true, each with its stable code, in a fixed order; they
// never change the tier.
func TestAnomalies(t *testing.T) {
	s := builtinSchedule(t, "harpege")
	// Born after the as-of date (a typo: 2062 for 1962).
	d := s.Decide("APP-HAR-DI", agent(set("INDIVIDU", "D_NAISSANCE", day("2062-05-10"))), "7", day("2026-12-03"))
	want := []Anomaly{{Code: BirthInFuture, Detail: "date of birth 2062-05-10 is after the as-of date 2026-12-03"}}
	if !reflect.DeepEqual(d.Anomalies, want) {
		t.Errorf("birth in the future: %v", d.Anomalies)
	}
	if !strings.Contains(d.Explain(), " · anomaly BIRTH_IN_FUTURE: date of birth 2062-05-10 is after the as-of date 2026-12-03 · source: ") {
		t.Errorf("explain: %s", d.Explain())
	}

	// Ends before their starts: one anomaly, the first three rows named, the others counted.
	d = s.Decide("APP-HAR-DI", agent(func(env map[string]any) {
		env["AFFECTATION"] = []map[string]any{
			{"D_DEB_AFFECTATION": day("2005-06-01"), "D_FIN_AFFECTATION": day("2001-01-01")},
			{"D_DEB_AFFECTATION": day("2001-01-01"), "D_FIN_AFFECTATION": day("2001-01-01")}, // one day: fine
			{"D_DEB_AFFECTATION": day("2009-01-01"), "D_FIN_AFFECTATION": "2008-12-31"},
			{"D_DEB_AFFECTATION": " ", "D_FIN_AFFECTATION": day("2008-12-31")}, // a missing start is not checked
		}
		set("CARRIERE", "D_FIN_CARRIERE", day("1990-08-31"))(env)
		set("CONTRAT_AVENANT", "D_FIN_EXECUTION", day("1987-12-31"))(env)
		env["CONTRAT_AVENANT"] = append(env["CONTRAT_AVENANT"].([]map[string]any),
			map[string]any{"D_DEB_CONTRAT_TRAV": day("1995-01-01"), "D_FIN_CONTRAT_TRAV": day("1994-01-01"), "D_FIN_EXECUTION": nil})
	}), "7", day("2026-12-03"))
	want = []Anomaly{{Code: EndBeforeStart, Detail: "AFFECTATION row 1: D_FIN_AFFECTATION 2001-01-01 before D_DEB_AFFECTATION 2005-06-01; " +
		"AFFECTATION row 3: D_FIN_AFFECTATION 2008-12-31 before D_DEB_AFFECTATION 2009-01-01; " +
		"CARRIERE row 1: D_FIN_CARRIERE 1990-08-31 before D_DEB_CARRIERE 1990-09-01 (and 2 more)"}}
	if !reflect.DeepEqual(d.Anomalies, want) || d.Tier != Intermediate {
		t.Errorf("end before start: %s %v", d.Tier, d.Anomalies)
	}

	// In post past 100: the active phase open on or after the 100th birthday (and so past the
	// DUA too). With a recorded end, the last day in post counts.
	d = s.Decide("APP-HAR-DI", inPost(day("1925-02-28")), "7", day("2026-12-03"))
	codes := []AnomalyCode{}
	for _, a := range d.Anomalies {
		codes = append(codes, a.Code)
	}
	if !reflect.DeepEqual(codes, []AnomalyCode{InPostPastMaxAge, DUAEndedWhileActive}) ||
		d.Anomalies[0].Detail != "in post on 2026-12-03, past the age of 100y (born 1925-02-28: 100y on 2025-02-28)" || d.Tier != Final {
		t.Errorf("in post past 100: %s %v", d.Tier, d.Anomalies)
	}
	if d := s.Decide("APP-HAR-DI", inPost(day("1926-12-04")), "7", day("2026-12-03")); d.Has(InPostPastMaxAge) {
		t.Errorf("the day before the 100th birthday: %v", d.Anomalies)
	}
	left := agent(func(env map[string]any) {
		set("INDIVIDU", "D_NAISSANCE", day("1910-03-01"))(env)
		set("AFFECTATION", "D_FIN_AFFECTATION", day("2010-03-01"))(env) // last day in: the 100th birthday
	})
	if d := s.Decide("APP-HAR-DI", left, "7", day("2026-12-03")); len(d.Anomalies) != 1 || d.Anomalies[0] != (Anomaly{Code: InPostPastMaxAge, Detail: "in post on 2010-03-01, past the age of 100y (born 1910-03-01: 100y on 2010-03-01)"}) {
		t.Errorf("left on the 100th birthday: %v", d.Anomalies)
	}
	left = agent(func(env map[string]any) {
		set("INDIVIDU", "D_NAISSANCE", day("1910-03-01"))(env)
		set("AFFECTATION", "D_FIN_AFFECTATION", day("2010-02-28"))(env)
	})
	if d := s.Decide("APP-HAR-DI", left, "7", day("2026-12-03")); len(d.Anomalies) != 0 {
		t.Errorf("left the day before the 100th birthday: %v", d.Anomalies)
	}

	// An undetermined decision carries the anomalies found before it stopped.
	d = s.Decide("APP-HAR-DI", agent(func(env map[string]any) {
		set("INDIVIDU", "D_NAISSANCE", day("2062-05-10"))(env)
		set("CARRIERE", "D_FIN_CARRIERE", "31/04/2015")(env)
	}), "7", day("2026-12-03"))
	if d.Tier != Undetermined || len(d.Anomalies) != 1 || d.Anomalies[0].Code != BirthInFuture ||
		!strings.HasSuffix(d.Explain(), " · anomaly BIRTH_IN_FUTURE: date of birth 2062-05-10 is after the as-of date 2026-12-03 · source: arrêté du 21/12/2012 art. 2 (80 years from birth, then keep or destroy under the archives' control; visa R212-14)") {
		t.Errorf("undetermined: %s", d.Explain())
	}

	// Apogée checks the birth date only.
	a := builtinSchedule(t, "apogee")
	env := apogeeEnv("2015")
	env["INDIVIDU"].(map[string]any)["DATE_NAI_IND"] = day("2030-01-01")
	if d := a.Decide("APP-APO-IA", env, "42", day("2026-01-01")); !reflect.DeepEqual(d.Anomalies, []Anomaly{{Code: BirthInFuture, Detail: "date of birth 2030-01-01 is after the as-of date 2026-01-01"}}) {
		t.Errorf("apogee: %v", d.Anomalies)
	}
	// The codes are stable: plans and reports count them.
	for code, want := range map[AnomalyCode]string{BirthInFuture: "BIRTH_IN_FUTURE", EndBeforeStart: "END_BEFORE_START", InPostPastMaxAge: "IN_POST_PAST_MAX_AGE", DUAEndedWhileActive: "DUA_ENDED_WHILE_ACTIVE"} {
		if string(code) != want {
			t.Errorf("code %s, want %s", code, want)
		}
	}
}

// TestExplainEscapesKey: a text key with control characters (ESC, BEL) cannot drive the terminal
// the explanation is printed to.
func TestExplainEscapesKey(t *testing.T) {
	s := builtinSchedule(t, "harpege")
	d := s.Decide("APP-HAR-DI", agent(nil), "A\x1b[2J\a7", day("2026-12-03"))
	if got := d.Explain(); !strings.HasPrefix(got, `intermediate: APP-HAR-DI [A\x1b[2J\a7] start 1960-05-10`) {
		t.Errorf("explain: %q", got)
	}
	if d.Key != "A\x1b[2J\a7" {
		t.Errorf("the key itself is kept: %q", d.Key)
	}
}
