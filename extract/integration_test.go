package extract_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
)

// onEachDatabase runs f against SQLite and against the test PostgreSQL, each holding the same
// schema built by setup. f gets the spec a user would pass (sqlite:PATH, env:VAR).
func onEachDatabase(t *testing.T, setup func(t *testing.T, db *sql.DB, dialect string), f func(t *testing.T, spec string)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "src.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		setup(t, db, "sqlite")
		db.Close()
		f(t, "sqlite:"+path)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testsvc.PostgresDB(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		setup(t, db, "postgres")
		db.Close()
		t.Setenv("VERSEMENT_TEST_SOURCE", dsn)
		f(t, "env:VERSEMENT_TEST_SOURCE")
	})
}

func demoSetup(profile string, n int) func(t *testing.T, db *sql.DB, dialect string) {
	return func(t *testing.T, db *sql.DB, dialect string) {
		if _, err := demo.Generate(context.Background(), db, dialect, demo.Options{Profile: profile, Dossiers: n, Seed: 7}); err != nil {
			t.Fatal(err)
		}
	}
}

func openSource(t *testing.T, spec string, batch int) extract.Source {
	return openSourceWith(t, spec, extract.Options{BatchSize: batch})
}

func openSourceWith(t *testing.T, spec string, opt extract.Options) extract.Source {
	t.Helper()
	src, err := extract.OpenWith(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// expected turns a generated value into what the source must give back.
func expected(v any) extract.Value {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return extract.InvalidText(x)
		}
	}
	return v
}

func sameValue(t *testing.T, ctx context.Context, where string, got extract.Value, want any) {
	t.Helper()
	switch w := want.(type) {
	case []byte:
		l, ok := got.(*extract.LOB)
		if !ok {
			t.Errorf("%s: got %T, want a LOB", where, got)
			return
		}
		if l.Size != int64(len(w)) {
			t.Errorf("%s: LOB size %d, want %d", where, l.Size, len(w))
		}
		rc, err := l.Open(ctx)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, w) {
			t.Errorf("%s: LOB content differs (%d bytes read, %v)", where, len(b), err)
		}
		return
	case time.Time:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(w) {
			t.Errorf("%s: got %#v, want %v", where, got, w)
		}
		return
	}
	e := expected(want)
	if gi, ok := got.(extract.InvalidText); ok {
		if ei, ok := e.(extract.InvalidText); !ok || !bytes.Equal(gi, ei) {
			t.Errorf("%s: got InvalidText %q, want %#v", where, gi, e)
		}
		return
	}
	if got != e {
		t.Errorf("%s: got %#v (%T), want %#v (%T)", where, got, got, e, e)
	}
}

// Every dossier and every row of the demo databases comes back as it was inserted, dirty values
// included (control characters; invalid UTF-8 on SQLite; NULL dates; photos as LOBs; decimals).
func TestDemoDossiersReadBackAsInserted(t *testing.T) {
	const n = 400
	for _, profile := range []string{demo.Apogee, demo.Harpege} {
		t.Run(profile, func(t *testing.T) {
			onEachDatabase(t, demoSetup(profile, n), func(t *testing.T, spec string) {
				for _, batched := range []bool{false, true} {
					t.Run(map[bool]string{false: "streamed", true: "batched"}[batched], func(t *testing.T) {
						readBackDemo(t, spec, profile, n, extract.Options{BatchSize: 64, Batched: batched}) // several batches
					})
				}
			})
		})
	}
}

func readBackDemo(t *testing.T, spec, profile string, n int, opt extract.Options) {
	ctx := context.Background()
	src := openSourceWith(t, spec, opt)
	class, _ := demo.Class(profile)
	i, lobs, invalid := 0, 0, 0
	for d, err := range src.Dossiers(ctx, class) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Key != demo.Key(i) {
			t.Fatalf("dossier %d has key %v, want %d", i, d.Key, demo.Key(i))
		}
		want := map[string][][]any{}
		dialect := "sqlite"
		if src.Dialect() == "postgres" {
			dialect = "postgres"
		}
		if err := demo.Dossier(profile, 7, i, dialect, false, func(table string, row []any) { want[table] = append(want[table], row) }); err != nil {
			t.Fatal(err)
		}
		if len(d.Tables) != 1+len(class.Children) {
			t.Fatalf("dossier %v: %d tables", d.Key, len(d.Tables))
		}
		for _, tr := range d.Tables {
			w := want[tr.Table]
			if len(tr.Rows) != len(w) {
				t.Fatalf("dossier %v table %s: %d rows, want %d", d.Key, tr.Table, len(tr.Rows), len(w))
			}
			for r, row := range tr.Rows {
				for c, v := range row {
					sameValue(t, ctx, fmt.Sprintf("dossier %v %s[%d].%s", d.Key, tr.Table, r, tr.Columns[c].Name), v, w[r][c])
					if _, ok := v.(*extract.LOB); ok {
						lobs++
					}
					if _, ok := v.(extract.InvalidText); ok {
						invalid++
					}
				}
			}
		}
		i++
	}
	if i != n {
		t.Fatalf("read %d dossiers, want %d", i, n)
	}
	if profile == demo.Apogee && lobs == 0 {
		t.Error("no photo was read: the LOB path went untested")
	}
	if profile == demo.Apogee && src.Dialect() == "sqlite" && invalid == 0 {
		t.Error("no invalid UTF-8 met: the dirty path went untested")
	}
	t.Logf("%s: %d dossiers, %d LOBs, %d invalid UTF-8 values", src.Dialect(), i, lobs, invalid)
}

// typesSetup creates a table with a text key and every kind of value, in each dialect's types.
func typesSetup(t *testing.T, db *sql.DB, dialect string) {
	ddl := map[string][]string{
		"sqlite": {
			`CREATE TABLE "T" ("K" TEXT PRIMARY KEY, "I" BIGINT, "N" NUMERIC(30,10), "F" DOUBLE, "B" BOOLEAN, "D" DATE, "TS" TIMESTAMP, "TZ" TIMESTAMP WITH TIME ZONE, "TX" TEXT, "BY" BLOB, "CL" CLOB)`,
			`CREATE TABLE "C" ("K" TEXT, "SEQ" INTEGER, "V" TEXT, PRIMARY KEY ("K", "SEQ"))`,
		},
		"postgres": {
			`CREATE TABLE "T" ("K" text PRIMARY KEY, "I" bigint, "N" numeric(30,10), "F" double precision, "B" boolean, "D" date, "TS" timestamp, "TZ" timestamptz, "TX" text, "BY" bytea, "CL" text)`,
			`CREATE TABLE "C" ("K" text, "SEQ" integer, "V" text, PRIMARY KEY ("K", "SEQ"))`,
		},
	}[dialect]
	for _, q := range ddl {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	p := func(n int) string {
		if dialect == "postgres" {
			return fmt.Sprintf("$%d", n)
		}
		return "?"
	}
	ins := `INSERT INTO "T" VALUES (` + p(1)
	for i := 2; i <= 11; i++ {
		ins += ", " + p(i)
	}
	ins += ")"
	for _, r := range typeRows(dialect) {
		if _, err := db.Exec(ins, r.k, r.i, r.n, r.f, r.b, r.d, r.ts, r.tz, r.tx, r.by, r.cl); err != nil {
			t.Fatalf("insert %q: %v", r.k, err)
		}
		for s := 3; s >= 1; s-- { // inserted out of order: the source must order them
			if _, err := db.Exec(`INSERT INTO "C" VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`)`, r.k, s, r.k+"#"+fmt.Sprint(s)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An orphan child row between two keys must not land in a dossier.
	if _, err := db.Exec(`INSERT INTO "C" VALUES (`+p(1)+`, 1, 'orphan')`, "ab0"); err != nil {
		t.Fatal(err)
	}
}

type typeRow struct {
	k       string
	i       any
	n       any
	f       any
	b       any
	d       any
	ts, tz  any
	tx      any
	by, cl  any
	wantN   extract.Value
	wantTZ  time.Time
	wantTS  time.Time
	wantTx  extract.Value
	wantCl  []byte
	wantBy  []byte
	wantNil bool
}

var bigBlob = func() []byte {
	b := make([]byte, 2<<20+12345) // more than two 1 MiB chunks
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func typeRows(dialect string) []typeRow {
	long := bytes.Repeat([]byte("Commentaire très long, avec accents. "), 3000) // ~110 kB
	dirty := "ligne1\nligne2\ttab\x01\x1b[0m\x7f fin"
	invalid := any("Ren\xe9e Lef\xe8vre")
	wantInvalid := extract.Value(extract.InvalidText("Ren\xe9e Lef\xe8vre"))
	if dialect == "postgres" {
		invalid, wantInvalid = dirty, dirty // a UTF8 database refuses invalid bytes
	}
	paris := time.FixedZone("CEST", 2*3600)
	bigN, wantBigN := "12345678901234567890.1234567890", extract.Decimal("12345678901234567890.1234567890")
	if dialect == "sqlite" {
		// SQLite keeps NUMERIC values as 64-bit floats: 15 significant digits are what it can hold.
		bigN, wantBigN = "123456789.123456", extract.Decimal("123456789.1234560000")
	}
	return []typeRow{
		{k: "a", i: int64(-9223372036854775808), n: bigN, f: 0.1, b: true, d: "2024-02-29",
			ts: "2024-03-31 02:30:00", tz: time.Date(2024, 3, 31, 3, 30, 0, 0, paris), tx: dirty, by: bigBlob, cl: string(long),
			wantN: wantBigN, wantTS: time.Date(2024, 3, 31, 2, 30, 0, 0, time.UTC),
			wantTZ: time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC), wantTx: dirty, wantBy: bigBlob, wantCl: long},
		{k: "B", i: int64(0), n: "-0.0000000001", f: -1.5, b: false, d: "1900-01-01", ts: "1986-10-26 02:30:00",
			tz: time.Date(1986, 10, 26, 2, 30, 0, 0, time.UTC), tx: invalid, by: []byte{}, cl: "",
			wantN: extract.Decimal("-0.0000000001"), wantTS: time.Date(1986, 10, 26, 2, 30, 0, 0, time.UTC),
			wantTZ: time.Date(1986, 10, 26, 2, 30, 0, 0, time.UTC), wantTx: wantInvalid, wantBy: []byte{}, wantCl: []byte{}},
		{k: "É", wantNil: true},
		{k: "é", wantNil: true},
		{k: "z", wantNil: true},
		{k: "Z", wantNil: true},
		{k: "ab", wantNil: true},
		{k: "a b", wantNil: true},
		{k: "10", wantNil: true},
		{k: "9", wantNil: true},
		{k: "D'ALEMBERT", wantNil: true},
	}
}

// Every kind of value survives, text keys come in bytewise order on both databases, child rows in
// their order, NULLs as nil, the 2 MB BLOB streamed in chunks.
func TestTypesAndTextKeysReadBackExactly(t *testing.T) {
	onEachDatabase(t, typesSetup, func(t *testing.T, spec string) {
		for _, batched := range []bool{false, true} {
			t.Run(map[bool]string{false: "streamed", true: "batched"}[batched], func(t *testing.T) {
				readBackTypes(t, spec, extract.Options{BatchSize: 3, Batched: batched})
			})
		}
	})
}

func readBackTypes(t *testing.T, spec string, opt extract.Options) {
	{
		ctx := context.Background()
		src := openSourceWith(t, spec, opt)
		class := extract.Spec{Name: "t", Root: extract.Table{Name: "T", Key: "K"},
			Children: []extract.Child{{Table: extract.Table{Name: "C"}, JoinColumn: "K"}}}
		rows := typeRows(src.Dialect())
		byKey := map[string]typeRow{}
		for _, r := range rows {
			byKey[r.k] = r
		}
		wantOrder := []string{"10", "9", "B", "D'ALEMBERT", "Z", "a", "a b", "ab", "z", "É", "é"} // bytewise
		var got []string
		for d, err := range src.Dossiers(ctx, class) {
			if err != nil {
				t.Fatal(err)
			}
			k := d.Key.(string)
			got = append(got, k)
			r := byKey[k]
			row := d.Tables[0].Rows[0]
			cols := d.Tables[0].Columns
			at := func(name string) extract.Value {
				for i, c := range cols {
					if c.Name == name {
						return row[i]
					}
				}
				t.Fatalf("no column %s", name)
				return nil
			}
			kids := d.Tables[1].Rows
			if len(kids) != 3 || kids[0][2] != k+"#1" || kids[2][2] != k+"#3" {
				t.Errorf("%q: child rows %v", k, kids)
			}
			if r.wantNil {
				for i, v := range row[1:] {
					if v != nil {
						t.Errorf("%q.%s: got %#v, want NULL", k, cols[i+1].Name, v)
					}
				}
				continue
			}
			where := func(c string) string { return fmt.Sprintf("%s %q.%s", src.Dialect(), k, c) }
			sameValue(t, ctx, where("I"), at("I"), r.i)
			sameValue(t, ctx, where("N"), at("N"), r.wantN)
			sameValue(t, ctx, where("F"), at("F"), r.f)
			sameValue(t, ctx, where("B"), at("B"), r.b)
			dd, _ := civil.Parse(r.d.(string))
			sameValue(t, ctx, where("D"), at("D"), dd)
			sameValue(t, ctx, where("TS"), at("TS"), r.wantTS)
			if ts := at("TS").(time.Time); ts.Hour() != r.wantTS.Hour() {
				t.Errorf("%s: wall clock moved: %v", where("TS"), ts)
			}
			sameValue(t, ctx, where("TZ"), at("TZ"), r.wantTZ)
			sameValue(t, ctx, where("TX"), at("TX"), r.wantTx)
			sameValue(t, ctx, where("BY"), at("BY"), r.wantBy)
			if src.Dialect() == "sqlite" {
				sameValue(t, ctx, where("CL"), at("CL"), r.wantCl) // declared CLOB: a LOB
			} else {
				sameValue(t, ctx, where("CL"), at("CL"), string(r.wantCl))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantOrder) {
			t.Errorf("key order:\n got %q\nwant %q", got, wantOrder)
		}
	}
}

// Count gives the number of dossiers a class holds, its root filter applied, on every database.
func TestCountHonoursTheRootFilter(t *testing.T) {
	onEachDatabase(t, demoSetup(demo.Apogee, 120), func(t *testing.T, spec string) {
		src := openSource(t, spec, 0)
		counter, ok := src.(extract.Counter)
		if !ok {
			t.Fatalf("%T does not count", src)
		}
		class := demo.ApogeeClass()
		n, err := counter.Count(context.Background(), class)
		if err != nil || n != 120 {
			t.Fatalf("Count = %d, %v; want 120", n, err)
		}
		class.Root.Where = `"COD_IND" <= 30`
		if n, err = counter.Count(context.Background(), class); err != nil || n != 30 {
			t.Fatalf("Count with a filter = %d, %v; want 30", n, err)
		}
		class.Root.Name = "NO_SUCH_TABLE"
		if _, err = counter.Count(context.Background(), class); err == nil {
			t.Fatal("Count of a missing table: no error")
		}
	})
}
