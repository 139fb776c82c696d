package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// SchemaVersion is the version of the SQLite index's tables, stored in the file (PRAGMA
// user_version and the meta table) so that a later versement can tell an older file and migrate
// it, and this one refuses a newer file rather than misread it.
const SchemaVersion = 1

// applicationID marks an SQLite file as a versement index (PRAGMA application_id: "vrsi").
const applicationID = 0x76727369

// The tables. Names are found through their folded tokens (vocab, one row per distinct token
// with the number of entries holding it) and postings, ordered by token then birth year so
// that "name + born" reads only the rows of that year. An entry's row holds only what a search
// narrows and checks by; its whole Entry (JSON, deflated: doc_codec.go) is in docs, read for
// the matches kept, so that the rows a search reads are small and many to a page. Typos are found by the symmetric-delete
// method: dels maps every string made by deleting up to Edits letters of a token to the token, so
// a misspelt name finds its candidates by index lookups and only those are compared. FTS5 is
// in modernc's build but matches prefixes and trigrams, not edit distance, so it would still
// need this table to tolerate "Richrad" for "Richard".
const sqliteSchema = `
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries(
	id INTEGER PRIMARY KEY,
	profile TEXT NOT NULL, key TEXT NOT NULL,
	born TEXT NOT NULL, by INTEGER NOT NULL,
	y_from INTEGER NOT NULL, y_to INTEGER NOT NULL,
	toks TEXT NOT NULL
);
CREATE TABLE docs(id INTEGER PRIMARY KEY, doc BLOB NOT NULL);
CREATE UNIQUE INDEX entries_key ON entries(key, profile);
CREATE TABLE idents(value TEXT NOT NULL, entry INTEGER NOT NULL, name TEXT NOT NULL,
	PRIMARY KEY (value, entry, name)) WITHOUT ROWID;
CREATE TABLE vocab(id INTEGER PRIMARY KEY, tok TEXT NOT NULL UNIQUE, df INTEGER NOT NULL);
CREATE TABLE dels(del TEXT NOT NULL, tok INTEGER NOT NULL, PRIMARY KEY (del, tok)) WITHOUT ROWID;
CREATE TABLE postings(tok INTEGER NOT NULL, by INTEGER NOT NULL, entry INTEGER NOT NULL,
	PRIMARY KEY (tok, by, entry)) WITHOUT ROWID;
CREATE TABLE years(year INTEGER NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (year, entry)) WITHOUT ROWID;
`

// SQLite is the embedded index: one SQLite file (WAL), one writing connection and a few reading
// ones, so that searches go on while a run records entries.
type SQLite struct {
	path string
	w, r *sql.DB
	rd   readStmts
}

// Open opens the index at path, creating it (mode 0600: it holds personal data) if it does not
// exist. A file that is not a versement index, or one of a newer schema, is refused.
func Open(ctx context.Context, path string) (*SQLite, error) {
	fail := func(err error) (*SQLite, error) { return nil, fmt.Errorf("index %s: %w", path, err) }
	// Created here, not by SQLite, so that it is 0600 from its first byte; SQLite gives its -wal
	// and -shm files the database file's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return fail(err)
	}
	if err := checkHeader(path); err != nil {
		return fail(err)
	}
	base := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	// _txlock=immediate: a write transaction takes the write lock when it begins, so two writers
	// queue on busy_timeout instead of one failing when it upgrades from reading.
	// The writer's page cache is small: a run writes postings in key order, and each MiB of cache
	// is a MiB of a run's peak memory outside the Go heap (bench/README.md, "Memory"). Searches
	// keep a bigger one.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-1024)")
	if err != nil {
		return fail(err)
	}
	w.SetMaxOpenConns(1)
	s := &SQLite{path: path, w: w}
	if err := s.init(ctx); err != nil {
		w.Close()
		return fail(err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-4096)")
	if err != nil {
		w.Close()
		return fail(err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	if err := s.rd.prepare(ctx, r); err != nil {
		s.Close()
		return fail(err)
	}
	return s, nil
}

// checkHeader refuses a file that is neither empty nor an SQLite database before SQLite is
// asked to open it, with words a user understands.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [16]byte
	n, _ := f.Read(h[:])
	if n == 0 {
		return nil
	}
	if n < 16 || string(h[:]) != "SQLite format 3\x00" {
		return errors.New("not a versement index (not an SQLite database)")
	}
	return nil
}

// init creates the tables in a new file, or checks that an existing one is an index of a schema
// this versement knows.
func (s *SQLite) init(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var app, version int64
	if err := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	var tables int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return err
	}
	switch {
	case app == 0 && tables == 0:
		if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, applicationID, SchemaVersion)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(name, value) VALUES ('schema_version', ?), ('kind', 'versement consultation index')`, fmt.Sprint(SchemaVersion)); err != nil {
			return err
		}
		return tx.Commit()
	case app != applicationID:
		return errors.New("not a versement index (an SQLite database of something else)")
	case version > SchemaVersion:
		return fmt.Errorf("index schema version %d is newer than this versement's (%d): use a newer versement", version, SchemaVersion)
	case version < SchemaVersion:
		// No older schema exists yet; a migration from version to SchemaVersion goes here.
		return fmt.Errorf("index schema version %d is not one this versement can read (%d)", version, SchemaVersion)
	}
	return nil
}

// Path is the index's file.
func (s *SQLite) Path() string { return s.path }

// Close closes the index.
func (s *SQLite) Close() error {
	s.rd.close()
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// Count is the number of entries.
func (s *SQLite) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rd.count.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, fmt.Errorf("index %s: %w", s.path, err)
	}
	return n, nil
}

// Get returns the entry of profile's dossier key.
func (s *SQLite) Get(ctx context.Context, profile, key string) (Entry, error) {
	var doc []byte
	err := s.rd.get.QueryRowContext(ctx, key, profile).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("index: dossier %q of profile %q: %w", key, profile, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("index %s: %w", s.path, err)
	}
	return decodeEntry(doc)
}

// readStmts are the statements searches run, prepared once.
type readStmts struct {
	count, get, doc, vocab, fuzzy, postings, filtered, idents, keys, years *sql.Stmt
}

// candidateCols are what a search reads of an entry to narrow and rank it without decoding it.
const candidateCols = `e.id, e.by, e.profile, e.born, e.y_from, e.y_to, e.toks`

func (rs *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&rs.count, `SELECT count(*) FROM entries`},
		{&rs.get, `SELECT d.doc FROM entries e JOIN docs d ON d.id = e.id WHERE e.key = ? AND e.profile = ?`},
		{&rs.doc, `SELECT doc FROM docs WHERE id = ?`},
		{&rs.vocab, `SELECT id, tok, df FROM vocab WHERE tok = ?`},
		{&rs.fuzzy, `SELECT DISTINCT v.id, v.tok, v.df FROM dels d JOIN vocab v ON v.id = d.tok
			WHERE d.del IN (SELECT value FROM json_each(?))`},
		{&rs.postings, `SELECT ` + candidateCols + ` FROM postings p JOIN entries e ON e.id = p.entry
			WHERE p.tok = ? AND p.by BETWEEN ? AND ? ORDER BY p.by, p.entry`},
		{&rs.filtered, `SELECT ` + candidateCols + ` FROM postings p JOIN entries e ON e.id = p.entry
			WHERE p.tok = ? AND p.by BETWEEN ? AND ?
			AND EXISTS (SELECT 1 FROM postings f WHERE f.tok IN (SELECT value FROM json_each(?)) AND f.by = p.by AND f.entry = p.entry)
			ORDER BY p.by, p.entry`},
		{&rs.idents, `SELECT ` + candidateCols + `, i.name FROM idents i JOIN entries e ON e.id = i.entry
			WHERE i.value = ? ORDER BY e.id`},
		{&rs.keys, `SELECT ` + candidateCols + `, '' FROM entries e WHERE e.key = ? ORDER BY e.id`},
		{&rs.years, `SELECT ` + candidateCols + ` FROM years y JOIN entries e ON e.id = y.entry
			WHERE y.year = ? ORDER BY y.entry`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return err
		}
		*p.st = st
	}
	return nil
}

// in returns the statements bound to a read transaction.
func (rs *readStmts) in(ctx context.Context, tx *sql.Tx) *readStmts {
	return &readStmts{
		count: tx.StmtContext(ctx, rs.count), get: tx.StmtContext(ctx, rs.get), doc: tx.StmtContext(ctx, rs.doc),
		vocab: tx.StmtContext(ctx, rs.vocab), fuzzy: tx.StmtContext(ctx, rs.fuzzy), postings: tx.StmtContext(ctx, rs.postings), filtered: tx.StmtContext(ctx, rs.filtered),
		idents: tx.StmtContext(ctx, rs.idents), keys: tx.StmtContext(ctx, rs.keys), years: tx.StmtContext(ctx, rs.years),
	}
}

func (rs *readStmts) close() {
	for _, st := range []*sql.Stmt{rs.count, rs.get, rs.doc, rs.vocab, rs.fuzzy, rs.postings, rs.filtered, rs.idents, rs.keys, rs.years} {
		if st != nil {
			st.Close()
		}
	}
}
