package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxYears caps the registration years one entry is filed under: a span longer than that is a
// data error, and it must not make one entry cost thousands of rows.
const maxYears = 100

// writeStmts are Put's and Forget's statements, bound to one transaction.
type writeStmts struct {
	find, insert, delEntry, addDoc, delDoc *sql.Stmt
	addIdent, delIdent                     *sql.Stmt
	addYear, delYear                       *sql.Stmt
	addTok, dropTok, delTok                *sql.Stmt
	addDel, delDel                         *sql.Stmt
	addPosting, delPosting                 *sql.Stmt
	tx                                     *sql.Tx
}

func (s *SQLite) begin(ctx context.Context) (*writeStmts, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	ws := &writeStmts{tx: tx}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&ws.find, `SELECT e.id, e.by, e.y_from, e.y_to, e.toks, d.doc FROM entries e JOIN docs d ON d.id = e.id WHERE e.key = ? AND e.profile = ?`},
		{&ws.insert, `INSERT INTO entries(profile, key, born, by, y_from, y_to, toks) VALUES (?,?,?,?,?,?,?)`},
		{&ws.addDoc, `INSERT INTO docs(id, doc) VALUES (?,?)`},
		{&ws.delEntry, `DELETE FROM entries WHERE id = ?`},
		{&ws.delDoc, `DELETE FROM docs WHERE id = ?`},
		{&ws.addIdent, `INSERT OR IGNORE INTO idents(value, entry, name) VALUES (?,?,?)`},
		{&ws.delIdent, `DELETE FROM idents WHERE value = ? AND entry = ?`},
		// One statement for all of an entry's years, and one for its postings: per-row
		// statements were half of Put's time.
		{&ws.addYear, `INSERT OR IGNORE INTO years(year, entry) SELECT value, ? FROM json_each(?)`},
		{&ws.delYear, `DELETE FROM years WHERE year = ? AND entry = ?`},
		{&ws.addTok, `INSERT INTO vocab(tok, df) VALUES (?, 1) ON CONFLICT(tok) DO UPDATE SET df = df + 1 RETURNING id, df`},
		{&ws.dropTok, `UPDATE vocab SET df = df - 1 WHERE tok = ? RETURNING id, df`},
		{&ws.delTok, `DELETE FROM vocab WHERE id = ?`},
		{&ws.addDel, `INSERT OR IGNORE INTO dels(del, tok) VALUES (?,?)`},
		{&ws.delDel, `DELETE FROM dels WHERE del = ? AND tok = ?`},
		{&ws.addPosting, `INSERT OR IGNORE INTO postings(tok, by, entry) SELECT value, ?, ? FROM json_each(?)`},
		{&ws.delPosting, `DELETE FROM postings WHERE tok = ? AND by = ? AND entry = ?`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			ws.end()
			return nil, err
		}
		*p.st = st
	}
	return ws, nil
}

// end closes the statements and rolls back unless committed.
func (ws *writeStmts) end() {
	for _, st := range []*sql.Stmt{ws.find, ws.insert, ws.delEntry, ws.addDoc, ws.delDoc, ws.addIdent, ws.delIdent, ws.addYear, ws.delYear,
		ws.addTok, ws.dropTok, ws.delTok, ws.addDel, ws.delDel, ws.addPosting, ws.delPosting} {
		if st != nil {
			st.Close()
		}
	}
	ws.tx.Rollback()
}

// Put records entries in one transaction, each replacing the entry of the same profile and key.
func (s *SQLite) Put(ctx context.Context, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	for i, e := range entries {
		if e.Profile == "" || e.Key == "" {
			return fmt.Errorf("index: entry %d of %d has no profile or no key", i+1, len(entries))
		}
	}
	ws, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("index %s: %w", s.path, err)
	}
	defer ws.end()
	for _, e := range entries {
		if err := ws.remove(ctx, e.Profile, e.Key); err != nil {
			return fmt.Errorf("index %s: replacing dossier %q of profile %q: %w", s.path, e.Key, e.Profile, err)
		}
		if err := ws.add(ctx, e); err != nil {
			return fmt.Errorf("index %s: dossier %q of profile %q: %w", s.path, e.Key, e.Profile, err)
		}
	}
	if err := ws.tx.Commit(); err != nil {
		return fmt.Errorf("index %s: %w", s.path, err)
	}
	return nil
}

// Forget removes the entry of profile's dossier key, if there is one.
func (s *SQLite) Forget(ctx context.Context, profile, key string) error {
	ws, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("index %s: %w", s.path, err)
	}
	defer ws.end()
	if err := ws.remove(ctx, profile, key); err != nil {
		return fmt.Errorf("index %s: forgetting dossier %q of profile %q: %w", s.path, key, profile, err)
	}
	if err := ws.tx.Commit(); err != nil {
		return fmt.Errorf("index %s: %w", s.path, err)
	}
	return nil
}

func (ws *writeStmts) add(ctx context.Context, e Entry) error {
	doc, err := encodeEntry(e)
	if err != nil {
		return err
	}
	by := yearOf(e.Person.BirthDate)
	yFrom, yTo := registration(e)
	toks := NameTokens(e.Person)
	res, err := ws.insert.ExecContext(ctx, e.Profile, e.Key, e.Person.BirthDate, by, yFrom, yTo, strings.Join(toks, " "))
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if _, err := ws.addDoc.ExecContext(ctx, id, doc); err != nil {
		return err
	}
	for _, x := range e.Identifiers {
		if x.Value == "" {
			continue
		}
		if _, err := ws.addIdent.ExecContext(ctx, x.Value, id, x.Name); err != nil {
			return err
		}
	}
	if yFrom != 0 {
		var ys []int
		for y := yFrom; y <= yTo && y < yFrom+maxYears; y++ {
			ys = append(ys, y)
		}
		list, err := json.Marshal(ys)
		if err != nil {
			return err
		}
		if _, err := ws.addYear.ExecContext(ctx, id, string(list)); err != nil {
			return err
		}
	}
	ids := make([]int64, 0, len(toks))
	for _, t := range distinct(toks) {
		var tok, df int64
		if err := ws.addTok.QueryRowContext(ctx, t).Scan(&tok, &df); err != nil {
			return err
		}
		if df == 1 { // a token no other entry holds: file its deletes
			for _, d := range deletes(t, Edits(len([]rune(t)))) {
				if _, err := ws.addDel.ExecContext(ctx, d, tok); err != nil {
					return err
				}
			}
		}
		ids = append(ids, tok)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	_, err = ws.addPosting.ExecContext(ctx, by, id, string(list))
	return err
}

// remove deletes an entry and every row that points to it; a token no entry holds any more goes
// too, so that a forgotten rare name leaves nothing behind.
func (ws *writeStmts) remove(ctx context.Context, profile, key string) error {
	var (
		id, by, yFrom, yTo int64
		toks               string
		doc                []byte
	)
	err := ws.find.QueryRowContext(ctx, key, profile).Scan(&id, &by, &yFrom, &yTo, &toks, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := decodeEntry(doc)
	if err != nil {
		return err
	}
	for _, x := range old.Identifiers {
		if _, err := ws.delIdent.ExecContext(ctx, x.Value, id); err != nil {
			return err
		}
	}
	for y := yFrom; y != 0 && y <= yTo && y < yFrom+maxYears; y++ {
		if _, err := ws.delYear.ExecContext(ctx, y, id); err != nil {
			return err
		}
	}
	for _, t := range distinct(strings.Fields(toks)) {
		var tok, df int64
		if err := ws.dropTok.QueryRowContext(ctx, t).Scan(&tok, &df); err != nil {
			return fmt.Errorf("token of the entry: %w", err)
		}
		if _, err := ws.delPosting.ExecContext(ctx, tok, by, id); err != nil {
			return err
		}
		if df <= 0 {
			for _, d := range deletes(t, Edits(len([]rune(t)))) {
				if _, err := ws.delDel.ExecContext(ctx, d, tok); err != nil {
					return err
				}
			}
			if _, err := ws.delTok.ExecContext(ctx, tok); err != nil {
				return err
			}
		}
	}
	if _, err := ws.delDoc.ExecContext(ctx, id); err != nil {
		return err
	}
	_, err = ws.delEntry.ExecContext(ctx, id)
	return err
}

// distinct are toks without repeats: a token two names hold (Marie MARIE) is one posting and
// counts one entry.
func distinct(toks []string) []string {
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
