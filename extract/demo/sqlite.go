package demo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// CreateSQLite writes a new SQLite demo database at path, which must not exist yet. The load runs
// in one transaction with synchronous=OFF into a temporary file beside path, renamed to path only
// once complete: an interrupted or failed load leaves nothing behind, so that a later quickstart
// never takes a half-written base for the demo.
func CreateSQLite(ctx context.Context, path string, opt Options) (Stats, error) {
	if _, err := os.Stat(path); err == nil {
		return Stats{}, fmt.Errorf("%s already exists: remove it or choose another --out", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return Stats{}, fmt.Errorf("demo database %s: %w", path, err)
	}
	tmp.Close()
	done := false
	defer func() {
		if !done {
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				os.Remove(tmp.Name() + suffix)
			}
		}
	}()
	st, err := createSQLite(ctx, tmp.Name(), opt)
	if err != nil {
		return st, fmt.Errorf("demo database %s: %w", path, err)
	}
	// Link, not rename: a file created at path meanwhile is never replaced.
	if err := os.Link(tmp.Name(), path); err != nil {
		return st, fmt.Errorf("demo database %s: %w", path, err)
	}
	os.Remove(tmp.Name())
	done = true
	return st, nil
}

func createSQLite(ctx context.Context, path string, opt Options) (Stats, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-65536)")
	if err != nil {
		return Stats{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	st, err := Generate(ctx, db, "sqlite", opt)
	if err != nil {
		return st, err
	}
	// Everything back in the main file before it gets its name; closing the last connection removes
	// the emptied WAL.
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return st, err
	}
	return st, db.Close()
}
