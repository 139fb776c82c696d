//go:build sqlite_cgo

package extract

import _ "github.com/mattn/go-sqlite3" // the SQLite C library, through cgo

// With -tags sqlite_cgo, SQLite sources are read by mattn/go-sqlite3, the C library itself: on a
// 100k-student demo base bench/extract takes 25–35 % less CPU than with modernc.org/sqlite, whose
// virtual machine and emulated mutexes are most of a run's reading. The state, the index and the
// demo bases stay on modernc (driver "sqlite"); only the source changes. The extract, pipeline and
// command tests pass with the tag too (scripts/test runs them both ways).
const sqliteDriver = "sqlite3"

// sqliteDSN opens path read-only, with extra URI parameters (immutable=1), in mattn's spelling.
func sqliteDSN(path, extra string) string {
	return "file:" + sqliteURIPath(path) + "?mode=ro" + extra + "&_query_only=1&_busy_timeout=10000&_cache_size=-256"
}
