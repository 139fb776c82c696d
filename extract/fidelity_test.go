package extract_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/retention"
)

// SQLite text that says more than its column's declared kind is archived as the base holds it,
// under an honest type label, while the retention rules read it as the declared kind, as before;
// integers beyond 2^53 are written as strings, which JavaScript readers do not round.
func TestSQLiteTextBeyondItsKindIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE "P" ("ID" INTEGER PRIMARY KEY, "D" DATE, "TS" TIMESTAMP, "TZ" TIMESTAMP WITH TIME ZONE)`,
		`CREATE TABLE "E" ("ID" INTEGER, "N" INTEGER, "D" DATE)`,
		// 9007199254740993 = 2^53 + 1: a double cannot hold it.
		`INSERT INTO "P" VALUES (1, '1950-07-14', '1991-09-08 15:37:39', '2024-03-31 03:30:00+02:00')`,
		`INSERT INTO "P" VALUES (9007199254740993, '1950-07-14 00:00:00', '2024-03-31 03:30:00+02:00', '2024-03-31 03:30:00')`,
		`INSERT INTO "P" VALUES (9007199254740994, '1950-07-14T00:00:00+02:00', '1945-10-10T13:45', NULL)`,
		`INSERT INTO "E" VALUES (9007199254740993, -9007199254740993, '1945-10-10 13:45:00')`,
		`INSERT INTO "E" VALUES (9007199254740993, 9007199254740992, '1945-10-10')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	src := openSource(t, "sqlite:"+path, 0)
	class := extract.Spec{Name: "p", Root: extract.Table{Name: "P", Key: "ID"},
		Children: []extract.Child{{Table: extract.Table{Name: "E"}, JoinColumn: "ID", OrderBy: []string{"D"}}}}
	rule, err := retention.Compile(retention.Rule{ID: "R", StartEvent: "date(P.D)", Active: retention.Duration{Years: 1}, FinalAction: retention.Keep, Status: retention.Verified}, retention.MonthDay{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"format":"versement-dossier/1","class":"p","key":1,"tables":[
{"name":"P","columns":["ID","D","TS","TZ"],"types":["integer","date","timestamp-local","timestamp"],"rows":[
[1,"1950-07-14","1991-09-08T15:37:39","2024-03-31T03:30:00+02:00"]]},
{"name":"E","columns":["ID","N","D"],"types":["integer","integer","date"],"rows":[]}
]}
`,
		`{"format":"versement-dossier/1","class":"p","key":"9007199254740993","tables":[
{"name":"P","columns":["ID","D","TS","TZ"],"types":["integer","text","text","text"],"rows":[
["9007199254740993","1950-07-14 00:00:00","2024-03-31 03:30:00+02:00","2024-03-31 03:30:00"]]},
{"name":"E","columns":["ID","N","D"],"types":["integer","integer","text"],"rows":[
["9007199254740993",9007199254740992,"1945-10-10"],
["9007199254740993","-9007199254740993","1945-10-10 13:45:00"]]}
]}
`,
		`{"format":"versement-dossier/1","class":"p","key":"9007199254740994","tables":[
{"name":"P","columns":["ID","D","TS","TZ"],"types":["integer","text","timestamp-local","timestamp"],"rows":[
["9007199254740994","1950-07-14T00:00:00+02:00","1945-10-10T13:45:00",null]]},
{"name":"E","columns":["ID","N","D"],"types":["integer","integer","date"],"rows":[]}
]}
`,
	}
	paris := time.FixedZone("", 2*3600)
	wantEnv := []map[string]any{
		{"ID": int64(1), "D": civil.Date{Year: 1950, Month: 7, Day: 14}, "TS": time.Date(1991, 9, 8, 15, 37, 39, 0, time.UTC), "TZ": time.Date(2024, 3, 31, 3, 30, 0, 0, paris)},
		{"ID": int64(9007199254740993), "D": civil.Date{Year: 1950, Month: 7, Day: 14}, "TS": time.Date(2024, 3, 31, 3, 30, 0, 0, paris), "TZ": time.Date(2024, 3, 31, 3, 30, 0, 0, time.UTC)},
		{"ID": int64(9007199254740994), "D": civil.Date{Year: 1950, Month: 7, Day: 14}, "TS": time.Date(1945, 10, 10, 13, 45, 0, 0, time.UTC), "TZ": nil},
	}
	i := 0
	for d, err := range src.Dossiers(context.Background(), class) {
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := d.WriteJSON(&b, nil); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more than %d dossiers", len(want))
		}
		if b.String() != want[i] {
			t.Errorf("dossier %d:\n%s\nwant:\n%s", i, b.String(), want[i])
		}
		// Decided again years later from the document alone (the data dictionary giving the
		// declared kinds): the same Env.
		back, err := extract.ReadJSON(&b, func(table, column string) extract.Kind {
			for _, t := range d.Tables {
				for _, c := range t.Columns {
					if t.Table == table && c.Name == column {
						return c.Kind
					}
				}
			}
			return ""
		})
		if err != nil {
			t.Fatalf("dossier %d read back: %v", i, err)
		}
		env := d.Env()
		for _, root := range []map[string]any{env["P"].(map[string]any), back.Env()["P"].(map[string]any)} {
			for k, w := range wantEnv[i] {
				got := root[k]
				if gt, ok := got.(time.Time); ok {
					if wt, ok := w.(time.Time); !ok || !gt.Equal(wt) || gt.Format(time.RFC3339) != wt.Format(time.RFC3339) {
						t.Errorf("dossier %d: Env P.%s = %v, want %v", i, k, got, w)
					}
					continue
				}
				if got != w {
					t.Errorf("dossier %d: Env P.%s = %#v, want %#v", i, k, got, w)
				}
			}
		}
		// The retention date is read from the kept text as a date, as before.
		if dec := rule.Decide(env, "k", civil.Date{Year: 2026, Month: 1, Day: 1}); dec.Start != (civil.Date{Year: 1950, Month: 7, Day: 14}) {
			t.Errorf("dossier %d: start %v (%s)", i, dec.Start, dec.Reason)
		}
		if i == 1 {
			if e := env["E"].([]map[string]any); e[1]["D"] != (civil.Date{Year: 1945, Month: 10, Day: 10}) {
				t.Errorf("Env E[1].D = %#v", e[1]["D"])
			}
		}
		i++
	}
	if i != len(want) {
		t.Errorf("%d dossiers, want %d", i, len(want))
	}
}
