package extract_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/profiles"
)

// lowerCaseDDL renames every table and column of the database to lower case, as a base migrated
// from Oracle with unquoted DDL (ora2pg) stores them.
func lowerCaseDDL(t *testing.T, db *sql.DB, dialect string) {
	t.Helper()
	ctx := context.Background()
	list := "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
	if dialect == "sqlite" {
		list = "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' ORDER BY 1, 2"
	}
	rows, err := db.QueryContext(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string][]string{}
	var tables []string
	for rows.Next() {
		var tb, c string
		if err := rows.Scan(&tb, &c); err != nil {
			t.Fatal(err)
		}
		if cols[tb] == nil {
			tables = append(tables, tb)
		}
		cols[tb] = append(cols[tb], c)
	}
	rows.Close()
	exec := func(q string) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tb := range tables {
		for _, c := range cols[tb] {
			if dialect == "sqlite" {
				exec(`ALTER TABLE "` + tb + `" RENAME COLUMN "` + c + `" TO "` + strings.ToLower(c) + `_"`)
				exec(`ALTER TABLE "` + tb + `" RENAME COLUMN "` + strings.ToLower(c) + `_" TO "` + strings.ToLower(c) + `"`)
			} else {
				exec(`ALTER TABLE "` + tb + `" RENAME COLUMN "` + c + `" TO ` + c) // unquoted: folded
			}
		}
		if dialect == "sqlite" {
			exec(`ALTER TABLE "` + tb + `" RENAME TO "` + strings.ToLower(tb) + `_"`)
			exec(`ALTER TABLE "` + strings.ToLower(tb) + `_" RENAME TO "` + strings.ToLower(tb) + `"`)
		} else {
			exec(`ALTER TABLE "` + tb + `" RENAME TO ` + tb)
		}
	}
}

// The built-in Apogée profile, its rule's expressions and its templates read a base whose DDL was
// unquoted (individu, cod_ind) exactly as they read the upper-case one: same dossier documents byte
// for byte (the profile's names), same decisions, same titles.
func TestFoldedNamesReadAsTheProfileNamesThem(t *testing.T) {
	const n = 60
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	pc := p.Class("etudiant")
	class := pc.ExtractSpec()
	asOf := civil.Date{Year: 2026, Month: 12, Day: 1}
	read := func(t *testing.T, spec string) (docs []string, decisions []string) {
		src := openSourceWith(t, spec, extract.Options{BatchSize: 16})
		for d, err := range src.Dossiers(context.Background(), class) {
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := d.WriteJSON(&b, nil); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, b.String())
			dec := p.Schedule().Decide(pc.Rule, d.Env(), profiles.KeyString(d.Key), asOf)
			desc, err := pc.Describe(d)
			if err != nil {
				t.Fatal(err)
			}
			decisions = append(decisions, string(dec.Tier)+" "+dec.Start.String()+" "+desc.Title+" "+desc.EndDate.String())
		}
		return docs, decisions
	}
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			open := func(lower bool) (string, *sql.DB) {
				var db *sql.DB
				var spec string
				if dialect == "postgres" {
					dsn := testsvc.PostgresDB(t)
					db, err = sql.Open("pgx", dsn)
					env := "VERSEMENT_TEST_UPPER"
					if lower {
						env = "VERSEMENT_TEST_LOWER"
					}
					t.Setenv(env, dsn)
					spec = "env:" + env
				} else {
					path := filepath.Join(t.TempDir(), map[bool]string{false: "upper.db", true: "lower.db"}[lower])
					db, err = sql.Open("sqlite", "file:"+path)
					db.SetMaxOpenConns(1)
					spec = "sqlite:" + path
				}
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := demo.Generate(context.Background(), db, dialect, demo.Options{Profile: demo.Apogee, Dossiers: n, Seed: 11}); err != nil {
					t.Fatal(err)
				}
				if lower {
					lowerCaseDDL(t, db, dialect)
				}
				return spec, db
			}
			upperSpec, _ := open(false)
			lowerSpec, lowerDB := open(true)
			wantDocs, wantDecisions := read(t, upperSpec)
			gotDocs, gotDecisions := read(t, lowerSpec)
			if len(wantDocs) != n || len(gotDocs) != n {
				t.Fatalf("%d and %d dossiers, want %d", len(wantDocs), len(gotDocs), n)
			}
			undetermined := 0
			for i := range wantDocs {
				if gotDocs[i] != wantDocs[i] {
					t.Fatalf("dossier %d differs:\n%s\nwant:\n%s", i, gotDocs[i], wantDocs[i])
				}
				if gotDecisions[i] != wantDecisions[i] {
					t.Errorf("decision %d: %s, want %s", i, gotDecisions[i], wantDecisions[i])
				}
				if strings.HasPrefix(gotDecisions[i], "undetermined") {
					undetermined++
				}
			}
			if undetermined == n {
				t.Errorf("every decision undetermined: %v", gotDecisions[:3])
			}
			if !strings.HasPrefix(gotDocs[0], `{"format":"versement-dossier/1","class":"etudiant","key":1,"tables":[`+"\n"+`{"name":"INDIVIDU","columns":["COD_IND","COD_ETU",`) {
				t.Errorf("first document: %.200s", gotDocs[0])
			}

			// The data dictionary: the profile's names, the database's beside them.
			src := openSource(t, lowerSpec, 0)
			infos, err := src.Describe(context.Background(), class)
			if err != nil {
				t.Fatal(err)
			}
			if ti := infos[2]; ti.Name != "INS_ADM_ANU" || ti.SourceName != "ins_adm_anu" || ti.Columns[0].Name != "COD_ANU" || ti.Columns[0].SourceName != "cod_anu" {
				t.Errorf("INS_ADM_ANU described as %s (%s), first column %+v", ti.Name, ti.SourceName, ti.Columns[0])
			}
			n, err := src.(extract.Counter).Count(context.Background(), class)
			if err != nil || n != int64(len(wantDocs)) {
				t.Errorf("Count = %d, %v", n, err)
			}

			if dialect != "postgres" {
				return
			}
			// Both spellings present: which one the profile means cannot be known.
			if _, err := lowerDB.Exec(`CREATE TABLE "INS_ADM_ANU" ("COD_IND" integer)`); err != nil {
				t.Fatal(err)
			}
			_, err = src.Describe(context.Background(), class)
			var amb *extract.AmbiguousNameError
			if !errors.As(err, &amb) || !strings.HasSuffix(err.Error(), ": table INS_ADM_ANU is ambiguous: the database has both \"INS_ADM_ANU\" and \"ins_adm_anu\" (PostgreSQL folds unquoted names to lower case); rename one, or name the table or column as the database spells the one to read") {
				t.Errorf("ambiguous table: %v", err)
			}
			if _, err := lowerDB.Exec(`DROP TABLE "INS_ADM_ANU"; ALTER TABLE individu ADD COLUMN "COD_ETU" text`); err != nil {
				t.Fatal(err)
			}
			for _, err := range src.Dossiers(context.Background(), class) {
				if err == nil || !strings.HasSuffix(err.Error(), `: column INDIVIDU.COD_ETU is ambiguous: the database has both "COD_ETU" and "cod_etu" (PostgreSQL folds unquoted names to lower case); rename one, or name the table or column as the database spells the one to read`) {
					t.Errorf("ambiguous column: %v", err)
				}
				break
			}
		})
	}
}

// Spec.Only reads one dossier, every table filtered on its key (explain), whatever the key's kind
// and however the database spells the key column.
func TestOnlyReadsOneDossier(t *testing.T) {
	onEachDatabase(t, typesSetup, func(t *testing.T, spec string) {
		for _, batched := range []bool{false, true} {
			src := openSourceWith(t, spec, extract.Options{Batched: batched})
			for key, want := range map[string]int{"D'ALEMBERT": 3, "a": 3, "nope": 0} {
				class := extract.Spec{Name: "t", Root: extract.Table{Name: "T", Key: "K"}, Only: key,
					Children: []extract.Child{{Table: extract.Table{Name: "C"}, JoinColumn: "K"}}}
				var got []string
				for d, err := range src.Dossiers(context.Background(), class) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%v:%d", d.Key, len(d.Tables[1].Rows)))
				}
				if w := fmt.Sprintf("%s:%d", key, want); (want == 0 && len(got) != 0) || (want > 0 && (len(got) != 1 || got[0] != w)) {
					t.Errorf("batched %v, Only %q: %v, want %s", batched, key, got, w)
				}
			}
		}
	})
	// An integer key given as text, on a base whose names are folded.
	dsn := testsvc.PostgresDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Generate(context.Background(), db, "postgres", demo.Options{Profile: demo.Apogee, Dossiers: 12, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	lowerCaseDDL(t, db, "postgres")
	t.Setenv("VERSEMENT_TEST_SOURCE", dsn)
	src := openSource(t, "env:VERSEMENT_TEST_SOURCE", 0)
	for only, want := range map[any]string{"7": "7", int64(7): "7", "x7": "", "99": ""} {
		class := demo.ApogeeClass()
		class.Only = only
		var got []string
		for d, err := range src.Dossiers(context.Background(), class) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(d.Key))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("Only %#v: %v, want %q", only, got, want)
		}
	}
}
