package extract

import (
	"fmt"
	"strconv"
	"strings"
)

// dialect owns what differs between databases: identifier quoting, bind parameters, paging, the
// select expression that brings a column's value out exactly, large-object chunk reads, row
// locators, and the mapping from the database's type names to Kinds.
type dialect interface {
	name() string
	// quote quotes an identifier, keeping its case (Apogée's names are upper case); "S.T" is
	// quoted part by part.
	quote(ident string) string
	// param is the n-th (1-based) bind parameter.
	param(n int) string
	// keyExpr is how a key or ORDER BY column is compared, so that SQL order is bytewise for text
	// (PostgreSQL COLLATE "C") and numeric for numbers, the order Go compares them in.
	keyExpr(col string, k Kind) string
	// limit wraps or completes an ordered SELECT so that it returns at most n rows.
	limit(sel string, n int) string
	// selectExpr is the expression that reads a column so that its value arrives exactly (decimals
	// as text, for instance).
	selectExpr(c Column) string
	// lobSize is the expression giving a large object's size in bytes (NULL for NULL); a LOB is
	// never selected whole in a dossier's query.
	lobSize(c Column) string
	// lobInline brings a LOB's bytes with its row when they are at most inlineLOB bytes, else NULL.
	lobInline(c Column) string
	// locator is an expression identifying a row for later LOB reads within the same snapshot.
	locator() string
	// lobChunkSQL reads `n` bytes from offset `off` (1-based) of the LOB of the row with locator
	// `loc`; lobChunkArgs orders those parameters as the SQL text binds them.
	lobChunkSQL(table string, c Column) string
	lobChunkArgs(loc any, off, n int64) []any
	lobChunk() int
	// fold is how the database stores an unquoted identifier (PostgreSQL: lower case, Oracle:
	// upper case; SQLite keeps the case but ignores it when comparing: lower case here).
	fold(ident string) string
	// folding says it in words, for messages.
	folding() string
	// kind maps a declared type (as describe reports it) to a Kind, with scale < 0 when unknown.
	kind(dbType string, scale int) Kind
}

// inlineLOB is the size up to which a LOB's bytes come with its row instead of being fetched when
// opened: photos are a few kB, and a round trip per photo would cost more than the photo.
const inlineLOB = 64 << 10

func quoteParts(ident string, q byte) string {
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = string(q) + strings.ReplaceAll(p, string(q), string(q)+string(q)) + string(q)
	}
	return strings.Join(parts, ".")
}

// ---- SQLite ------------------------------------------------------------------------------------

type sqliteDialect struct{}

func (sqliteDialect) name() string                    { return "sqlite" }
func (sqliteDialect) quote(s string) string           { return quoteParts(s, '"') }
func (sqliteDialect) param(int) string                { return "?" }
func (sqliteDialect) fold(s string) string            { return strings.ToLower(s) }
func (sqliteDialect) folding() string                 { return "SQLite ignores case in names" }
func (sqliteDialect) keyExpr(c string, _ Kind) string { return c } // BINARY collation: memcmp
func (sqliteDialect) limit(sel string, n int) string {
	return sel + " LIMIT " + strconv.Itoa(n)
}
func (d sqliteDialect) selectExpr(c Column) string {
	if c.Kind == KindDate || c.Kind == KindTimestamp {
		// Unary + is a no-op that hides the declared type from the driver, which would otherwise
		// parse date-like text into a time.Time and drop what the text says beyond it.
		return "+" + d.quote(c.sqlName())
	}
	return d.quote(c.sqlName())
}
func (d sqliteDialect) lobSize(c Column) string {
	return "length(CAST(" + d.quote(c.sqlName()) + " AS BLOB))"
}
func (d sqliteDialect) lobInline(c Column) string {
	q := "CAST(" + d.quote(c.sqlName()) + " AS BLOB)"
	return "CASE WHEN length(" + q + ") <= " + strconv.Itoa(inlineLOB) + " THEN " + q + " END"
}
func (sqliteDialect) locator() string { return "rowid" }
func (d sqliteDialect) lobChunkSQL(table string, c Column) string {
	// CAST to BLOB makes substr count bytes, also for text stored in the column.
	return "SELECT substr(CAST(" + d.quote(c.sqlName()) + " AS BLOB), ?, ?) FROM " + d.quote(table) + " WHERE rowid = ?"
}
func (sqliteDialect) lobChunk() int                            { return 1 << 20 }
func (sqliteDialect) lobChunkArgs(loc any, off, n int64) []any { return []any{off, n, loc} }

// kind follows SQLite's affinity rules (https://sqlite.org/datatype3.html §3.1), refined by the
// names that legacy schemas use for dates and decimals.
func (sqliteDialect) kind(t string, scale int) Kind {
	u := strings.ToUpper(strings.TrimSpace(t))
	base, _, _ := strings.Cut(u, "(")
	base = strings.TrimSpace(base)
	switch {
	case base == "DATE":
		return KindDate
	case strings.Contains(base, "TIMESTAMP") || base == "DATETIME":
		return KindTimestamp
	case base == "BOOLEAN" || base == "BOOL":
		return KindBool
	case strings.Contains(base, "INT"):
		return KindInteger
	case strings.Contains(base, "CLOB"):
		return KindCLOB
	case strings.Contains(base, "CHAR") || strings.Contains(base, "TEXT"):
		return KindText
	case strings.Contains(base, "BLOB") || base == "" || strings.Contains(base, "BINARY") || base == "BYTEA":
		if base == "" {
			return KindText // no declared type: values are whatever was stored; text is the faithful rendering
		}
		return KindBinary
	case strings.Contains(base, "REAL") || strings.Contains(base, "FLOA") || strings.Contains(base, "DOUB"):
		return KindFloat
	case base == "NUMERIC" || base == "DECIMAL" || base == "NUMBER":
		if scale == 0 {
			return KindInteger
		}
		return KindDecimal
	}
	return KindText
}

// ---- PostgreSQL --------------------------------------------------------------------------------

type postgresDialect struct{}

func (postgresDialect) name() string          { return "postgres" }
func (postgresDialect) quote(s string) string { return quoteParts(s, '"') }
func (postgresDialect) param(n int) string    { return "$" + strconv.Itoa(n) }
func (postgresDialect) fold(s string) string  { return strings.ToLower(s) }
func (postgresDialect) folding() string {
	return "PostgreSQL folds unquoted names to lower case"
}
func (postgresDialect) keyExpr(c string, k Kind) string {
	if k == KindText {
		return c + ` COLLATE "C"`
	}
	return c
}
func (postgresDialect) limit(sel string, n int) string { return sel + " LIMIT " + strconv.Itoa(n) }
func (d postgresDialect) selectExpr(c Column) string {
	q := d.quote(c.sqlName())
	switch c.Kind {
	case KindDecimal:
		return q + "::text" // exact: numeric's own text form
	case KindText:
		if t := strings.ToLower(c.DBType); !strings.Contains(t, "char") && t != "text" {
			return q + "::text" // json, uuid, interval, …: their canonical text
		}
	}
	return q
}
func (d postgresDialect) lobSize(c Column) string {
	return "octet_length(" + d.quote(c.sqlName()) + ")"
}
func (d postgresDialect) lobInline(c Column) string {
	q := d.quote(c.sqlName())
	return "CASE WHEN octet_length(" + q + ") <= " + strconv.Itoa(inlineLOB) + " THEN " + q + " END"
}
func (postgresDialect) locator() string { return "ctid::text" }
func (d postgresDialect) lobChunkSQL(table string, c Column) string {
	// A ctid names the tuple version this snapshot sees; it stays valid for the snapshot's life.
	return "SELECT substring(" + d.quote(c.sqlName()) + " FROM $2 FOR $3) FROM " + d.quote(table) + " WHERE ctid = $1::tid"
}
func (postgresDialect) lobChunk() int                            { return 1 << 20 }
func (postgresDialect) lobChunkArgs(loc any, off, n int64) []any { return []any{loc, off, n} }
func (postgresDialect) kind(t string, scale int) Kind {
	u := strings.ToLower(strings.TrimSpace(t))
	base, _, _ := strings.Cut(u, "(")
	base = strings.TrimSpace(base)
	switch {
	case base == "smallint" || base == "integer" || base == "bigint" || base == "int2" || base == "int4" || base == "int8":
		return KindInteger
	case base == "numeric" || base == "decimal":
		return KindDecimal
	case base == "real" || base == "double precision" || base == "float4" || base == "float8":
		return KindFloat
	case base == "boolean" || base == "bool":
		return KindBool
	case base == "date":
		return KindDate
	case strings.HasPrefix(base, "timestamp"):
		return KindTimestamp
	case base == "bytea":
		return KindBinary
	}
	return KindText
}

// ---- Oracle ------------------------------------------------------------------------------------

// oracleDialect is unit-tested for its SQL text and type mapping only: no Oracle server could be had
// to prove it live.
type oracleDialect struct{}

func (oracleDialect) name() string          { return "oracle" }
func (oracleDialect) quote(s string) string { return quoteParts(s, '"') }
func (oracleDialect) param(n int) string    { return ":" + strconv.Itoa(n) }
func (oracleDialect) fold(s string) string  { return strings.ToUpper(s) }
func (oracleDialect) folding() string       { return "Oracle folds unquoted names to upper case" }

// keyExpr: the session is set to NLS_SORT=BINARY and NLS_COMP=BINARY when the snapshot opens, so
// plain comparisons are bytewise (a French NLS_SORT would order linguistically).
func (oracleDialect) keyExpr(c string, _ Kind) string { return c }

// limit uses ROWNUM over an ordered subquery, which every Oracle version (11g included) honours.
func (oracleDialect) limit(sel string, n int) string {
	return "SELECT * FROM (" + sel + ") WHERE ROWNUM <= " + strconv.Itoa(n)
}
func (d oracleDialect) selectExpr(c Column) string {
	q := d.quote(c.sqlName())
	if c.Kind == KindDecimal || c.Kind == KindInteger {
		// TM9 is the shortest exact text of a NUMBER; the decimal separator is forced to '.'.
		return "TO_CHAR(" + q + ", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,''')"
	}
	return q
}
func (d oracleDialect) lobSize(c Column) string {
	return "DBMS_LOB.GETLENGTH(" + d.quote(c.sqlName()) + ")"
}
func (d oracleDialect) lobInline(c Column) string {
	// In SQL, DBMS_LOB.SUBSTR returns at most a RAW(2000) or a VARCHAR2(4000 bytes).
	n := "2000"
	if c.Kind == KindCLOB {
		n = "1000"
	}
	q := d.quote(c.sqlName())
	return "CASE WHEN DBMS_LOB.GETLENGTH(" + q + ") <= " + n + " THEN DBMS_LOB.SUBSTR(" + q + ", " + n + ", 1) END"
}
func (oracleDialect) locator() string { return "ROWIDTOCHAR(ROWID)" }
func (d oracleDialect) lobChunkSQL(table string, c Column) string {
	// DBMS_LOB.SUBSTR(lob, amount, offset): RAW up to 2000 bytes in SQL for a BLOB.
	return "SELECT DBMS_LOB.SUBSTR(" + d.quote(c.sqlName()) + ", :1, :2) FROM " + d.quote(table) + " WHERE ROWID = CHARTOROWID(:3)"
}
func (oracleDialect) lobChunk() int                            { return 2000 }
func (oracleDialect) lobChunkArgs(loc any, off, n int64) []any { return []any{n, off, loc} }
func (oracleDialect) kind(t string, scale int) Kind {
	u := strings.ToUpper(strings.TrimSpace(t))
	base, _, _ := strings.Cut(u, "(")
	base = strings.TrimSpace(base)
	switch {
	case base == "NUMBER" || base == "INTEGER" || base == "DECIMAL" || base == "NUMERIC":
		if scale == 0 || base == "INTEGER" {
			return KindInteger
		}
		return KindDecimal
	case base == "FLOAT" || base == "BINARY_FLOAT" || base == "BINARY_DOUBLE":
		return KindFloat
	case base == "DATE":
		// An Oracle DATE carries a time of day: it is a wall-clock timestamp without zone.
		return KindTimestamp
	case strings.HasPrefix(base, "TIMESTAMP"):
		return KindTimestamp
	case base == "BLOB" || base == "RAW" || base == "LONG RAW" || base == "BFILE":
		return KindBinary
	case base == "CLOB" || base == "NCLOB":
		return KindCLOB
	}
	return KindText
}

// oracleLocal reports whether an Oracle timestamp type has no zone.
func oracleLocal(t string) bool {
	u := strings.ToUpper(t)
	return u == "DATE" || (strings.HasPrefix(u, "TIMESTAMP") && !strings.Contains(u, "TIME ZONE"))
}

func dialectFor(name string) (dialect, error) {
	switch name {
	case "sqlite":
		return sqliteDialect{}, nil
	case "postgres":
		return postgresDialect{}, nil
	case "oracle":
		return oracleDialect{}, nil
	}
	return nil, fmt.Errorf("no dialect %q: want sqlite, postgres or oracle", name)
}
