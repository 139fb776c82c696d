package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
)

// Options choose what Generate builds.
type Options struct {
	Profile  string // Apogee or Harpege
	Dossiers int    // number of students or agents
	Seed     uint64 // same seed, same database
	// Clean leaves out the dirty values (control characters, invalid UTF-8, 100 kB comments).
	// Invalid UTF-8 is always left out on PostgreSQL, whose UTF8 databases refuse it.
	Clean bool
	// Progress, if set, is called now and then with the number of dossiers written.
	Progress func(done int)
}

// Stats count what was written.
type Stats struct {
	Dossiers int
	Rows     map[string]int
}

// Emit receives one generated row: table name and values in the table's column order. Values are
// nil, int64, string, extract.Decimal, civil.Date, time.Time (a wall-clock time in UTC) or []byte.
type Emit func(table string, row []any)

// Dossier generates dossier number i (0-based) of a profile and hands its rows to emit. It is what
// Generate inserts, so that a test can compare what it reads with what was written.
func Dossier(profile string, seed uint64, i int, dialect string, clean bool, emit Emit) error {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i)+1)), i: i, dialect: dialect, clean: clean, emit: emit}
	switch profile {
	case Apogee:
		g.student()
	case Harpege:
		g.agent()
	default:
		return fmt.Errorf("demo profile %q: want apogee or harpege", profile)
	}
	return nil
}

// Key is the dossier key of dossier number i.
func Key(i int) int64 { return int64(i) + 1 }

// Generate creates the profile's tables in db (which must be empty of them) and fills them, in one
// transaction, with batched multi-row INSERTs. dialect is "sqlite" or "postgres".
func Generate(ctx context.Context, db *sql.DB, dialect string, opt Options) (Stats, error) {
	ts, err := tables(opt.Profile)
	if err != nil {
		return Stats{}, err
	}
	if dialect != "sqlite" && dialect != "postgres" {
		return Stats{}, fmt.Errorf("demo: dialect %q: want sqlite or postgres", dialect)
	}
	st := Stats{Rows: map[string]int{}}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	byName := map[string]table{}
	for _, t := range ts {
		byName[t.name] = t
		for _, q := range createSQL(dialect, t) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return st, fmt.Errorf("demo: %s: %w", q, err)
			}
		}
	}
	w := &writer{ctx: ctx, tx: tx, dialect: dialect, tables: byName, buf: map[string][][]any{}, stmts: map[string]*sql.Stmt{}, stats: st.Rows}
	defer w.closeStmts()
	catalogue(opt.Profile, w.add)
	for i := 0; i < opt.Dossiers; i++ {
		if err := Dossier(opt.Profile, opt.Seed, i, dialect, opt.Clean, w.add); err != nil {
			return st, err
		}
		if w.err != nil {
			return st, w.err
		}
		if opt.Progress != nil && (i+1)%10000 == 0 {
			opt.Progress(i + 1)
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
	if err := w.flushAll(); err != nil {
		return st, err
	}
	for _, t := range ts {
		if q := indexSQL(t); q != "" {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return st, fmt.Errorf("demo: %s: %w", q, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return st, err
	}
	if dialect == "postgres" {
		_, _ = db.ExecContext(ctx, "ANALYZE")
	}
	st.Dossiers = opt.Dossiers
	return st, nil
}

// writer buffers rows per table and inserts them many per statement.
type writer struct {
	ctx     context.Context
	tx      *sql.Tx
	dialect string
	tables  map[string]table
	buf     map[string][][]any
	stmts   map[string]*sql.Stmt
	stats   map[string]int
	err     error
}

func (w *writer) perStmt(t table) int {
	n := 16000 / len(t.cols) // under SQLite's and PostgreSQL's parameter limits
	if n > 500 {
		n = 500
	}
	return n
}

func (w *writer) add(name string, row []any) {
	if w.err != nil {
		return
	}
	t, ok := w.tables[name]
	if !ok || len(row) != len(t.cols) {
		w.err = fmt.Errorf("demo: bad row for %s (%d values)", name, len(row))
		return
	}
	w.buf[name] = append(w.buf[name], row)
	if len(w.buf[name]) >= w.perStmt(t) {
		w.err = w.flush(name)
	}
}

func (w *writer) stmt(t table, n int) (*sql.Stmt, error) {
	k := t.name + "/" + strconv.Itoa(n)
	if s, ok := w.stmts[k]; ok {
		return s, nil
	}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO "` + t.name + `" VALUES `)
	p := 1
	for r := 0; r < n; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := range t.cols {
			if c > 0 {
				sb.WriteByte(',')
			}
			if w.dialect == "postgres" {
				sb.WriteString("$" + strconv.Itoa(p))
			} else {
				sb.WriteByte('?')
			}
			p++
		}
		sb.WriteByte(')')
	}
	s, err := w.tx.PrepareContext(w.ctx, sb.String())
	if err != nil {
		return nil, fmt.Errorf("demo: prepare insert into %s: %w", t.name, err)
	}
	w.stmts[k] = s
	return s, nil
}

func (w *writer) flush(name string) error {
	rows := w.buf[name]
	if len(rows) == 0 {
		return nil
	}
	t := w.tables[name]
	s, err := w.stmt(t, len(rows))
	if err != nil {
		return err
	}
	args := make([]any, 0, len(rows)*len(t.cols))
	for _, r := range rows {
		for _, v := range r {
			args = append(args, dbValue(v))
		}
	}
	if _, err := s.ExecContext(w.ctx, args...); err != nil {
		return fmt.Errorf("demo: insert into %s: %w", name, err)
	}
	w.stats[name] += len(rows)
	w.buf[name] = rows[:0]
	return nil
}

func (w *writer) flushAll() error {
	if w.err != nil {
		return w.err
	}
	for name := range w.buf {
		if err := w.flush(name); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) closeStmts() {
	for _, s := range w.stmts {
		s.Close()
	}
}

// dbValue is how a generated value is bound: dates and wall-clock timestamps as ISO text, which
// both SQLite (as stored text) and PostgreSQL (parsed into date/timestamp) take without any zone
// conversion.
func dbValue(v any) any {
	switch x := v.(type) {
	case civil.Date:
		return x.String()
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case extract.Decimal:
		return string(x)
	}
	return v
}
