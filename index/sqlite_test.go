package index_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/index"
	"github.com/versement/versement/index/indextest"
)

func openTemp(t *testing.T) *index.SQLite {
	t.Helper()
	s, err := index.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Store { return openTemp(t) })
}

func TestReopenKeepsEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	s, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, indextest.Sample()...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Count(ctx); n != int64(len(indextest.Sample())) {
		t.Errorf("Count after reopening = %d", n)
	}
	ms, err := s.Search(ctx, index.Query{Name: "Richrad Herve", Born: "1990-05-12"})
	if err != nil || len(ms) != 1 || ms[0].Entry.Key != "1001" {
		t.Errorf("search after reopening: %v, %v", ms, err)
	}
}

func TestFileModeIs0600(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	s, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(ctx, indextest.Sample()...); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestOpenRefusesWhatIsNotAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("ceci n'est pas un index, mais un texte assez long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t(x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	newer := filepath.Join(dir, "newer.db")
	s, err := index.Open(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err = sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for path, want := range map[string]string{
		text:                             "index " + text + ": not a versement index (not an SQLite database)",
		other:                            "index " + other + ": not a versement index (an SQLite database of something else)",
		newer:                            "index " + newer + ": index schema version 99 is newer than this versement's (1): use a newer versement",
		filepath.Join(dir, "no", "x.db"): "index " + filepath.Join(dir, "no", "x.db") + ": open " + filepath.Join(dir, "no", "x.db") + ": no such file or directory",
	} {
		s, err := index.Open(ctx, path)
		if err == nil {
			s.Close()
			t.Errorf("%s opened", filepath.Base(path))
			continue
		}
		if err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	}
	// The refused text file is left as it was.
	if b, _ := os.ReadFile(text); !strings.HasPrefix(string(b), "ceci") {
		t.Errorf("the text file changed: %q", b)
	}
}

func TestSchemaVersionIsStored(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	s, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var uv int
	var meta string
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&uv); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT value FROM meta WHERE name = 'schema_version'`).Scan(&meta); err != nil {
		t.Fatal(err)
	}
	if uv != index.SchemaVersion || meta != "1" {
		t.Errorf("user_version %d, meta %q; want %d", uv, meta, index.SchemaVersion)
	}
}

// TestForgetLeavesNoToken: a forgotten dossier's rare name leaves no token, delete or posting
// behind (personal data), while a name another entry holds stays.
func TestForgetLeavesNoToken(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	s, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sample := indextest.Sample()
	if err := s.Put(ctx, sample...); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sample[6]); err != nil { // replaced: counts must not double
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "apogee", "1007"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM vocab WHERE tok LIKE '%kerguelen%' OR tok LIKE '%christophe%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tokens of the forgotten entry: %d, %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM dels d LEFT JOIN vocab v ON v.id = d.tok WHERE v.id IS NULL`).Scan(&n); err != nil || n != 0 {
		t.Errorf("deletes of no token: %d, %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM postings p LEFT JOIN entries e ON e.id = p.entry WHERE e.id IS NULL`).Scan(&n); err != nil || n != 0 {
		t.Errorf("postings of no entry: %d, %v", n, err)
	}
	var df int
	if err := db.QueryRow(`SELECT df FROM vocab WHERE tok = 'jean'`).Scan(&df); err != nil || df != 1 {
		t.Errorf("df of jean (harpege/1001 holds it) = %d, %v", df, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM vocab WHERE df != (SELECT count(*) FROM postings p WHERE p.tok = vocab.id)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tokens whose count is wrong: %d, %v", n, err)
	}
}
