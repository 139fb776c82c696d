package extract

import (
	"strings"
	"testing"
)

// The SQL each dialect sends, for a root with a LOB and a child ordered by a text column. Oracle
// has no server here: these texts and the type mapping below are its only proof.
func TestDialectSQL(t *testing.T) {
	cases := []struct {
		d                         dialect
		kinds                     map[string]string // column → declared type
		rootFirst, rootAfter, kid string
		chunk                     string
	}{
		{
			d:         sqliteDialect{},
			kinds:     map[string]string{"COD_IND": "INTEGER", "LIB": "VARCHAR(30)", "PHO": "BLOB", "NOT": "NUMERIC(6,3)", "COD_ANU": "CHAR(4)"},
			rootFirst: `SELECT "COD_IND", "COD_IND", "LIB", "NOT", length(CAST("PHO" AS BLOB)), CASE WHEN length(CAST("PHO" AS BLOB)) <= 65536 THEN CAST("PHO" AS BLOB) END, rowid FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL ORDER BY "COD_IND" LIMIT 500`,
			rootAfter: `SELECT "COD_IND", "COD_IND", "LIB", "NOT", length(CAST("PHO" AS BLOB)), CASE WHEN length(CAST("PHO" AS BLOB)) <= 65536 THEN CAST("PHO" AS BLOB) END, rowid FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL AND "COD_IND" > ? ORDER BY "COD_IND" LIMIT 500`,
			kid:       `SELECT "COD_IND", "COD_ANU", "COD_IND", "NOT" FROM "INS_ADM_ANU" WHERE "COD_IND" >= ? AND "COD_IND" <= ? ORDER BY "COD_IND", "COD_ANU"`,
			chunk:     `SELECT substr(CAST("PHO" AS BLOB), ?, ?) FROM "INDIVIDU" WHERE rowid = ?`,
		},
		{
			d:         postgresDialect{},
			kinds:     map[string]string{"COD_IND": "integer", "LIB": "character varying(30)", "PHO": "bytea", "NOT": "numeric(6,3)", "COD_ANU": "character(4)"},
			rootFirst: `SELECT "COD_IND", "COD_IND", "LIB", "NOT"::text, octet_length("PHO"), CASE WHEN octet_length("PHO") <= 65536 THEN "PHO" END, ctid::text FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL ORDER BY "COD_IND" LIMIT 500`,
			rootAfter: `SELECT "COD_IND", "COD_IND", "LIB", "NOT"::text, octet_length("PHO"), CASE WHEN octet_length("PHO") <= 65536 THEN "PHO" END, ctid::text FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL AND "COD_IND" > $1 ORDER BY "COD_IND" LIMIT 500`,
			kid:       `SELECT "COD_IND", "COD_ANU", "COD_IND", "NOT"::text FROM "INS_ADM_ANU" WHERE "COD_IND" >= $1 AND "COD_IND" <= $2 ORDER BY "COD_IND", "COD_ANU" COLLATE "C"`,
			chunk:     `SELECT substring("PHO" FROM $2 FOR $3) FROM "INDIVIDU" WHERE ctid = $1::tid`,
		},
		{
			d:         oracleDialect{},
			kinds:     map[string]string{"COD_IND": "NUMBER", "LIB": "VARCHAR2", "PHO": "BLOB", "NOT": "NUMBER", "COD_ANU": "CHAR"},
			rootFirst: `SELECT * FROM (SELECT TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), "LIB", TO_CHAR("NOT", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), DBMS_LOB.GETLENGTH("PHO"), CASE WHEN DBMS_LOB.GETLENGTH("PHO") <= 2000 THEN DBMS_LOB.SUBSTR("PHO", 2000, 1) END, ROWIDTOCHAR(ROWID) FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL ORDER BY "COD_IND") WHERE ROWNUM <= 500`,
			rootAfter: `SELECT * FROM (SELECT TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), "LIB", TO_CHAR("NOT", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), DBMS_LOB.GETLENGTH("PHO"), CASE WHEN DBMS_LOB.GETLENGTH("PHO") <= 2000 THEN DBMS_LOB.SUBSTR("PHO", 2000, 1) END, ROWIDTOCHAR(ROWID) FROM "INDIVIDU" WHERE ("COD_IND" > 0) AND "COD_IND" IS NOT NULL AND "COD_IND" > :1 ORDER BY "COD_IND") WHERE ROWNUM <= 500`,
			kid:       `SELECT TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), "COD_ANU", TO_CHAR("COD_IND", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,'''), TO_CHAR("NOT", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,''') FROM "INS_ADM_ANU" WHERE "COD_IND" >= :1 AND "COD_IND" <= :2 ORDER BY "COD_IND", "COD_ANU"`,
			chunk:     `SELECT DBMS_LOB.SUBSTR("PHO", :1, :2) FROM "INDIVIDU" WHERE ROWID = CHARTOROWID(:3)`,
		},
	}
	for _, c := range cases {
		t.Run(c.d.name(), func(t *testing.T) {
			col := func(n string) Column {
				scale := declaredScale(c.kinds[n])
				if c.d.name() == "oracle" && n == "COD_IND" {
					scale = 0 // NUMBER(8,0) as ALL_TAB_COLUMNS reports it
				}
				return Column{Name: n, DBType: c.kinds[n], Kind: c.d.kind(c.kinds[n], scale)}
			}
			root := TableInfo{Name: "INDIVIDU", Columns: []Column{col("COD_IND"), col("LIB"), col("NOT"), col("PHO")}}
			kid := TableInfo{Name: "INS_ADM_ANU", Columns: []Column{col("COD_ANU"), col("COD_IND"), col("NOT")}}
			class := Spec{Name: "etudiant", Root: Table{Name: "INDIVIDU", Key: "COD_IND", Where: `"COD_IND" > 0`},
				Children: []Child{{Table: Table{Name: "INS_ADM_ANU"}, JoinColumn: "COD_IND", OrderBy: []string{"COD_IND", "COD_ANU"}}}}
			rp, err := buildTablePlan(c.d, "test", root, class.Name, class.Root, "COD_IND", nil, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			kp, err := buildTablePlan(c.d, "test", kid, class.Name, class.Children[0].Table, "COD_IND", class.Children[0].OrderBy, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &plan{class: class, root: rp, kids: []tablePlan{kp}}
			for _, chk := range []struct{ name, got, want string }{
				{"first root batch", rootSQL(c.d, p, false, 500), c.rootFirst},
				{"next root batch", rootSQL(c.d, p, true, 500), c.rootAfter},
				{"child range", kp.sql, c.kid},
				{"LOB chunk", rp.chunk[3], c.chunk},
			} {
				if chk.got != chk.want {
					t.Errorf("%s:\n got %s\nwant %s", chk.name, chk.got, chk.want)
				}
				if strings.Contains(chk.got, "OFFSET") {
					t.Errorf("%s pages with OFFSET", chk.name)
				}
			}
		})
	}
}

func TestDialectKinds(t *testing.T) {
	cases := []struct {
		d     dialect
		typ   string
		scale int
		want  Kind
	}{
		{oracleDialect{}, "NUMBER", 0, KindInteger},
		{oracleDialect{}, "NUMBER", 2, KindDecimal},
		{oracleDialect{}, "NUMBER", -1, KindDecimal}, // NUMBER without precision: any value
		{oracleDialect{}, "VARCHAR2", -1, KindText},
		{oracleDialect{}, "NVARCHAR2", -1, KindText},
		{oracleDialect{}, "CHAR", -1, KindText},
		{oracleDialect{}, "DATE", -1, KindTimestamp},
		{oracleDialect{}, "TIMESTAMP(6)", -1, KindTimestamp},
		{oracleDialect{}, "TIMESTAMP(6) WITH TIME ZONE", -1, KindTimestamp},
		{oracleDialect{}, "BLOB", -1, KindBinary},
		{oracleDialect{}, "RAW", -1, KindBinary},
		{oracleDialect{}, "CLOB", -1, KindCLOB},
		{oracleDialect{}, "NCLOB", -1, KindCLOB},
		{oracleDialect{}, "BINARY_DOUBLE", -1, KindFloat},
		{postgresDialect{}, "integer", -1, KindInteger},
		{postgresDialect{}, "bigint", -1, KindInteger},
		{postgresDialect{}, "numeric(6,3)", 3, KindDecimal},
		{postgresDialect{}, "timestamp without time zone", -1, KindTimestamp},
		{postgresDialect{}, "timestamp(3) with time zone", -1, KindTimestamp},
		{postgresDialect{}, "date", -1, KindDate},
		{postgresDialect{}, "bytea", -1, KindBinary},
		{postgresDialect{}, "character(4)", -1, KindText},
		{postgresDialect{}, "jsonb", -1, KindText},
		{postgresDialect{}, "boolean", -1, KindBool},
		{postgresDialect{}, "double precision", -1, KindFloat},
		{sqliteDialect{}, "INTEGER", -1, KindInteger},
		{sqliteDialect{}, "NUMERIC(6,3)", 3, KindDecimal},
		{sqliteDialect{}, "NUMERIC(8)", 0, KindInteger},
		{sqliteDialect{}, "DATE", -1, KindDate},
		{sqliteDialect{}, "TIMESTAMP", -1, KindTimestamp},
		{sqliteDialect{}, "BLOB", -1, KindBinary},
		{sqliteDialect{}, "CLOB", -1, KindCLOB},
		{sqliteDialect{}, "VARCHAR(30)", -1, KindText},
		{sqliteDialect{}, "", -1, KindText},
	}
	for _, c := range cases {
		if got := c.d.kind(c.typ, c.scale); got != c.want {
			t.Errorf("%s %q scale %d: got %s, want %s", c.d.name(), c.typ, c.scale, got, c.want)
		}
	}
	if !oracleLocal("DATE") || !oracleLocal("TIMESTAMP(6)") || oracleLocal("TIMESTAMP(6) WITH TIME ZONE") || oracleLocal("TIMESTAMP(6) WITH LOCAL TIME ZONE") {
		t.Error("oracleLocal: DATE and TIMESTAMP are wall clocks, the TIME ZONE variants are not")
	}
}

func TestOracleSnapshotStatements(t *testing.T) {
	if len(oracleInit) != 3 || oracleInit[0] != "SET TRANSACTION READ ONLY" {
		t.Fatalf("SET TRANSACTION READ ONLY must open the transaction: %q", oracleInit)
	}
	if !strings.Contains(oracleDescribeSQL, "ALL_TAB_COLUMNS") || !strings.Contains(oraclePrimaryKeySQL, "CONSTRAINT_TYPE = 'P'") {
		t.Fatal("describe SQL")
	}
}

func TestQuoteDoublesQuotesAndSplitsSchema(t *testing.T) {
	if got := (postgresDialect{}).quote(`APOGEE.IND"X`); got != `"APOGEE"."IND""X"` {
		t.Fatalf("got %s", got)
	}
}
