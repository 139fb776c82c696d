package demo

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// CreateSQLite writes a new SQLite demo database at path, which must not exist yet. The file is in
// WAL mode; the load runs in one transaction with synchronous=OFF (a failed load leaves a file to
// delete, never a half-database passed off as whole: the transaction commits only at the end).
func CreateSQLite(ctx context.Context, path string, opt Options) (Stats, error) {
	if _, err := os.Stat(path); err == nil {
		return Stats{}, fmt.Errorf("%s already exists: remove it or choose another --out", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-65536)")
	if err != nil {
		return Stats{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	st, err := Generate(ctx, db, "sqlite", opt)
	if err != nil {
		return st, fmt.Errorf("demo database %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return st, fmt.Errorf("demo database %s: %w", path, err)
	}
	return st, nil
}
