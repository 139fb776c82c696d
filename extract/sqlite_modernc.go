//go:build !sqlite_cgo

package extract

// The default SQLite driver is modernc.org/sqlite, pure Go: versement builds and runs anywhere
// without a C compiler. Build with -tags sqlite_cgo for the C library through cgo
// (sqlite_cgo.go), which reads a source a quarter faster.
const sqliteDriver = "sqlite"

// sqliteDSN opens path read-only, with extra URI parameters (immutable=1). The source is read
// once, table by table in key order: a page cache of 256 KiB per connection reads as fast as
// SQLite's default 2 MiB, and the default made a run's peak memory grow with the base.
func sqliteDSN(path, extra string) string {
	return "file:" + sqliteURIPath(path) + "?mode=ro" + extra + "&_pragma=query_only(1)&_pragma=busy_timeout(10000)&_pragma=cache_size(-256)"
}
