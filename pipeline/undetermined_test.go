package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

// harpegeDB is the Harpège demo base (400 agents, seed 11; agent 287 has no date of birth), with
// the SQL statements applied.
func harpegeDB(t *testing.T, stmts ...string) (path string, db *sql.DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "harpege.db")
	if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Harpege, Dossiers: 400, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

const noBirth = "start event gave no date (date(INDIVIDU.D_NAISSANCE))"

// The warning about undetermined dossiers is given once per set: a nightly run over the same
// unchanged dossiers does not repeat it; a change in the set (one more dossier, another reason)
// brings it back, with the count. When they all share one reason, it says so, with the reason.
func TestUndeterminedWarnedOncePerSet(t *testing.T) {
	path, db := harpegeDB(t, `UPDATE INDIVIDU SET D_NAISSANCE = NULL WHERE NO_INDIVIDU IN (3, 30, 300)`)
	state, out := t.TempDir(), t.TempDir()
	var logs bytes.Buffer
	run := func() string {
		t.Helper()
		logs.Reset()
		_, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "harpege"), Source: "sqlite:" + path, Target: "dir://" + out,
			State: state, AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		var warned []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "undetermined") {
				_, l, _ = strings.Cut(l, " level=")
				warned = append(warned, l)
			}
		}
		return strings.Join(warned, "\n")
	}
	oneReason := `WARN msg="undetermined dossiers: no tier could be decided, all for one reason" class=agent dossiers=4 reason="` + noBirth + `"`
	if got := run(); got != oneReason {
		t.Errorf("first run warned:\n%s\nwant:\n%s", got, oneReason)
	}
	if got := run(); got != "" {
		t.Errorf("second run, same dossiers, warned again:\n%s", got)
	}
	// Agent 31 loses the rows the end of activity is read from: another reason, a new set.
	for _, q := range []string{`DELETE FROM AFFECTATION WHERE NO_DOSSIER_PERS = 31`, `DELETE FROM CARRIERE WHERE NO_DOSSIER_PERS = 31`,
		`DELETE FROM CONTRAT_AVENANT WHERE NO_DOSSIER_PERS = 31`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mixed := `WARN msg="undetermined dossiers: no tier could be decided (see the report)" class=agent dossiers=5`
	if got := run(); got != mixed {
		t.Errorf("run after a change warned:\n%s\nwant:\n%s", got, mixed)
	}
	if got := run(); got != "" {
		t.Errorf("fourth run, same dossiers, warned again:\n%s", got)
	}
	// A dry run keeps no state: it always says it.
	logs.Reset()
	src, err := extract.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := Run(context.Background(), Config{Profile: builtin(t, "harpege"), Source: src, AsOf: civil.Date{Year: 2026, Month: 11, Day: 30},
		DryRun: true, Log: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), mixed) {
		t.Errorf("dry run:\n%s", logs.String())
	}
}

// When every undetermined dossier of a class shares one reason, the plan says it in one line with
// the count, not a hundred keys and "and 300 more"; mixed reasons are grouped as before.
func TestUndeterminedPlanOneReason(t *testing.T) {
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	plan := func(path string) (string, *Report) {
		t.Helper()
		src, err := extract.Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		rep, err := Run(context.Background(), Config{Profile: builtin(t, "harpege"), Source: src, AsOf: asOf, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		rep.WriteSummary(&b)
		return b.String(), rep
	}
	path, _ := harpegeDB(t, `UPDATE INDIVIDU SET D_NAISSANCE = NULL`)
	got, rep := plan(path)
	want := "\nundetermined (fix the data or the rule, then run again; `versement explain` tells more):\n" +
		"  agent, all 400 undetermined dossiers: " + noBirth + " (1, 2, 3, 4, 5, …)\n\n"
	if !strings.Contains(got, want) || strings.Contains(got, "more dossiers") {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if u := rep.UndeterminedClasses; len(u) != 1 || u[0].Class != "agent" || u[0].Dossiers != 400 || u[0].Reason != noBirth {
		t.Errorf("undetermined_classes %+v", u)
	}

	path, _ = harpegeDB(t, `UPDATE INDIVIDU SET D_NAISSANCE = NULL WHERE NO_INDIVIDU > 150`,
		`DELETE FROM AFFECTATION WHERE NO_DOSSIER_PERS = 31`, `DELETE FROM CARRIERE WHERE NO_DOSSIER_PERS = 31`,
		`DELETE FROM CONTRAT_AVENANT WHERE NO_DOSSIER_PERS = 31`)
	got, rep = plan(path)
	if u := rep.UndeterminedClasses; len(u) != 1 || u[0].Dossiers != 251 || u[0].Reason != "" {
		t.Errorf("undetermined_classes %+v", u)
	}
	want = "\nundetermined (fix the data or the rule, then run again; `versement explain` tells more):\n" +
		"  agent: " + rep.Undetermined[0].Reason + " (1: 31)\n" +
		"  agent: " + noBirth + " (99: 151, 152, 153, 154, 155, …)\n" +
		"  and 151 more dossiers (the JSON report lists the first 100)\n\n"
	if !strings.Contains(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}
