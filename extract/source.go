package extract

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/versement/versement/internal/redact"
)

// sqlSource reads dossiers through database/sql, streaming (stream.go) or by batches.
//
// Batched mode (Oracle, or Options.Batched): one read-only transaction holds the snapshot on a
// single connection. For each batch of K root keys it sends one query on the root table (keyset:
// key > last key, ordered, K rows), then one query per child table for the batch's key range
// (lo ≤ join ≤ hi, ordered by join key then the child's order), one table after another. Each
// result set is read to its end before the next query is sent: a connection streams one result set
// at a time, and one connection is the portable way to keep one snapshot. Child rows are attached to
// their dossier by key; the next batch is read while the consumer works on the current one. Memory
// is bounded by two batches whatever the table sizes.
type sqlSource struct {
	db       *sql.DB
	d        dialect
	opt      Options
	secrets  []string
	where    string // the redacted DSN, for messages
	borrowed bool
}

func (s *sqlSource) Dialect() string { return s.d.name() }

func (s *sqlSource) Close() error {
	if s.borrowed {
		return nil
	}
	return s.db.Close()
}

func (s *sqlSource) errf(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), redact.Error(err, s.secrets))
}

// querier is what describe needs: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Describe describes the class's tables, named and spelled as the class names them (see names.go).
// An optional child table the database lacks is left out (Check reports it); every missing
// required table is reported at once, in a *MissingTablesError.
func (s *sqlSource) Describe(ctx context.Context, class Spec) ([]TableInfo, error) {
	tables, err := s.describeClass(ctx, s.db, class)
	if err != nil {
		return nil, err
	}
	var out []TableInfo
	for _, t := range tables {
		if t.absent == nil {
			out = append(out, t.info)
		}
	}
	return out, nil
}

// Check reports how the class's tables stand in the database: an error listing every missing
// required table (a *MissingTablesError), or an ambiguous name; and a warning for each optional
// table that is absent, which a run's plan and report print.
func (s *sqlSource) Check(ctx context.Context, class Spec) ([]Warning, error) {
	tables, err := s.describeClass(ctx, s.db, class)
	if err != nil {
		return nil, err
	}
	var ws []Warning
	for _, t := range tables {
		if t.absent != nil {
			ws = append(ws, Warning{Class: class.Name, Table: t.absent.Table, Origin: t.absent.Origin, Msg: "optional table " + t.absent.Table + " not found (" + t.absent.Detail() + "): its dossiers are archived without it"})
		}
	}
	return ws, nil
}

// Warning is something a run goes on with but must say: an optional table that is absent.
type Warning struct {
	Class, Table string
	Origin       string // where the class names the table ("file:line"), or ""
	Msg          string
}

func (w Warning) String() string {
	if w.Origin != "" {
		return w.Origin + ": " + w.Msg
	}
	return w.Msg
}

// Checker is implemented by sources that can check a class against the database before reading it.
type Checker interface {
	Check(ctx context.Context, class Spec) ([]Warning, error)
}

type describedTable struct {
	info   TableInfo
	absent *MissingTableError // an optional child the database lacks
}

// describeClass describes the root then each child, presented with the class's spelling.
func (s *sqlSource) describeClass(ctx context.Context, q querier, class Spec) ([]describedTable, error) {
	type entry struct {
		t        Table
		key      string
		order    []string
		optional bool
	}
	entries := []entry{{t: class.Root, key: class.Root.Key}}
	for _, ch := range class.Children {
		entries = append(entries, entry{t: ch.Table, key: ch.JoinColumn, order: ch.OrderBy, optional: ch.Optional})
	}
	var out []describedTable
	missing := &MissingTablesError{Class: class.Name}
	for _, e := range entries {
		info, err := s.describe(ctx, q, e.t.Name)
		var m *MissingTableError
		if errors.As(err, &m) {
			m.Class, m.Profile, m.Origin, m.Optional = class.Name, class.Profile, e.t.Origin, e.optional
			if e.optional {
				out = append(out, describedTable{absent: m})
			} else {
				missing.Tables = append(missing.Tables, m)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if info, err = present(s.d, s.where, info, namedColumns(e.t, e.key, e.order)); err != nil {
			return nil, err
		}
		out = append(out, describedTable{info: info})
	}
	if len(missing.Tables) > 0 {
		return nil, missing
	}
	return out, nil
}

// begin opens the snapshot.
func (s *sqlSource) begin(ctx context.Context) (*sql.Tx, error) {
	var opts *sql.TxOptions
	switch s.d.name() {
	case "postgres":
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, s.errf(err, "%s: begin read snapshot", s.where)
	}
	var init []string
	switch s.d.name() {
	case "oracle":
		// SET TRANSACTION must come first; ALTER SESSION does not end a transaction.
		init = oracleInit
	case "sqlite":
		// A deferred transaction takes its snapshot at the first read: read now, so that the
		// snapshot is the one of the start of the run.
		init = []string{"SELECT count(*) FROM sqlite_master"}
	case "postgres":
		// Custom plans: a generic plan of a prepared range query guesses the range's size and may
		// pick a full scan for every batch.
		init = []string{"SET LOCAL TimeZone = 'UTC'", "SET LOCAL plan_cache_mode = force_custom_plan"}
	}
	for _, q := range init {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tx.Rollback()
			return nil, s.errf(err, "%s: %s", s.where, q)
		}
	}
	return tx, nil
}

// oracleInit opens an Oracle read snapshot: transaction-level read consistency, bytewise order.
var oracleInit = []string{"SET TRANSACTION READ ONLY", "ALTER SESSION SET NLS_SORT=BINARY", "ALTER SESSION SET NLS_COMP=BINARY"}

// tablePlan is one table's query and how to turn its rows into a TableRows.
type tablePlan struct {
	info    TableInfo
	cols    []Column // the columns a dossier shows, in order
	lobs    []bool   // per column: read as a LOB (size + locator), not as a value
	keyKind Kind     // kind of the key (root) or join column (child)
	key     Column   // the key (root) or join column (child)
	absent  bool     // an optional child the database lacks: no query, no rows
	sql     string
	chunk   []string // per LOB column: the chunk query
	width   int      // values per result row
	// stream reads the whole table in key order.
	stream string
}

type plan struct {
	class Spec
	root  tablePlan
	kids  []tablePlan
}

func (s *sqlSource) makePlan(ctx context.Context, q querier, class Spec) (*plan, error) {
	if class.Root.Name == "" || class.Root.Key == "" {
		return nil, fmt.Errorf("class %q: the root table and its key column are required", class.Name)
	}
	for _, ch := range class.Children {
		if ch.JoinColumn == "" {
			return nil, fmt.Errorf("class %q: child table %s has no join column", class.Name, ch.Name)
		}
	}
	tables, err := s.describeClass(ctx, q, class)
	if err != nil {
		return nil, err
	}
	p := &plan{class: class}
	p.root, err = buildTablePlan(s.d, s.where, tables[0].info, class.Name, class.Root, class.Root.Key, nil, true, class.Only)
	if err != nil {
		return nil, err
	}
	for i, ch := range class.Children {
		if tables[1+i].absent != nil {
			p.kids = append(p.kids, tablePlan{absent: true, info: TableInfo{Name: ch.Name}})
			continue
		}
		tp, err := buildTablePlan(s.d, s.where, tables[1+i].info, class.Name, ch.Table, ch.JoinColumn, ch.OrderBy, false, class.Only)
		if err != nil {
			return nil, err
		}
		p.kids = append(p.kids, tp)
	}
	return p, nil
}

// buildTablePlan writes a table's query from its description: pure, so that each dialect's SQL
// text is unit-tested without a server.
func buildTablePlan(d dialect, src string, info TableInfo, className string, t Table, keyCol string, orderBy []string, root bool, only Value) (tablePlan, error) {
	tp := tablePlan{info: info}
	column := func(n, what string) (Column, error) {
		c, ok, err := resolveColumn(d, src, info, n)
		if err != nil {
			return c, err
		}
		if !ok {
			return c, fmt.Errorf("class %q: table %s has no column %s%s", className, t.Name, n, what)
		}
		return c, nil
	}
	if len(t.Columns) == 0 {
		tp.cols = info.Columns
	} else {
		for _, n := range t.Columns {
			c, err := column(n, "")
			if err != nil {
				return tp, err
			}
			tp.cols = append(tp.cols, c)
		}
	}
	key, err := column(keyCol, "")
	if err != nil {
		return tp, err
	}
	tp.keyKind, tp.key = key.Kind, key
	if key.Kind != KindInteger && key.Kind != KindText {
		return tp, fmt.Errorf("class %q: key column %s.%s is %s (%s): a dossier key must be an integer or text", className, t.Name, key.Name, key.Kind, key.DBType)
	}
	kq := d.quote(key.sqlName())
	table := d.quote(info.sqlName())
	sel := []string{d.selectExpr(key)}
	hasLOB := false
	for _, c := range tp.cols {
		lob := c.Kind == KindBinary || c.Kind == KindCLOB
		tp.lobs = append(tp.lobs, lob)
		if lob {
			hasLOB = true
			sel = append(sel, d.lobSize(c), d.lobInline(c))
			tp.chunk = append(tp.chunk, d.lobChunkSQL(info.sqlName(), c))
		} else {
			sel = append(sel, d.selectExpr(c))
			tp.chunk = append(tp.chunk, "")
		}
	}
	if hasLOB {
		sel = append(sel, d.locator())
	}
	tp.width = len(sel)
	var where []string
	if t.Where != "" {
		where = append(where, "("+t.Where+")")
	}
	var onlyCond string
	if only != nil {
		onlyCond = kq + " = " + keyLiteral(only, key.Kind)
		where = append(where, onlyCond)
	}
	order := []string{d.keyExpr(kq, key.Kind)}
	if root {
		// Two variants (first batch / after a key) are built at run time from this base.
		where = append(where, kq+" IS NOT NULL")
	} else {
		where = append(where, d.keyExpr(kq, key.Kind)+" >= "+d.keyExpr(d.param(1), key.Kind), d.keyExpr(kq, key.Kind)+" <= "+d.keyExpr(d.param(2), key.Kind))
		if len(orderBy) == 0 {
			orderBy = info.PrimaryKey
		}
		if len(orderBy) == 0 {
			for i, c := range tp.cols {
				if !tp.lobs[i] {
					orderBy = append(orderBy, c.Name)
				}
			}
		}
		for _, o := range orderBy {
			c, err := column(o, " (in its order)")
			if err != nil {
				return tp, err
			}
			if c.sqlName() != key.sqlName() {
				order = append(order, d.keyExpr(d.quote(c.sqlName()), c.Kind))
			}
		}
	}
	tp.sql = "SELECT " + strings.Join(sel, ", ") + " FROM " + table + " WHERE " + strings.Join(where, " AND ")
	if !root {
		tp.sql += " ORDER BY " + strings.Join(order, ", ")
	}
	// The streaming form: the whole table, in key order, no range.
	var sw []string
	if t.Where != "" {
		sw = append(sw, "("+t.Where+")")
	}
	if onlyCond != "" {
		sw = append(sw, onlyCond)
	}
	sw = append(sw, kq+" IS NOT NULL")
	tp.stream = "SELECT " + strings.Join(sel, ", ") + " FROM " + table + " WHERE " + strings.Join(sw, " AND ") + " ORDER BY " + strings.Join(order, ", ")
	return tp, nil
}

// keyLiteral writes the key of Spec.Only as an SQL literal of the key's kind: a number, or text
// with its quotes doubled; a key that cannot be of that kind matches nothing.
func keyLiteral(v Value, k Kind) string {
	if k == KindInteger {
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10)
		case int:
			return strconv.Itoa(x)
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return strconv.FormatInt(n, 10)
			}
		}
		return "NULL" // = NULL is never true
	}
	s, ok := keyString(v)
	if !ok {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// rootSQL is the root query of one batch: the first one, or the one after key `after`.
func (s *sqlSource) rootSQL(p *plan, after bool) string {
	return rootSQL(s.d, p, after, s.opt.BatchSize)
}

func rootSQL(d dialect, p *plan, after bool, batch int) string {
	kq := d.keyExpr(d.quote(p.root.key.sqlName()), p.root.key.Kind)
	q := p.root.sql
	if after {
		q += " AND " + kq + " > " + d.keyExpr(d.param(1), p.root.key.Kind)
	}
	return d.limit(q+" ORDER BY "+kq, batch)
}

// run is one iteration's state: the snapshot, and the lock that keeps LOB reads from interleaving
// with the batch queries on the single connection.
type run struct {
	mu    sync.Mutex
	tx    *sql.Tx
	ended bool
}

func (s *sqlSource) Dossiers(ctx context.Context, class Spec) iter.Seq2[*Dossier, error] {
	if !s.opt.Batched && s.d.name() != "oracle" {
		return s.streamDossiers(ctx, class)
	}
	return func(yield func(*Dossier, error) bool) {
		tx, err := s.begin(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		r := &run{tx: tx}
		p, err := s.makePlan(ctx, tx, class)
		if err != nil {
			_ = tx.Rollback()
			yield(nil, err)
			return
		}
		// The next batch is read while the consumer works on the current one: the database's time
		// and ours overlap. The hand-over is unbuffered, so at most two batches are held.
		type result struct {
			batch []*Dossier
			err   error
		}
		pctx, cancel := context.WithCancel(ctx)
		next := make(chan result)
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Keyset pagination: each batch is read after the last key of the one before.
			var after Value
			for {
				b, err := s.batch(pctx, r, p, after)
				if len(b) > 0 {
					after = b[len(b)-1].Key // before the hand-over: the consumer clears b
				}
				select {
				case next <- result{b, err}:
				case <-pctx.Done():
					return
				}
				if err != nil || len(b) == 0 {
					return
				}
			}
		}()
		defer func() {
			cancel()
			<-done
			r.mu.Lock()
			r.ended = true
			_ = tx.Rollback() // read-only: nothing to commit
			r.mu.Unlock()
		}()
		for {
			res := <-next
			if res.err != nil {
				yield(nil, res.err)
				return
			}
			if len(res.batch) == 0 {
				return
			}
			for i, d := range res.batch {
				res.batch[i] = nil // the consumer's reference is then the only one
				if !yield(d, nil) {
					return
				}
			}
		}
	}
}

func normalizeKey(v Value, k Kind) (Value, error) {
	switch k {
	case KindInteger:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			return int64(x), nil
		}
	case KindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case InvalidText:
			return string(x), nil
		}
	}
	return nil, fmt.Errorf("key %v (%T) does not fit a %s key", v, v, k)
}

// keyString is a key's identity for attaching child rows (equality only; order is SQL's).
func keyString(v Value) (string, bool) {
	switch x := v.(type) {
	case int64:
		return fmt.Sprint(x), true
	case string:
		return x, true
	case InvalidText:
		return string(x), true
	case Decimal:
		return string(x), true
	}
	return "", false
}

func (s *sqlSource) batch(ctx context.Context, r *run, p *plan, after Value) ([]*Dossier, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var args []any
	if after != nil {
		args = append(args, after)
	}
	q := s.rootSQL(p, after != nil)
	var out []*Dossier
	index := map[string]int{}
	err := s.scan(ctx, r, q, args, &p.root, func(key Value, row []Value) error {
		k, ok := keyString(key)
		if !ok {
			return fmt.Errorf("root key %v of type %T", key, key)
		}
		d := &Dossier{Class: p.class.Name, Key: key, Tables: make([]TableRows, 1+len(p.kids))}
		d.Tables[0] = TableRows{Table: p.class.Root.Name, Columns: p.root.cols, Rows: [][]Value{row}}
		for i := range p.kids {
			d.Tables[1+i] = TableRows{Table: p.class.Children[i].Name, Columns: p.kids[i].cols, Absent: p.kids[i].absent}
		}
		index[k] = len(out)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	lo, hi := out[0].Key, out[len(out)-1].Key
	for i := range p.kids {
		kp := &p.kids[i]
		if kp.absent {
			continue
		}
		loK, err1 := normalizeKey(lo, kp.keyKind)
		hiK, err2 := normalizeKey(hi, kp.keyKind)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("class %q: child %s: join column %s is %s but the root key is %s", p.class.Name, p.class.Children[i].Name, p.class.Children[i].JoinColumn, kp.keyKind, p.root.keyKind)
		}
		err := s.scan(ctx, r, kp.sql, []any{loK, hiK}, kp, func(key Value, row []Value) error {
			k, _ := keyString(key)
			if j, ok := index[k]; ok {
				t := &out[j].Tables[1+i]
				t.Rows = append(t.Rows, row)
			}
			// else: a row whose root is filtered out by the root's Where, or an orphan.
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlSource) scan(ctx context.Context, r *run, q string, args []any, tp *tablePlan, each func(key Value, row []Value) error) error {
	return s.scanOn(ctx, r.tx, r, q, args, tp, each)
}

// scanOn runs q on tx (which may differ from the run's LOB transaction) and hands each row over.
func (s *sqlSource) scanOn(ctx context.Context, tx querier, r *run, q string, args []any, tp *tablePlan, each func(key Value, row []Value) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return s.errf(err, "%s: query %s", s.where, tp.info.Name)
	}
	defer rows.Close()
	n := tp.width
	raw := make([]any, n)
	ptrs := make([]any, n)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	keyColumn := Column{Name: "key", Kind: tp.keyKind}
	var slab []Value
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s.errf(err, "%s: read %s", s.where, tp.info.Name)
		}
		key, err := convert(&keyColumn, raw[0])
		if err != nil {
			return fmt.Errorf("%s: %w", tp.info.Name, err)
		}
		if len(slab) < len(tp.cols) {
			slab = make([]Value, len(tp.cols)*streamChunk) // one allocation for many rows
		}
		row := slab[:len(tp.cols):len(tp.cols)]
		slab = slab[len(tp.cols):]
		j := 1
		for i := range tp.cols {
			v := raw[j]
			j++
			if tp.lobs[i] {
				inline := raw[j]
				j++
				if v == nil {
					continue
				}
				size, err := convert(&Column{Name: tp.cols[i].Name, Kind: KindInteger}, v)
				if err != nil {
					return err
				}
				sz, _ := size.(int64)
				if s.d.name() == "oracle" && tp.cols[i].Kind == KindCLOB {
					sz = -1 // DBMS_LOB.GETLENGTH counts characters
				}
				row[i] = s.newLOB(r, tp, i, raw[n-1], sz, inline)
				continue
			}
			if row[i], err = convert(&tp.cols[i], v); err != nil {
				return fmt.Errorf("%s: %w", tp.info.Name, err)
			}
		}
		if err := each(key, row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.errf(err, "%s: read %s", s.where, tp.info.Name)
	}
	return nil
}

func (s *sqlSource) newLOB(r *run, tp *tablePlan, col int, loc any, size int64, inline any) *LOB {
	if b, ok := loc.([]byte); ok {
		loc = string(b)
	}
	c := tp.cols[col]
	table := tp.info.Name
	if small, ok := lobBytes(inline); ok {
		// Small enough to have come with the row (a photo): no round trip, and memory stays bounded
		// by the batch size times the inline limit.
		if size < 0 {
			size = int64(len(small))
		}
		return &LOB{Table: table, Column: c.Name, Size: size, Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(small)), nil
		}}
	}
	q := tp.chunk[col]
	return &LOB{Table: table, Column: c.Name, Size: size, Open: func(ctx context.Context) (io.ReadCloser, error) {
		return &lobReader{ctx: ctx, s: s, r: r, q: q, loc: loc, size: size, chars: s.d.name() == "oracle" && c.Kind == KindCLOB, what: table + "." + c.Name}, nil
	}}
}

func lobBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}

// lobReader reads a LOB in chunks of the dialect's size with one query each, inside the run's
// snapshot: database/sql hands a column's value over whole (Scan copies it into one []byte), so the
// only way to stream a large value through it is to ask the database for slices of it.
type lobReader struct {
	ctx   context.Context
	s     *sqlSource
	r     *run
	q     string
	loc   any
	size  int64
	chars bool
	off   int64 // 1-based offset of the next chunk (bytes, or characters for an Oracle CLOB)
	buf   []byte
	eof   bool
	what  string
}

func (l *lobReader) Read(p []byte) (int, error) {
	if len(l.buf) == 0 {
		if l.eof {
			return 0, io.EOF
		}
		if err := l.fill(); err != nil {
			return 0, err
		}
		if len(l.buf) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

func (l *lobReader) fill() error {
	if l.off == 0 {
		l.off = 1
	}
	n := int64(l.s.d.lobChunk())
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	if l.r.ended {
		return fmt.Errorf("%s: %w", l.what, errLOBAfterEnd)
	}
	var chunk []byte
	err := l.r.tx.QueryRowContext(l.ctx, l.q, l.s.d.lobChunkArgs(l.loc, l.off, n)...).Scan(&chunk)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: the row is gone from the snapshot", l.what)
	}
	if err != nil {
		return l.s.errf(err, "%s: read LOB %s", l.s.where, l.what)
	}
	if l.chars {
		l.off += int64(utf8.RuneCount(chunk))
	} else {
		l.off += int64(len(chunk))
	}
	if int64(len(chunk)) < n || (l.size >= 0 && l.off > l.size) {
		l.eof = true
	}
	l.buf = chunk
	return nil
}

func (l *lobReader) Close() error { l.buf, l.eof = nil, true; return nil }

// Count returns how many dossiers of class the source holds (root rows passing the root's filter),
// for a progress bar's ETA. It reads outside the iteration's snapshot: an estimate, not a promise.
func (s *sqlSource) Count(ctx context.Context, class Spec) (int64, error) {
	info, err := s.describe(ctx, s.db, class.Root.Name)
	if err != nil {
		return 0, err
	}
	q := "SELECT COUNT(*) FROM " + s.d.quote(info.sqlName())
	if class.Root.Where != "" {
		q += " WHERE (" + class.Root.Where + ")"
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, s.errf(err, "count %s", class.Root.Name)
	}
	return n, nil
}
