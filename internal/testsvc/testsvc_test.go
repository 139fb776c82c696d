package testsvc

import (
	"database/sql"
	"testing"
)

func TestWithDatabase(t *testing.T) {
	cases := map[string]string{
		"postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable": "postgres://postgres@127.0.0.1:55432/x?sslmode=disable",
		"postgres://postgres@127.0.0.1:55432":                          "postgres://postgres@127.0.0.1:55432/x",
	}
	for in, want := range cases {
		if got := withDatabase(in, "x"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPostgresDBIsFreshAndUsable(t *testing.T) {
	dsn := PostgresDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("new database has %d tables", n)
	}
}
