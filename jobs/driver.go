package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/versement/versement/internal/flock"
	"github.com/versement/versement/internal/redact"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// openPostgres connects through a pgx pool (river's native driver: LISTEN/NOTIFY wakes the
// workers as soon as a job is enqueued). The DSN holds a password: errors are redacted of it.
func (q *Queue) openPostgres(ctx context.Context, rc *river.Config) error {
	secrets := redact.Secrets(q.cfg.DSN)
	pool, err := pgxpool.New(ctx, q.cfg.DSN)
	if err != nil {
		return fmt.Errorf("queue: postgres: %w", redact.Error(err, secrets))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("queue: postgres %s: %w", redact.String(q.cfg.DSN), redact.Error(err, secrets))
	}
	d := riverpgxv5.New(pool)
	c, err := river.NewClient(d, rc)
	if err != nil {
		pool.Close()
		return fmt.Errorf("queue: %w", err)
	}
	q.client, q.close = c, pool.Close
	q.migrate = func(ctx context.Context) error { return migrate(ctx, q, d) }
	return nil
}

// openSQLite opens the queue's file. SQLite has one writer at a time and river runs several
// maintenance goroutines: one connection (river's advice for its SQLite driver) serialises them
// in this process; busy_timeout makes another process's writer wait instead of failing with
// SQLITE_BUSY, WAL lets readers go on meanwhile, and immediate transactions take the write lock
// at BEGIN, so that two processes never deadlock upgrading a read lock.
func (q *Queue) openSQLite(ctx context.Context, rc *river.Config) error {
	path := q.cfg.DSN
	if path == "" {
		return fmt.Errorf("queue: sqlite: no file")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("queue: sqlite: %w", err)
	}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return fmt.Errorf("queue: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("queue: sqlite %s: %w", path, err)
	}
	d := riversqlite.New(db)
	c, err := river.NewClient(d, rc)
	if err != nil {
		db.Close()
		return fmt.Errorf("queue: %w", err)
	}
	q.client, q.close = c, func() { _ = db.Close() }
	q.migrate = func(ctx context.Context) error {
		// Every process on a SQLite queue migrates it when it starts (serve and the workers of
		// one machine, started together): river's migrations are not safe to run twice at once
		// on SQLite ("no such index" from the second), so they take turns.
		unlock, err := lockFile(ctx, path+".migrate.lock")
		if err != nil {
			return err
		}
		defer unlock()
		return migrate(ctx, q, d)
	}
	return nil
}

// lockFile waits for the flock on path, polling, until ctx is done.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	for {
		err := flock.TryLock(f)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, flock.ErrLocked) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// migrate runs river's migrations up, written once for both drivers' transaction types.
func migrate[TTx any](ctx context.Context, q *Queue, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: q.log.With("component", "rivermigrate")})
	if err != nil {
		return err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return err
	}
	for _, v := range res.Versions {
		q.log.Info("queue schema migrated", "driver", q.cfg.Driver, "version", v.Version, "name", v.Name)
	}
	return nil
}
