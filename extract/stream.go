package extract

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"
	"sync"
)

// streamDossiers is the streaming read (SQLite and PostgreSQL): one ordered query per table over
// the whole table (after the resume key), all running at once, merge-joined in Go on the dossier
// key. The database does one index scan per table, as a dump would, and the rows of each table are
// decoded on their own goroutine.
//
// One snapshot for all the queries: on SQLite they are statements of one read transaction on one
// connection (SQLite steps several statements of a connection at once). On PostgreSQL a connection
// streams one result set at a time, so each table gets its own connection, and all of them join the
// snapshot of the first with pg_export_snapshot / SET TRANSACTION SNAPSHOT; the first connection
// stays free for the LOBs read on demand.
//
// Memory: per table at most three chunks of streamChunk rows (being filled, in the channel, being
// merged), and one dossier in the merge. Nothing grows with the tables.
func (s *sqlSource) streamDossiers(ctx context.Context, class Spec) iter.Seq2[*Dossier, error] {
	return func(yield func(*Dossier, error) bool) {
		tx, err := s.begin(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		r := &run{tx: tx}
		var extra []*sql.Tx
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
			for _, t := range extra {
				_ = t.Rollback()
			}
			r.mu.Lock()
			r.ended = true
			_ = tx.Rollback()
			r.mu.Unlock()
		}()
		p, err := s.makePlan(ctx, tx, class)
		for i := 0; err == nil && i < len(p.kids); i++ {
			if k := p.kids[i]; !k.absent && k.keyKind != p.root.keyKind {
				err = fmt.Errorf("class %q: child %s: join column %s is %s but the root key is %s", class.Name, class.Children[i].Name, class.Children[i].JoinColumn, k.keyKind, p.root.keyKind)
			}
		}
		if err != nil {
			yield(nil, err)
			return
		}
		// One querier per table the database has; at[i] is the stream of class table i (-1: absent).
		tables := append([]*tablePlan{&p.root}, nil)[:1]
		at := []int{0}
		for i := range p.kids {
			if p.kids[i].absent {
				at = append(at, -1)
				continue
			}
			at = append(at, len(tables))
			tables = append(tables, &p.kids[i])
		}
		on := make([]querier, len(tables))
		switch s.d.name() {
		case "postgres":
			var snap string
			if err := tx.QueryRowContext(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
				yield(nil, s.errf(err, "%s: export snapshot", s.where))
				return
			}
			// Connections are opened side by side: one after another, their set-up time adds up.
			txs := make([]*sql.Tx, len(tables))
			errs := make([]error, len(tables))
			var open sync.WaitGroup
			for i := range tables {
				open.Add(1)
				go func(i int) {
					defer open.Done()
					t, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
					if err == nil {
						txs[i] = t
						_, err = t.ExecContext(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(snap, "'", "")+"'")
					}
					errs[i] = err
				}(i)
			}
			open.Wait()
			for i, t := range txs {
				if t != nil {
					extra = append(extra, t)
					on[i] = t
				}
			}
			for _, err := range errs {
				if err != nil {
					yield(nil, s.errf(err, "%s: join snapshot", s.where))
					return
				}
			}
		default:
			for i := range tables {
				on[i] = tx
			}
		}
		curs := make([]*cursor, len(tables))
		for i, tp := range tables {
			q, args := tp.stream, []any(nil)
			ch := make(chan rowChunk, 1)
			curs[i] = &cursor{ch: ch, table: tp.info.Name}
			wg.Add(1)
			go func(tp *tablePlan, on querier) {
				defer wg.Done()
				defer close(ch)
				var c rowChunk
				send := func() bool {
					select {
					case ch <- c:
						c = rowChunk{}
						return true
					case <-ctx.Done():
						return false
					}
				}
				err := s.scanOn(ctx, on, r, q, args, tp, func(key Value, row []Value) error {
					if c.rows == nil {
						c.keys, c.rows = make([]Value, 0, streamChunk), make([][]Value, 0, streamChunk)
					}
					c.keys = append(c.keys, key)
					c.rows = append(c.rows, row)
					if len(c.rows) == streamChunk && !send() {
						return ctx.Err()
					}
					return nil
				})
				c.err = err
				if len(c.rows) > 0 || err != nil {
					send()
				}
			}(tp, on[i])
		}
		root := curs[0]
		for {
			key, row, ok, err := root.next()
			if err != nil {
				yield(nil, err)
				return
			}
			if !ok {
				return
			}
			d := &Dossier{Class: class.Name, Key: key, Tables: make([]TableRows, len(at))}
			d.Tables[0] = TableRows{Table: class.Root.Name, Columns: p.root.cols, Rows: [][]Value{row}}
			for i := 1; i < len(at); i++ {
				t := &d.Tables[i]
				if at[i] < 0 {
					*t = TableRows{Table: class.Children[i-1].Name, Absent: true}
					continue
				}
				*t = TableRows{Table: class.Children[i-1].Name, Columns: tables[at[i]].cols}
				c := curs[at[i]]
				for {
					k, ok, err := c.peek()
					if err != nil {
						yield(nil, err)
						return
					}
					if !ok {
						break
					}
					cmp := compareKeys(k, key)
					if cmp > 0 {
						break
					}
					_, crow, _, _ := c.next()
					if cmp == 0 {
						t.Rows = append(t.Rows, crow)
					} // cmp < 0: a row whose root is filtered out by the root's Where, or an orphan
				}
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

const streamChunk = 256

type rowChunk struct {
	keys []Value
	rows [][]Value
	err  error
}

// cursor walks one table's stream and checks that keys come in the order Go compares them in: a
// database collation that disagrees would otherwise make the merge drop rows silently.
type cursor struct {
	ch    <-chan rowChunk
	cur   rowChunk
	i     int
	last  Value
	table string
	done  bool
}

func (c *cursor) fill() error {
	for c.i >= len(c.cur.rows) {
		if c.done {
			return nil
		}
		ch, ok := <-c.ch
		if !ok {
			c.done = true
			c.cur = rowChunk{}
			c.i = 0
			return nil
		}
		if ch.err != nil {
			c.done = true
			return ch.err
		}
		c.cur, c.i = ch, 0
	}
	return nil
}

func (c *cursor) peek() (Value, bool, error) {
	if err := c.fill(); err != nil {
		return nil, false, err
	}
	if c.i >= len(c.cur.rows) {
		return nil, false, nil
	}
	return c.cur.keys[c.i], true, nil
}

func (c *cursor) next() (Value, []Value, bool, error) {
	k, ok, err := c.peek()
	if !ok || err != nil {
		return nil, nil, ok, err
	}
	if c.last != nil && compareKeys(k, c.last) < 0 {
		return nil, nil, false, fmt.Errorf("table %s: key %v came after %v: the database's order is not byte order (check the key column's collation)", c.table, k, c.last)
	}
	c.last = k
	row := c.cur.rows[c.i]
	c.cur.rows[c.i], c.cur.keys[c.i] = nil, nil
	c.i++
	return k, row, true, nil
}

// compareKeys orders keys as the SQL does: integers numerically, text bytewise.
func compareKeys(a, b Value) int {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	as, _ := keyString(a)
	bs, _ := keyString(b)
	return strings.Compare(as, bs)
}
