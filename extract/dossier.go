package extract

import (
	"context"
	"io"
	"iter"
)

// Spec describes one kind of dossier in a source: the root table whose rows are the dossiers, and
// the child tables whose rows belong to them. Profiles build it; sources read it.
type Spec struct {
	Name     string
	Profile  string // the profile the class comes from, for messages ("" when none)
	Root     Table
	Children []Child
	// Only, when set, reads the one dossier with this key (int64 or string; text of digits for an
	// integer key), every table filtered on it: what explain needs. A key that cannot be of the
	// key column's kind matches nothing.
	Only Value
}

// Table names a table and which of its rows and columns to read.
type Table struct {
	Name    string
	Key     string   // root: the dossier key column (one column; integer or text)
	Columns []string // empty: all columns, in the table's order
	Where   string   // optional filter, plain SQL that every dialect understands
	// Origin says where the table is named (a profile's "file:line"), for messages.
	Origin string
}

// Child is a table whose rows belong to the dossier whose key is in JoinColumn.
type Child struct {
	Table
	JoinColumn string   // the child's column holding the dossier key
	OrderBy    []string // order of a dossier's rows; empty: the primary key, else all columns
	// Optional marks a table that not every database has (theses, photos): when it is absent the
	// dossiers carry it as Absent with no rows, and Check reports a warning instead of an error.
	Optional bool
}

// Dossier is one unit of archival description: a root row and its rows from child tables.
type Dossier struct {
	Class  string
	Key    Value       // the root row's key value (int64 or string)
	Tables []TableRows // the root table first, then the children in Spec order, empty ones included
}

// TableRows are one table's rows of one dossier.
type TableRows struct {
	Table   string
	Columns []Column
	Rows    [][]Value
	// Absent is true for an optional child table the database does not have: no columns, no rows.
	Absent bool
}

// Column describes a column as the source declares it.
type Column struct {
	// Name is the column's name as the profile spells it (see docs/extract.md, "Names"): the
	// database's own when the profile does not name it and the database keeps it as written.
	Name string
	// SourceName is the database's own name when it differs from Name (a name folded by the
	// database, found from the profile's spelling); "" when they are the same.
	SourceName string
	Kind       Kind
	DBType     string // the database's own type name, for the data dictionary
	Nullable   bool
	Comment    string // the database's comment on the column, when it has one
	// Local is true for a timestamp without time zone (a wall-clock reading): its time.Time is
	// placed in UTC only to carry the fields, and JSON renders it without an offset.
	Local bool
}

// Kind is the family of a column's values, which decides their Go type (see Value).
type Kind string

// Kinds of column.
const (
	KindInteger   Kind = "integer"   // int64
	KindDecimal   Kind = "decimal"   // Decimal (exact)
	KindFloat     Kind = "float"     // float64
	KindText      Kind = "text"      // string, or InvalidText when the bytes are not UTF-8
	KindBool      Kind = "boolean"   // bool
	KindDate      Kind = "date"      // civil.Date
	KindTimestamp Kind = "timestamp" // time.Time, in the zone the database gave, or UTC (documented per dialect)
	KindBinary    Kind = "binary"    // *LOB
	KindCLOB      Kind = "clob"      // *LOB (character data too large to hold)
)

// Value is one column value. Its dynamic type is one of: nil (NULL), int64, Decimal, float64, string,
// InvalidText, KeptText, bool, civil.Date, time.Time, *LOB.
type Value = any

// Decimal is an exact decimal number in its canonical text form ("-12.50"): no float rounding.
type Decimal string

// InvalidText is text whose bytes are not valid UTF-8, kept byte for byte.
type InvalidText []byte

// KeptText is SQLite text that says more than its column's declared kind holds: a time of day or an
// offset in a DATE column ('1950-07-14 00:00:00'), an offset in a TIMESTAMP without time zone, a
// zoneless time in one with. The archived value is the text as the base holds it; As is its
// reading as the declared kind (civil.Date or time.Time), which the retention rules decide from.
type KeptText struct {
	Text string
	As   Value
}

// LOB is a large value read on demand, so that a dossier never holds a photo or a long document in memory.
type LOB struct {
	Table, Column string
	Size          int64 // -1 when unknown before reading
	Open          func(ctx context.Context) (io.ReadCloser, error)
}

// Source yields the dossiers of a database.
type Source interface {
	// Dossiers streams every dossier of class (or the one Spec.Only names) in ascending key
	// order. It reads one snapshot of the database for the whole iteration. A run resumes through
	// its state database (pipeline), never from a key: it reads the source again from the start.
	Dossiers(ctx context.Context, class Spec) iter.Seq2[*Dossier, error]
	// Describe returns the columns of every table of class, for the data dictionary.
	Describe(ctx context.Context, class Spec) ([]TableInfo, error)
	// Dialect names the database kind ("sqlite", "postgres", "oracle").
	Dialect() string
	Close() error
}

// Counter is implemented by sources that can tell cheaply how many dossiers a class holds (the SQL
// sources: one COUNT(*) on the root table), so that a run can show its progress as a fraction.
type Counter interface {
	Count(ctx context.Context, class Spec) (int64, error)
}

// TableInfo is a table's place in the data dictionary.
type TableInfo struct {
	Name string // as the profile names it
	// SourceName is the database's own name when it differs from Name (folded); "" when the same.
	SourceName string
	Comment    string
	Columns    []Column
	PrimaryKey []string // the primary key's columns, when the database declares one
}
