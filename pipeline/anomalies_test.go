package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/retention"
)

// The plan and the report count the data anomalies of the Harpège rule's decisions per code, with
// their first keys, against SQL written from the checks' text (birth after the as-of date; a row
// ending before it starts; in post, at as-of, at or past 100; the 80-year DUA over while the
// active phase is open), on the demo base with anomalies planted in agents 5 to 8.
func TestAnomaliesCountedInPlanAndReport(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "harpege.db")
	if _, err := demo.CreateSQLite(ctx, path, demo.Options{Profile: demo.Harpege, Dossiers: 400, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE INDIVIDU SET D_NAISSANCE = '2070-01-01' WHERE NO_INDIVIDU IN (5, 6)`,
		`UPDATE CARRIERE SET D_FIN_CARRIERE = '1990-01-01' WHERE NO_DOSSIER_PERS = 7`,
		`UPDATE INDIVIDU SET D_NAISSANCE = '1950-03-03' WHERE NO_INDIVIDU = 8`,
		`UPDATE AFFECTATION SET D_FIN_AFFECTATION = NULL WHERE NO_DOSSIER_PERS = 8`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	asOf := civil.Date{Year: 2060, Month: 1, Day: 1}
	rows, err := db.Query(`
		WITH periods AS (
			SELECT NO_DOSSIER_PERS AS k, D_DEB_AFFECTATION AS s, D_FIN_AFFECTATION AS e FROM AFFECTATION
			UNION ALL SELECT NO_DOSSIER_PERS, D_DEB_CARRIERE, D_FIN_CARRIERE FROM CARRIERE
			UNION ALL SELECT NO_DOSSIER_PERS, D_DEB_CONTRAT_TRAV, D_FIN_CONTRAT_TRAV FROM CONTRAT_AVENANT
			UNION ALL SELECT NO_DOSSIER_PERS, D_DEB_CONTRAT_TRAV, D_FIN_EXECUTION FROM CONTRAT_AVENANT),
		ends AS (
			SELECT NO_DOSSIER_PERS AS k, D_FIN_AFFECTATION AS e FROM AFFECTATION
			UNION ALL SELECT NO_DOSSIER_PERS, D_FIN_CARRIERE FROM CARRIERE
			UNION ALL SELECT NO_DOSSIER_PERS, COALESCE(D_FIN_EXECUTION, D_FIN_CONTRAT_TRAV) FROM CONTRAT_AVENANT),
		agent AS (
			SELECT i.NO_INDIVIDU AS k, i.D_NAISSANCE AS birth,
				(SELECT COUNT(*) FROM ends WHERE ends.k = i.NO_INDIVIDU AND e IS NULL) > 0
					OR (SELECT MAX(e) FROM ends WHERE ends.k = i.NO_INDIVIDU) >= ?1 AS open
			FROM INDIVIDU i WHERE (SELECT COUNT(*) FROM ends WHERE ends.k = i.NO_INDIVIDU) > 0)
		SELECT k, code FROM (
			SELECT k, 1 AS o, 'BIRTH_IN_FUTURE' AS code FROM agent WHERE birth > ?1
			UNION SELECT k, 2, 'END_BEFORE_START' FROM periods WHERE e < s
			UNION SELECT k, 3, 'IN_POST_PAST_MAX_AGE' FROM agent
				WHERE open AND printf('%04d', CAST(substr(birth, 1, 4) AS INTEGER) + 100) || substr(birth, 5, 6) <= ?1
			UNION SELECT k, 4, 'DUA_ENDED_WHILE_ACTIVE' FROM agent
				WHERE open AND printf('%04d', CAST(substr(birth, 1, 4) AS INTEGER) + 80) || substr(birth, 5, 6) <= ?1)
		ORDER BY o, k`, asOf.String())
	if err != nil {
		t.Fatal(err)
	}
	var want []AnomalyCount
	for rows.Next() {
		var k int64
		var code string
		if err := rows.Scan(&k, &code); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || string(want[len(want)-1].Code) != code {
			want = append(want, AnomalyCount{Class: "agent", Code: retention.AnomalyCode(code), Keys: []string{}})
		}
		w := &want[len(want)-1]
		if w.Dossiers++; len(w.Keys) < MaxAnomalyKeys {
			w.Keys = append(w.Keys, fmt.Sprint(k))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(want) != 4 || want[0].Dossiers != 2 || want[3].Dossiers <= MaxAnomalyKeys {
		t.Fatalf("the planted anomalies are not all there: %+v", want)
	}

	src, err := extract.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := Run(ctx, Config{Profile: builtin(t, "harpege"), Source: src, AsOf: asOf, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Anomalies, want) {
		t.Errorf("anomalies:\n got %+v\nwant %+v", rep.Anomalies, want)
	}
	var sum strings.Builder
	rep.WriteSummary(&sum)
	block := "\ndata anomalies (dates that cannot be true, or that the rule had to arbitrate; the tier is unchanged; `versement explain --key KEY` tells more):\n"
	for _, a := range want {
		more := ""
		if a.Dossiers > MaxAnomalyKeys {
			more = ", …"
		}
		block += fmt.Sprintf("  agent  %-22s  %-3d (%s%s)\n", a.Code, a.Dossiers, strings.Join(a.Keys, ", "), more)
	}
	if !strings.Contains(sum.String(), block) {
		t.Errorf("plan:\n%s\nwant the block:\n%s", sum.String(), block)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if w := `"anomalies":[{"class":"agent","code":"BIRTH_IN_FUTURE","dossiers":2,"keys":["5","6"]},{"class":"agent","code":"END_BEFORE_START",`; !strings.Contains(string(b), w) {
		t.Errorf("report JSON lacks %s:\n%s", w, b)
	}

	// explain names them too, in its JSON.
	ex, err := Explain(ctx, builtin(t, "harpege"), src, ExplainQuery{Key: "8", AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(ex[0])
	if w := `"anomalies":[{"code":"IN_POST_PAST_MAX_AGE","detail":"in post on 2060-01-01, past the age of 100y (born 1950-03-03: 100y on 2050-03-03)"},{"code":"DUA_ENDED_WHILE_ACTIVE","detail":`; !strings.Contains(string(b), w) {
		t.Errorf("explain JSON lacks %s:\n%s", w, b)
	}
}

// Keys with control characters are escaped in the report and the plan; a dossier counts once per
// code even if its decision were to list the code twice; the codes come in retention's order.
func TestAnomalyKeysEscaped(t *testing.T) {
	r := &Report{Tiers: map[retention.Tier]int64{}, index: map[ruleKey]int{}, classes: map[string]int64{}, anomalies: map[anomalyKey]int{}}
	dup := retention.Anomaly{Code: retention.DUAEndedWhileActive, Detail: "x"}
	r.count("agent", retention.Decision{Key: "a\x1b[31mb\a", Tier: retention.Final, Anomalies: []retention.Anomaly{dup, dup}}, retention.Final, true)
	r.count("agent", retention.Decision{Key: "k2", Tier: retention.Active, Anomalies: []retention.Anomaly{{Code: retention.BirthInFuture}}}, retention.Active, false)
	r.finish(r.Started)
	want := []AnomalyCount{{Class: "agent", Code: retention.BirthInFuture, Dossiers: 1, Keys: []string{"k2"}},
		{Class: "agent", Code: retention.DUAEndedWhileActive, Dossiers: 1, Keys: []string{`a\x1b[31mb\a`}}}
	if !reflect.DeepEqual(r.Anomalies, want) {
		t.Errorf("got %+v\nwant %+v", r.Anomalies, want)
	}
	var sum strings.Builder
	r.WriteSummary(&sum)
	if w := "  agent  BIRTH_IN_FUTURE         1  (k2)\n  agent  DUA_ENDED_WHILE_ACTIVE  1  (a\\x1b[31mb\\a)\n"; !strings.Contains(sum.String(), w) {
		t.Errorf("plan:\n%s\nwant:\n%s", sum.String(), w)
	}
}
