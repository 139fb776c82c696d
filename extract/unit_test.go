package extract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/redact"
)

func sampleDossier() *Dossier {
	ts := time.Date(2024, 3, 31, 1, 30, 0, 0, time.FixedZone("", 2*3600))
	return &Dossier{Class: "etudiant", Key: int64(42), Tables: []TableRows{
		{Table: "INDIVIDU", Columns: []Column{
			{Name: "COD_IND", Kind: KindInteger}, {Name: "NOM", Kind: KindText}, {Name: "NAI", Kind: KindDate},
			{Name: "CRE", Kind: KindTimestamp, Local: true}, {Name: "MAJ", Kind: KindTimestamp}, {Name: "NOTE", Kind: KindDecimal},
			{Name: "PR", Kind: KindText}, {Name: "OK", Kind: KindBool}, {Name: "F", Kind: KindFloat}, {Name: "PHO", Kind: KindBinary},
		}, Rows: [][]Value{{int64(42), "D'ALEMBERT <Hélène>\x01\u2028", civil.Date{Year: 1970, Month: 1, Day: 1},
			time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), ts, Decimal("0.100"), InvalidText("Ren\xe9e"), true, 0.1,
			&LOB{Table: "INDIVIDU", Column: "PHO", Size: 1234}}}},
		{Table: "INS_ADM_ANU", Columns: []Column{{Name: "COD_ANU", Kind: KindText}, {Name: "DAT", Kind: KindDate}},
			Rows: [][]Value{{"1986", nil}, {"1987", civil.Date{Year: 1988, Month: 2, Day: 29}}}},
		{Table: "PHO_ETU", Columns: []Column{{Name: "PHO_ETU", Kind: KindBinary}}},
	}}
}

func TestWriteJSONIsValidTypedAndDeterministic(t *testing.T) {
	d := sampleDossier()
	var a, b bytes.Buffer
	if err := d.WriteJSON(&a, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of one dossier differ")
	}
	if !json.Valid(a.Bytes()) {
		t.Fatalf("not valid JSON:\n%s", a.String())
	}
	var doc struct {
		Format string `json:"format"`
		Key    int64  `json:"key"`
		Tables []struct {
			Name    string   `json:"name"`
			Columns []string `json:"columns"`
			Types   []string `json:"types"`
			Rows    [][]any  `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(a.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != JSONFormat || doc.Key != 42 {
		t.Errorf("header: %+v", doc)
	}
	asMap := func(ti, ri int) map[string]any {
		m := map[string]any{}
		for i, c := range doc.Tables[ti].Columns {
			m[c] = doc.Tables[ti].Rows[ri][i]
		}
		return m
	}
	row := asMap(0, 0)
	want := map[string]any{
		"COD_IND": 42.0, "NOM": "D'ALEMBERT <Hélène>\x01\u2028", "NAI": "1970-01-01", "CRE": "1999-12-31T23:59:59",
		"MAJ": "2024-03-31T01:30:00+02:00", "NOTE": "0.100", "OK": true, "F": 0.1,
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s: got %#v, want %#v", k, row[k], v)
		}
	}
	inv := row["PR"].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(inv["invalid_utf8_base64"].(string))
	if string(raw) != "Ren\xe9e" || inv["approx"] != "Ren\uFFFDe" {
		t.Errorf("invalid UTF-8 not kept losslessly: %#v", inv)
	}
	pho := row["PHO"].(map[string]any)
	if pho["object"] != "INDIVIDU.PHO.1" || pho["size"] != 1234.0 {
		t.Errorf("LOB reference: %#v", pho)
	}
	if len(doc.Tables[1].Rows[0]) != 2 || doc.Tables[1].Rows[0][1] != nil || len(doc.Tables[2].Rows) != 0 {
		t.Error("NULL must be an explicit null and empty tables kept")
	}
	if ty := doc.Tables[0].Types; ty[3] != "timestamp-local" || ty[4] != "timestamp" || ty[5] != "decimal" || ty[9] != "binary" {
		t.Errorf("types: %v", ty)
	}
	if strings.Contains(a.String(), `\u003c`) {
		t.Error("HTML escaping makes text unreadable; not wanted")
	}
}

func TestEnvValuesAreOnlyPlainTypes(t *testing.T) {
	env := sampleDossier().Env()
	root := env["INDIVIDU"].(map[string]any)
	if root["NOTE"] != "0.100" || root["PR"] != "Ren\uFFFDe" || root["PHO"] != nil || root["COD_IND"] != int64(42) {
		t.Errorf("root env: %#v", root)
	}
	if root["NAI"] != (civil.Date{Year: 1970, Month: 1, Day: 1}) {
		t.Errorf("date: %#v", root["NAI"])
	}
	rows := env["INS_ADM_ANU"].([]map[string]any)
	if len(rows) != 2 || rows[1]["COD_ANU"] != "1987" || rows[0]["DAT"] != nil {
		t.Errorf("child env: %#v", rows)
	}
	if pho := env["PHO_ETU"].([]map[string]any); pho == nil || len(pho) != 0 {
		t.Errorf("an empty child table must be an empty list, got %#v", pho)
	}
	for _, r := range append([]map[string]any{root}, rows...) {
		for k, v := range r {
			switch v.(type) {
			case nil, bool, int64, float64, string, civil.Date, time.Time:
			default:
				t.Errorf("%s: %T is not an Env type", k, v)
			}
		}
	}
}

func TestConvertKeepsValuesExact(t *testing.T) {
	cases := []struct {
		col  Column
		in   any
		want Value
	}{
		{Column{Kind: KindDecimal, DBType: "NUMERIC(6,3)"}, 12.5, Decimal("12.500")},
		{Column{Kind: KindDecimal, DBType: "NUMERIC(5,2)"}, int64(100), Decimal("100.00")},
		{Column{Kind: KindDecimal}, "  +0012345678901234567890.1234567890 ", Decimal("12345678901234567890.1234567890")},
		{Column{Kind: KindDecimal}, "-.5", Decimal("-0.5")},
		{Column{Kind: KindInteger}, "99999999999999999999", Decimal("99999999999999999999")},
		{Column{Kind: KindInteger}, "abc", "abc"}, // SQLite: text in an INTEGER column stays text
		{Column{Kind: KindText}, []byte("caf\xc3\xa9"), "café"},
		{Column{Kind: KindText}, "caf\xe9", InvalidText("caf\xe9")},
		{Column{Kind: KindDate}, "2024-02-29", civil.Date{Year: 2024, Month: 2, Day: 29}},
		{Column{Kind: KindDate}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), civil.Date{Year: 2024, Month: 2, Day: 29}},
		{Column{Kind: KindTimestamp, Local: true}, time.Date(2024, 3, 31, 2, 30, 0, 0, time.FixedZone("X", 3600)), time.Date(2024, 3, 31, 2, 30, 0, 0, time.UTC)},
		{Column{Kind: KindBool}, int64(1), true},
	}
	for _, c := range cases {
		got, err := convert(&c.col, c.in)
		if err != nil {
			t.Errorf("%v: %v", c.in, err)
			continue
		}
		if gi, ok := got.(InvalidText); ok {
			if string(gi) != string(c.want.(InvalidText)) {
				t.Errorf("%q: got %q", c.in, gi)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s %#v: got %#v (%T), want %#v", c.col.Kind, c.in, got, got, c.want)
		}
	}
}

func TestOpenRefusesPasswordsOnTheCommandLine(t *testing.T) {
	_, err := Open(t.Context(), "postgres://apogee:s3cret@db.example.fr/apogee")
	want := "source postgres://apogee:xxxxx@db.example.fr/apogee: a connection string may hold a password, so it is not taken from the command line: put it in an environment variable and pass env:VAR, or in a file readable only by you and pass file:PATH"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	_, err = Open(t.Context(), "oracle://apogee:s3cret@db:1521/APOPROD")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("oracle DSN: %v", err)
	}
	t.Setenv("VERSEMENT_EMPTY_DSN", "")
	_, err = Open(t.Context(), "env:VERSEMENT_EMPTY_DSN")
	if err == nil || err.Error() != "source env:VERSEMENT_EMPTY_DSN: environment variable VERSEMENT_EMPTY_DSN is empty or unset" {
		t.Fatalf("empty env: %v", err)
	}
	_, err = Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "absent.db"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("absent SQLite file must not be created empty: %v", err)
	}
}

// A failed connection's error must not carry the password, from a URL or a key=value string.
func TestConnectionErrorsNeverShowThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://apogee:Tr%C3%A8sS3cret!@127.0.0.1:1/apogee?connect_timeout=2",
		"host=127.0.0.1 port=1 user=apogee password=TrèsS3cret! dbname=apogee connect_timeout=2",
	} {
		t.Setenv("VERSEMENT_TEST_DSN", dsn)
		_, err := Open(t.Context(), "env:VERSEMENT_TEST_DSN")
		if err == nil {
			t.Fatal("connected to port 1?")
		}
		if strings.Contains(err.Error(), "S3cret") {
			t.Fatalf("password in error: %v", err)
		}
	}
	if got := Redact("host=db password='a b' user=x"); got != "host=db password=xxxxx user=x" {
		t.Errorf("Redact: %s", got)
	}
}

// url.Parse refuses a URL whose password holds a raw '%', '#' or space, and pgx reads a key's
// passphrase from sslpassword: these must be hidden too, in Redact and in the error a user sees for
// a connection string given on the command line.
func TestRedactUnparsableURLAndSSLPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://apogee:S3c%ret@db:5432/apogee":                           "postgres://apogee:xxxxx@db:5432/apogee",
		"oracle://harpege:S3c#r@t@db:1521/HARP":                              "oracle://harpege:xxxxx@db:1521/HARP",
		"postgresql://apogee:S3 cret@db/apogee?x=%z":                         "postgresql://apogee:xxxxx@db/apogee?x=%z",
		"postgres://apogee@db/apogee?sslpassword=S3cret&sslmode=verify-full": "postgres://apogee@db/apogee?sslpassword=xxxxx&sslmode=verify-full",
	} {
		if got := Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
		_, err := ResolveDSN(dsn)
		if err == nil || strings.Contains(err.Error(), "S3") || !strings.HasPrefix(err.Error(), "source "+want+": ") {
			t.Errorf("ResolveDSN(%q): %v", dsn, err)
		}
		if s := redact.Secrets(dsn); len(s) == 0 || !strings.HasPrefix(s[0], "S3") {
			t.Errorf("redact.Secrets(%q) = %q", dsn, s)
		}
	}
}
