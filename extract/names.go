package extract

import (
	"fmt"
	"strings"
)

// Names: a profile spells table and column names one way (Apogée's and Harpège's are upper case, as
// Oracle stores unquoted names); a database may store them another way (a base migrated from
// Oracle to PostgreSQL with unquoted DDL stores individu / cod_ind). A name is resolved as the
// database itself resolves an unquoted identifier: the exact name first, then its folded form
// (lower case on PostgreSQL, upper case on Oracle; SQLite ignores case). When both exist as
// different objects, which one the profile means cannot be known, and it is an error naming both.
// Dossiers and the data dictionary keep the profile's spelling, so that the rules' expressions
// (INS_ADM_ANU, .ETA_IAA) and the templates read them unchanged; SourceName keeps the database's.

// sqlName is the name to put in SQL: the database's own.
func (c Column) sqlName() string {
	if c.SourceName != "" {
		return c.SourceName
	}
	return c.Name
}

func (t TableInfo) sqlName() string {
	if t.SourceName != "" {
		return t.SourceName
	}
	return t.Name
}

// foldParts folds each part of "S.T" as the dialect folds an unquoted identifier.
func foldParts(d dialect, name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = d.fold(p)
	}
	return strings.Join(parts, ".")
}

// MissingTableError is a table of a class that the database does not have.
type MissingTableError struct {
	Class    string
	Profile  string   // the class's profile, or ""
	Table    string   // as the class names it
	Origin   string   // where the class names it ("file:line"), or ""
	Where    string   // the source, redacted
	Tried    []string // the names looked for, in order
	Folding  string   // how the database folds unquoted names, in words
	Optional bool
}

func (e *MissingTableError) Error() string {
	return fmt.Sprintf("%s: table %s not found (%s)", e.Where, e.Table, e.Detail())
}

// Detail names the profile, what was looked for and how the database folds names.
func (e *MissingTableError) Detail() string {
	q := make([]string, len(e.Tried))
	for i, t := range e.Tried {
		q[i] = `"` + t + `"`
	}
	s := "looked for " + strings.Join(q, " and ") + ": " + e.Folding
	if e.Profile != "" {
		s = "profile " + e.Profile + "; " + s
	}
	return s
}

// MissingTablesError lists every required table of a class the database lacks, found in one pass.
type MissingTablesError struct {
	Class  string
	Tables []*MissingTableError
}

func (e *MissingTablesError) Error() string {
	if len(e.Tables) == 1 {
		m := e.Tables[0]
		if m.Origin != "" {
			return m.Origin + ": " + m.Error()
		}
		return m.Error()
	}
	var b strings.Builder
	of := ""
	if e.Tables[0].Profile != "" {
		of = " of profile " + e.Tables[0].Profile
	}
	fmt.Fprintf(&b, "class %q%s: %d tables not found in %s (%s):", e.Class, of, len(e.Tables), e.Tables[0].Where, e.Tables[0].Folding)
	for _, m := range e.Tables {
		b.WriteString("\n  ")
		if m.Origin != "" {
			b.WriteString(m.Origin + ": ")
		}
		b.WriteString(m.Table)
	}
	return b.String()
}

// Unwrap gives each missing table, for errors.As.
func (e *MissingTablesError) Unwrap() []error {
	out := make([]error, len(e.Tables))
	for i, m := range e.Tables {
		out[i] = m
	}
	return out
}

// AmbiguousNameError is a name that matches two objects: the one spelled exactly and its folded form.
type AmbiguousNameError struct {
	What, Name string // What: "table" or "column"; Name: T or T.C
	Exact      string
	Folded     string
	Where      string
	Folding    string
}

func (e *AmbiguousNameError) Error() string {
	return fmt.Sprintf("%s: %s %s is ambiguous: the database has both %q and %q (%s); rename one, or name the table or column as the database spells the one to read", e.Where, e.What, e.Name, e.Exact, e.Folded, e.Folding)
}

// resolveColumn finds the column the profile names: exact, then folded (SQLite: any case).
func resolveColumn(d dialect, where string, info TableInfo, name string) (Column, bool, error) {
	var exact, folded *Column
	f := d.fold(name)
	for i := range info.Columns {
		c := &info.Columns[i]
		switch n := c.sqlName(); {
		case n == name || c.Name == name:
			exact = c
		case n == f || (d.name() == "sqlite" && strings.EqualFold(n, name)):
			if folded == nil {
				folded = c
			}
		}
	}
	switch {
	case exact != nil && folded != nil && exact != folded:
		return Column{}, false, &AmbiguousNameError{What: "column", Name: info.Name + "." + name, Exact: exact.sqlName(), Folded: folded.sqlName(), Where: where, Folding: d.folding()}
	case exact != nil:
		return *exact, true, nil
	case folded != nil:
		return *folded, true, nil
	}
	return Column{}, false, nil
}

// present renames a table's columns to the profile's spelling: the columns the profile names get
// its spelling; the others, when the database keeps them in its folded form (created unquoted) and
// the profile writes its table name in one case, are written in that case (a profile in upper case
// reads cod_ind as COD_IND). Names the database keeps in mixed case (created quoted) are kept.
func present(d dialect, where string, info TableInfo, named []string) (TableInfo, error) {
	out := info
	out.Columns = append([]Column(nil), info.Columns...)
	out.PrimaryKey = append([]string(nil), info.PrimaryKey...)
	var toCase func(string) string
	switch n := info.Name; {
	case n == strings.ToUpper(n) && n != strings.ToLower(n):
		toCase = strings.ToUpper
	case n == strings.ToLower(n) && n != strings.ToUpper(n):
		toCase = strings.ToLower
	}
	for i := range out.Columns {
		c := &out.Columns[i]
		if toCase != nil && c.Name == d.fold(c.Name) {
			if p := toCase(c.Name); p != c.Name {
				c.SourceName, c.Name = c.Name, p
			}
		}
	}
	for _, n := range named {
		if n == "" {
			continue
		}
		c, ok, err := resolveColumn(d, where, out, n)
		if err != nil {
			return out, err
		}
		if !ok || c.Name == n {
			continue // a missing column is reported where it is used
		}
		for i := range out.Columns {
			if out.Columns[i].sqlName() == c.sqlName() {
				src := c.sqlName()
				out.Columns[i].Name = n
				out.Columns[i].SourceName = ""
				if src != n {
					out.Columns[i].SourceName = src
				}
			}
		}
	}
	seen := map[string]string{}
	for _, c := range out.Columns {
		if prev, dup := seen[c.Name]; dup {
			exact, folded := prev, c.sqlName()
			if folded == c.Name {
				exact, folded = folded, exact
			}
			return out, &AmbiguousNameError{What: "column", Name: info.Name + "." + c.Name, Exact: exact, Folded: folded, Where: where, Folding: d.folding()}
		}
		seen[c.Name] = c.sqlName()
	}
	for i, k := range out.PrimaryKey {
		for _, c := range out.Columns {
			if c.sqlName() == k {
				out.PrimaryKey[i] = c.Name
			}
		}
	}
	return out, nil
}

// namedColumns lists the columns a class's table names: key or join column, column list, order.
func namedColumns(t Table, keyCol string, orderBy []string) []string {
	out := append([]string{keyCol}, t.Columns...)
	return append(out, orderBy...)
}
