// Package testsvc gives tests the real services they prove things against: PostgreSQL, the S3
// server versitygw, xmllint and the reference files of ../shared. scripts/test installs and starts
// them and passes their whereabouts in environment variables. Outside CI a missing service skips the
// test with the reason; under CI (CI=true) it fails it, so that a broken set-up can never pass as a
// green run that tested nothing.
package testsvc

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Environment variables set by scripts/test.
const (
	EnvPostgres  = "VERSEMENT_TEST_PG"        // DSN of a PostgreSQL server where tests may create databases
	EnvVersitygw = "VERSEMENT_TEST_VERSITYGW" // path of the versitygw binary
)

// InCI reports whether the tests run under CI, where every service must be there.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI, because what it needs is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required test service missing under CI: %s", msg)
	}
	t.Skipf("%s (run scripts/test to install and start the test services)", msg)
}

// ModuleRoot is the folder holding go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// SharedDir is ../shared beside the checkout. The reference files are not part of the repository,
// so their absence skips the test (under CI too: it is the project's data, not a service).
func SharedDir(t testing.TB, sub ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{filepath.Dir(ModuleRoot(t)), "shared"}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference data %s is absent: these tests read ../shared beside the checkout", p)
	}
	return p
}

// Xmllint is the path of xmllint.
func Xmllint(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		Unavailable(t, "xmllint not on PATH (Debian package libxml2-utils)")
	}
	return p
}

// XSD validates file against the official SEDA XSD of version ("2.1", "2.2", "2.3") with xmllint,
// offline, and returns xmllint's complaint when it is not valid.
func XSD(t testing.TB, version, file string) error {
	t.Helper()
	xsd := SharedDir(t, "seda-xsd", "seda-"+version, "seda-"+version+"-main.xsd")
	out, err := exec.Command(Xmllint(t), "--nonet", "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmllint: %v\n%s", err, out)
	}
	return nil
}

var dbSeq atomic.Int64

// PostgresDB creates an empty database for the test, drops it when the test ends, and returns its DSN.
func PostgresDB(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		Unavailable(t, "%s is not set: no PostgreSQL server", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		Unavailable(t, "PostgreSQL at %s does not answer: %v", EnvPostgres, err)
	}
	name := fmt.Sprintf("vt_%d_%d_%s", os.Getpid(), dbSeq.Add(1), sanitize(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
	})
	return withDatabase(base, name)
}

// withDatabase replaces the database name in a postgres:// URL.
func withDatabase(dsn, name string) string {
	rest, query, _ := strings.Cut(dsn, "?")
	if i := strings.LastIndex(rest, "/"); i > len("postgres://") {
		rest = rest[:i]
	}
	out := rest + "/" + name
	if query != "" {
		out += "?" + query
	}
	return out
}

func sanitize(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
