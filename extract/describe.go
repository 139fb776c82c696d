package extract

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// describe reads a table's columns, comments and primary key from the database's catalogue. The
// table is found as the database resolves an unquoted name (see names.go): its result is named as
// the class names it, with the database's own name in SourceName when they differ. A table that is
// not there is a *MissingTableError.
func (s *sqlSource) describe(ctx context.Context, q querier, table string) (TableInfo, error) {
	tried := []string{table}
	exact, err := s.describeExact(ctx, q, table)
	if err != nil {
		return exact, err
	}
	if folded := foldParts(s.d, table); folded != table && s.d.name() != "sqlite" {
		tried = append(tried, folded)
		f, err := s.describeExact(ctx, q, folded)
		if err != nil {
			return f, err
		}
		switch {
		case len(exact.Columns) > 0 && len(f.Columns) > 0:
			return TableInfo{}, &AmbiguousNameError{What: "table", Name: table, Exact: table, Folded: folded, Where: s.where, Folding: s.d.folding()}
		case len(f.Columns) > 0:
			exact = f
		}
	}
	if len(exact.Columns) == 0 {
		return exact, &MissingTableError{Table: table, Where: s.where, Tried: tried, Folding: s.d.folding()}
	}
	if exact.Name != table {
		exact.SourceName = exact.Name
	}
	exact.Name = table
	return exact, nil
}

// describeExact describes the table the database names exactly so (on SQLite: in any case), with
// the database's own spelling in Name; no columns when there is none.
func (s *sqlSource) describeExact(ctx context.Context, q querier, table string) (TableInfo, error) {
	ti := TableInfo{Name: table}
	var err error
	switch s.d.name() {
	case "sqlite":
		err = s.describeSQLite(ctx, q, &ti)
	case "postgres":
		err = s.describePostgres(ctx, q, &ti)
	case "oracle":
		err = s.describeOracle(ctx, q, &ti)
	}
	if err != nil {
		return ti, s.errf(err, "%s: describe table %s", s.where, table)
	}
	return ti, nil
}

func (s *sqlSource) describeSQLite(ctx context.Context, q querier, ti *TableInfo) error {
	if !strings.Contains(ti.Name, ".") {
		// SQLite ignores case in names: take the table's name as it was created.
		var name string
		err := q.QueryRowContext(ctx, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE", ti.Name).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ti.Name = name
	}
	rows, err := q.QueryContext(ctx, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid", ti.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	type pkcol struct {
		name string
		pos  int
	}
	var pks []pkcol
	for rows.Next() {
		var name, typ string
		var notnull, pk int
		if err := rows.Scan(&name, &typ, &notnull, &pk); err != nil {
			return err
		}
		c := Column{Name: name, DBType: typ, Nullable: notnull == 0}
		c.Kind = s.d.kind(typ, declaredScale(typ))
		if c.Kind == KindTimestamp {
			c.Local = !strings.Contains(strings.ToUpper(typ), "TIME ZONE") && !strings.Contains(strings.ToUpper(typ), "TZ")
		}
		if pk > 0 {
			pks = append(pks, pkcol{name, pk})
			if strings.EqualFold(typ, "INTEGER") {
				c.Nullable = false
			}
		}
		ti.Columns = append(ti.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ti.PrimaryKey = make([]string, len(pks))
	for _, p := range pks {
		ti.PrimaryKey[p.pos-1] = p.name
	}
	return nil
}

// declaredScale reads the scale of "NUMERIC(8,2)" (2), "NUMERIC(8)" (0); -1 when not declared.
func declaredScale(typ string) int {
	_, args, ok := strings.Cut(typ, "(")
	if !ok {
		return -1
	}
	args = strings.TrimSuffix(strings.TrimSpace(args), ")")
	_, sc, ok := strings.Cut(args, ",")
	if !ok {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(sc), "%d", &n); err != nil {
		return -1
	}
	return n
}

func (s *sqlSource) describePostgres(ctx context.Context, q querier, ti *TableInfo) error {
	rel := s.d.quote(ti.Name)
	rows, err := q.QueryContext(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
		coalesce(col_description(a.attrelid, a.attnum), ''), coalesce(obj_description(a.attrelid, 'pg_class'), ''),
		coalesce((SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary), 0)
		FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, rel)
	if err != nil {
		return err
	}
	defer rows.Close()
	pk := map[int]string{}
	for rows.Next() {
		var c Column
		var tcomment string
		var pkpos int
		if err := rows.Scan(&c.Name, &c.DBType, &c.Nullable, &c.Comment, &tcomment, &pkpos); err != nil {
			return err
		}
		ti.Comment = tcomment
		c.Kind = s.d.kind(c.DBType, declaredScale(c.DBType))
		if c.Kind == KindTimestamp {
			c.Local = !strings.Contains(c.DBType, "with time zone")
		}
		if pkpos > 0 {
			pk[pkpos] = c.Name
		}
		ti.Columns = append(ti.Columns, c)
	}
	for i := 1; i <= len(pk); i++ {
		ti.PrimaryKey = append(ti.PrimaryKey, pk[i])
	}
	return rows.Err()
}

// oracleDescribeSQL reads columns with their comments; the owner is the schema part of "S.T" or
// the connected user.
const oracleDescribeSQL = `SELECT c.COLUMN_NAME, c.DATA_TYPE, NVL(c.DATA_SCALE, -1), c.NULLABLE, NVL(m.COMMENTS, ' ')
FROM ALL_TAB_COLUMNS c LEFT JOIN ALL_COL_COMMENTS m
  ON m.OWNER = c.OWNER AND m.TABLE_NAME = c.TABLE_NAME AND m.COLUMN_NAME = c.COLUMN_NAME
WHERE c.OWNER = NVL(:1, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')) AND c.TABLE_NAME = :2
ORDER BY c.COLUMN_ID`

const oraclePrimaryKeySQL = `SELECT cc.COLUMN_NAME FROM ALL_CONSTRAINTS k
JOIN ALL_CONS_COLUMNS cc ON cc.OWNER = k.OWNER AND cc.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.CONSTRAINT_TYPE = 'P' AND k.OWNER = NVL(:1, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')) AND k.TABLE_NAME = :2
ORDER BY cc.POSITION`

func (s *sqlSource) describeOracle(ctx context.Context, q querier, ti *TableInfo) error {
	var owner sql.NullString
	table := ti.Name
	if o, t, ok := strings.Cut(ti.Name, "."); ok {
		owner, table = sql.NullString{String: o, Valid: true}, t
	}
	rows, err := q.QueryContext(ctx, oracleDescribeSQL, owner, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c Column
		var scale int
		var nullable string
		if err := rows.Scan(&c.Name, &c.DBType, &scale, &nullable, &c.Comment); err != nil {
			return err
		}
		c.Comment = strings.TrimSpace(c.Comment)
		c.Nullable = nullable == "Y"
		c.Kind = s.d.kind(c.DBType, scale)
		c.Local = c.Kind == KindTimestamp && oracleLocal(c.DBType)
		ti.Columns = append(ti.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	pk, err := q.QueryContext(ctx, oraclePrimaryKeySQL, owner, table)
	if err != nil {
		return err
	}
	defer pk.Close()
	for pk.Next() {
		var n string
		if err := pk.Scan(&n); err != nil {
			return err
		}
		ti.PrimaryKey = append(ti.PrimaryKey, n)
	}
	return pk.Err()
}
