package extract

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "github.com/sijms/go-ora/v2"     // database/sql driver "oracle"
	"github.com/versement/versement/internal/redact"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Options tune a source.
type Options struct {
	// BatchSize is how many dossiers are read per round of queries (one query per table per
	// batch) in batched mode. It bounds memory: a batch is the most the source holds. 0 means 500.
	BatchSize int
	// Batched reads by batches of root keys on one connection instead of streaming every table
	// at once (see docs/extract.md). Oracle sources are always batched.
	Batched bool
}

// Open connects to the database that spec names:
//
//	sqlite:PATH or PATH.db     an SQLite file (the embedded default), opened read-only
//	env:VAR                    the connection string is in environment variable VAR
//	file:PATH                  the connection string is the content of file PATH
//
// A connection string is postgres://…, postgresql://…, oracle://… or sqlite:PATH. PostgreSQL and
// Oracle strings may hold a password, so they are refused when given directly (they would sit in
// the shell history and the process list); they must come through env: or file:. Errors never
// show a password.
func Open(ctx context.Context, spec string) (Source, error) {
	return OpenWith(ctx, spec, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, spec string, opt Options) (Source, error) {
	dsn, err := ResolveDSN(spec)
	if err != nil {
		return nil, err
	}
	return openDSN(ctx, dsn, opt)
}

// ResolveDSN turns a spec (see Open) into a connection string. Direct postgres:// and oracle://
// strings are refused.
func ResolveDSN(spec string) (string, error) {
	switch {
	case strings.HasPrefix(spec, "env:"):
		name := strings.TrimPrefix(spec, "env:")
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			return "", fmt.Errorf("source %s: environment variable %s is empty or unset", spec, name)
		}
		return v, nil
	case strings.HasPrefix(spec, "file:"):
		path := strings.TrimPrefix(spec, "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("source %s: %w", spec, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("source %s: the file is empty", spec)
		}
		return v, nil
	case strings.HasPrefix(spec, "sqlite:"):
		return spec, nil
	case isServerDSN(spec):
		return "", fmt.Errorf("source %s: a connection string may hold a password, so it is not taken from the command line: put it in an environment variable and pass env:VAR, or in a file readable only by you and pass file:PATH", Redact(spec))
	case strings.HasSuffix(spec, ".db") || strings.HasSuffix(spec, ".sqlite") || strings.HasSuffix(spec, ".sqlite3"):
		return "sqlite:" + spec, nil
	}
	return "", fmt.Errorf("source %q: want sqlite:PATH, a .db file, env:VAR or file:PATH", Redact(spec))
}

func isServerDSN(s string) bool {
	for _, p := range []string{"postgres://", "postgresql://", "oracle://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return strings.Contains(s, "password=") || strings.Contains(s, "host=")
}

// Redact hides the password of a connection string (URL or key=value form), for messages: the
// one redaction policy of internal/redact.
func Redact(dsn string) string { return redact.String(dsn) }

// RedactError returns err with every form of dsn's password replaced, for callers that open a
// connection themselves (demo-db); errors.Is and As still reach the cause.
func RedactError(err error, dsn string) error { return redact.Error(err, redact.Secrets(dsn)) }

func openDSN(ctx context.Context, dsn string, opt Options) (Source, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	secrets := redact.Secrets(dsn)
	lower := strings.ToLower(dsn)
	var driver, conn string
	var d dialect
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		return openSQLite(ctx, dsn[len("sqlite:"):], opt)
	case strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") || strings.Contains(lower, "host="):
		driver, d, conn = "pgx", postgresDialect{}, dsn
	case strings.HasPrefix(lower, "oracle://"):
		driver, d, conn = "oracle", oracleDialect{}, dsn
	default:
		return nil, fmt.Errorf("source %s: unknown kind of connection string (want postgres://, oracle:// or sqlite:PATH)", Redact(dsn))
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		return nil, fmt.Errorf("open %s source %s: %w", d.name(), Redact(dsn), redact.Error(err, secrets))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s source %s: %w", d.name(), Redact(dsn), redact.Error(err, secrets))
	}
	return &sqlSource{db: db, d: d, opt: opt, secrets: secrets, where: Redact(dsn)}, nil
}

// openSQLite opens an SQLite file read-only (mode=ro), so that a snapshot handed over on a
// read-only mount, or in another user's folder, can be read: nothing is ever written to the
// database. A WAL-mode file needs its -shm index, which a reader creates when it is missing; when
// the folder does not let it, the file is opened immutable=1, which reads the database file alone
// and assumes that nobody writes to it, and the log says so. That is refused when a -wal file holds
// transactions not yet copied into the database: they would be silently left out.
func openSQLite(ctx context.Context, path string, opt Options) (Source, error) {
	where := "sqlite:" + path
	if _, err := os.Stat(path); err != nil {
		// SQLite would silently create an empty database: say what is wrong instead.
		return nil, fmt.Errorf("sqlite source: %w", err)
	}
	open := func(extra string) (*sql.DB, error) {
		db, err := sql.Open(sqliteDriver, sqliteDSN(path, extra))
		if err != nil {
			return nil, err
		}
		// A first read: opening is lazy, and a WAL file fails only when it is read.
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	db, err := open("")
	if err != nil && sqliteWAL(path) && !exists(path+"-shm") {
		if fi, werr := os.Stat(path + "-wal"); werr == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("open sqlite source %s: %w; it is in WAL mode and its folder cannot be written, so its -shm index cannot be created, and %s-wal holds transactions not yet in the database file: copy the database with its -wal file to a folder you can write, or checkpoint it where it is written", where, err, filepath.Base(path))
		}
		if db, err = open("&immutable=1"); err == nil {
			slog.Warn("the SQLite source is in WAL mode and its -shm index cannot be created beside it (a read-only folder): it is read with immutable=1, which assumes that nobody writes to it during the run", "source", where)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite source %s: %w", where, err)
	}
	return &sqlSource{db: db, d: sqliteDialect{}, opt: opt, where: where}, nil
}

// sqliteURIPath escapes what a file: URI gives a meaning to, so that any file name opens.
func sqliteURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// sqliteWAL reports whether the database file's header says WAL mode (bytes 18 and 19 are 2).
func sqliteWAL(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return string(h[:16]) == "SQLite format 3\x00" && h[18] == 2 && h[19] == 2
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// OpenDB wraps an open database handle (for tests and embedding). dialectName is "sqlite",
// "postgres" or "oracle".
func OpenDB(db *sql.DB, dialectName string, opt Options) (Source, error) {
	d, err := dialectFor(dialectName)
	if err != nil {
		return nil, err
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	return &sqlSource{db: db, d: d, opt: opt, where: dialectName, borrowed: true}, nil
}

var errLOBAfterEnd = errors.New("the LOB was read after its dossier iteration ended: read LOBs while iterating, inside the snapshot")
