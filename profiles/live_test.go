package profiles_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/profiles"
)

// demoSource builds the Apogée demo base on SQLite or PostgreSQL, runs ddl on it, and opens it as
// a user would. where is how messages name the source.
func demoSource(t *testing.T, dialect string, n int, ddl ...string) (src extract.Source, where string) {
	t.Helper()
	ctx := context.Background()
	var db *sql.DB
	var spec string
	var err error
	if dialect == "postgres" {
		dsn := testsvc.PostgresDB(t)
		db, err = sql.Open("pgx", dsn)
		t.Setenv("VERSEMENT_TEST_SOURCE", dsn)
		spec, where = "env:VERSEMENT_TEST_SOURCE", dsn
	} else {
		path := filepath.Join(t.TempDir(), "apogee.db")
		db, err = sql.Open("sqlite", "file:"+path)
		spec, where = "sqlite:"+path, "sqlite:"+path
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Generate(ctx, db, dialect, demo.Options{Profile: demo.Apogee, Dossiers: n, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	src, err = extract.Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, where
}

func lineOf(text, s string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}

// Not every establishment has theses, photos or element results: the built-in Apogée profile marks
// them optional. Absent, they are warnings located in the profile, and dossiers are read without
// them; every missing required table is reported at once, each at its line, with the database's
// folding and the profile's name.
func TestOptionalAndMissingTables(t *testing.T) {
	text, _ := profiles.BuiltinSource("apogee")
	line := func(table string) int { return lineOf(string(text), "table: "+table) }
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			looked := func(table string) string {
				if dialect == "postgres" {
					return fmt.Sprintf(`profile apogee; looked for "%s" and "%s": PostgreSQL folds unquoted names to lower case`, table, strings.ToLower(table))
				}
				return fmt.Sprintf(`profile apogee; looked for "%s": SQLite ignores case in names`, table)
			}
			p, err := profiles.Builtin("apogee")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			src, where := demoSource(t, dialect, 30, `DROP TABLE "PHO_ETU"`, `DROP TABLE "THESE_HDR_SOUT"`, `DROP TABLE "INS_ADM_ETP"`, `DROP TABLE "IND_BAC"`)
			warnings, err := p.CheckSource(ctx, src)
			var got []string
			for _, w := range warnings {
				got = append(got, w.Error())
			}
			wantWarnings := []string{
				fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[7].table: optional table PHO_ETU not found in %s (%s): dossiers are archived without it", line("PHO_ETU"), where, looked("PHO_ETU")),
				fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[8].table: optional table THESE_HDR_SOUT not found in %s (%s): dossiers are archived without it", line("THESE_HDR_SOUT"), where, looked("THESE_HDR_SOUT")),
			}
			if strings.Join(got, "\n") != strings.Join(wantWarnings, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantWarnings, "\n"))
			}
			wantErr := strings.Join([]string{
				fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[2].table: %s: table INS_ADM_ETP not found (%s)", line("INS_ADM_ETP"), where, looked("INS_ADM_ETP")),
				fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[6].table: %s: table IND_BAC not found (%s)", line("IND_BAC"), where, looked("IND_BAC")),
			}, "\n")
			if err == nil || err.Error() != wantErr {
				t.Errorf("errors:\n%v\nwant:\n%s", err, wantErr)
			}

			// A run's read says the same in one pass, and the Checker gives the warnings.
			class := p.Class("etudiant").ExtractSpec()
			for _, err := range src.Dossiers(ctx, class) {
				want := fmt.Sprintf("class \"etudiant\" of profile apogee: 2 tables not found in %s (%s):\n  builtin/apogee.yaml:%d: INS_ADM_ETP\n  builtin/apogee.yaml:%d: IND_BAC",
					where, map[string]string{"sqlite": "SQLite ignores case in names", "postgres": "PostgreSQL folds unquoted names to lower case"}[dialect], line("INS_ADM_ETP"), line("IND_BAC"))
				var missing *extract.MissingTablesError
				if !errors.As(err, &missing) || err.Error() != want {
					t.Errorf("read: %v\nwant:\n%s", err, want)
				}
				break
			}
			ws, err := src.(extract.Checker).Check(ctx, class)
			if err == nil || len(ws) != 0 {
				t.Errorf("Check with required tables missing: %v, %v", ws, err)
			}
		})
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run("optional absent only/"+dialect, func(t *testing.T) {
			optionalAbsent(t, dialect, line("PHO_ETU"))
		})
	}
}

func optionalAbsent(t *testing.T, dialect string, line int) {
	p, _ := profiles.Builtin("apogee")
	ctx := context.Background()
	src, where := demoSource(t, dialect, 30, `DROP TABLE "PHO_ETU"`)
	class := p.Class("etudiant").ExtractSpec()
	ws, err := src.(extract.Checker).Check(ctx, class)
	looked := `looked for "PHO_ETU": SQLite ignores case in names`
	if dialect == "postgres" {
		looked = `looked for "PHO_ETU" and "pho_etu": PostgreSQL folds unquoted names to lower case`
	}
	want := fmt.Sprintf(`builtin/apogee.yaml:%d: optional table PHO_ETU not found (profile apogee; %s): its dossiers are archived without it`, line, looked)
	if err != nil || len(ws) != 1 || ws[0].String() != want || ws[0].Table != "PHO_ETU" || ws[0].Class != "etudiant" {
		t.Fatalf("Check = %v, %v\nwant %s", ws, err, want)
	}
	if err := p.ValidateSource(ctx, src); err != nil {
		t.Errorf("ValidateSource: %v", err)
	}
	infos, err := p.Class("etudiant").Dictionary(ctx, src)
	if err != nil || len(infos) != 9 {
		t.Errorf("dictionary: %d tables, %v", len(infos), err)
	}
	spec := where
	if dialect == "postgres" {
		spec = "env:VERSEMENT_TEST_SOURCE"
	}
	batched, err := extract.OpenWith(ctx, spec, extract.Options{Batched: true, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer batched.Close()
	for _, src := range []extract.Source{src, batched} {
		readWithoutPhotos(t, ctx, src, class, where)
	}
}

func readWithoutPhotos(t *testing.T, ctx context.Context, src extract.Source, class extract.Spec, where string) {
	n := 0
	for d, err := range src.Dossiers(ctx, class) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		photo := d.Tables[8]
		if photo.Table != "PHO_ETU" || !photo.Absent || len(photo.Rows) != 0 || len(photo.Columns) != 0 {
			t.Fatalf("PHO_ETU: %+v", photo)
		}
		if rows, ok := d.Env()["PHO_ETU"].([]map[string]any); !ok || len(rows) != 0 {
			t.Errorf("Env PHO_ETU = %#v", d.Env()["PHO_ETU"])
		}
		var b bytes.Buffer
		if err := d.WriteJSON(&b, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "\n"+`{"name":"PHO_ETU","absent":true,"columns":[],"types":[],"rows":[]},`+"\n") {
			t.Errorf("document: %s", b.String())
		}
	}
	if n != 30 {
		t.Errorf("%d dossiers read from %s, want 30", n, where)
	}
}

// profile validate --source said "ok" for a rule that could never read its tables: every table and
// column that the class's rule and content expressions name is checked against the dossiers.
func TestValidateSourceChecksRuleExpressions(t *testing.T) {
	ctx := context.Background()
	text, _ := profiles.BuiltinSource("apogee")
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	src, where := demoSource(t, "sqlite", 5, `ALTER TABLE "INS_ADM_ANU" RENAME COLUMN "ETA_IAA" TO "ETA_IAA_OLD"`, `ALTER TABLE "INS_ADM_ANU" RENAME COLUMN "DAT_CRE_IAA" TO "dat_cre_iaa_x"`)
	err = p.ValidateSource(ctx, src)
	rule, content := lineOf(string(text), "rule: APP-APO-IA"), lineOf(string(text), "start_date:")
	want := strings.Join([]string{
		fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].rule: rule APP-APO-IA (schedule apogee) start reads INS_ADM_ANU.ETA_IAA, which its dossiers do not hold (unknown column ETA_IAA in table INS_ADM_ANU)", rule),
		fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].children[1].meanings.ETA_IAA: unknown column ETA_IAA in table INS_ADM_ANU", lineOf(string(text), "ETA_IAA: ")),
		fmt.Sprintf("builtin/apogee.yaml:%d: classes[0].content.start_date: start_date reads INS_ADM_ANU.DAT_CRE_IAA, which its dossiers do not hold (unknown column DAT_CRE_IAA in table INS_ADM_ANU)", content),
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("validate on %s:\n%v\nwant:\n%s", where, err, want)
	}

	// A rule of a schedule file that reads a table the class does not read, and a column spelled
	// in another case than the dossier's.
	dir := t.TempDir()
	sched := "schedule: mine\nextends: apogee\nrules:\n  - id: APP-MINE\n    title: t\n    start: endOfYear(map(filter(INSCRIPTION, .ETA == \"E\"), .COD_ANU))\n    active: 1y\n    dua: 1y\n    final: keep\n    checks:\n      birth: date(INDIVIDU.date_nai_ind)\n    status: to-confirm\n"
	writeFile(t, filepath.Join(dir, "mine.yaml"), sched)
	prof := strings.Replace(strings.Replace(string(text), "schedule: apogee ", "schedule: mine.yaml ", 1), "rule: APP-APO-IA", "rule: APP-MINE", 1)
	writeFile(t, filepath.Join(dir, "p.yaml"), prof)
	q, err := profiles.Load(filepath.Join(dir, "p.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src2, _ := demoSource(t, "sqlite", 5)
	err = q.ValidateSource(ctx, src2)
	file := filepath.Join(dir, "p.yaml")
	want = strings.Join([]string{
		fmt.Sprintf("%s:%d: classes[0].rule: rule APP-MINE (schedule mine) start reads table INSCRIPTION, which is not a table of this class (it reads INDIVIDU, ADRESSE, INS_ADM_ANU, INS_ADM_ETP, RESULTAT_VET, RESULTAT_VDI, RESULTAT_ELP, IND_BAC, PHO_ETU, THESE_HDR_SOUT)", file, rule),
		fmt.Sprintf("%s:%d: classes[0].rule: rule APP-MINE (schedule mine) checks.birth reads INDIVIDU.date_nai_ind, which its dossiers do not hold (the dossier names it INDIVIDU.DATE_NAI_IND: expressions are case-sensitive)", file, rule),
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("validate:\n%v\nwant:\n%s", err, want)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
