package extract_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

const readOnlyChild = "VERSEMENT_TEST_READONLY_DB"

// A decommissioned base handed over as a read-only snapshot: a WAL-mode SQLite file in a folder the
// user cannot write. It is read without writing anything (mode=ro; immutable=1 when its -shm cannot
// be created, which the log says); one whose -wal holds transactions not yet in the file is refused,
// since immutable=1 would leave them out. Run as an unprivileged user: root writes anywhere.
func TestReadOnlySQLiteSnapshot(t *testing.T) {
	if path := os.Getenv(readOnlyChild); path != "" {
		readOnlyReader(path)
		return
	}
	// A folder others can enter and read but not write (root's, or made read-only below).
	dir, err := os.MkdirTemp("", "versement-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clean := filepath.Join(dir, "clean.db")
	if _, err := demo.CreateSQLite(ctx, clean, demo.Options{Profile: demo.Apogee, Dossiers: 25, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	// pending.db: a copy taken while a writer held its last transaction in the -wal.
	w, err := sql.Open("sqlite", "file:"+clean+"?_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`UPDATE "INDIVIDU" SET "LIB_PR1_IND" = 'X' WHERE "COD_IND" = 1`); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(clean + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pending.db"+suffix), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.Close() // checkpoints clean.db and removes its -wal and -shm
	for _, f := range []string{clean, filepath.Join(dir, "pending.db"), filepath.Join(dir, "pending.db-wal")} {
		os.Chmod(f, 0o644)
	}
	if _, err := os.Stat(clean + "-shm"); err == nil {
		t.Fatal("clean.db-shm is still there")
	}

	reader := func(db string) (string, error) {
		var cmd *exec.Cmd
		if os.Getuid() == 0 {
			// The test binary, where nobody can run it, run as nobody.
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(t.TempDir(), "reader.test")
			copyFile(t, self, bin)
			os.Chmod(filepath.Dir(bin), 0o755)
			os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755)
			cmd = exec.Command("runuser", "-u", "nobody", "--", bin, "-test.run=^TestReadOnlySQLiteSnapshot$")
		} else {
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(dir, 0o755)
			cmd = exec.Command(os.Args[0], "-test.run=^TestReadOnlySQLiteSnapshot$")
		}
		cmd.Env = append(os.Environ(), readOnlyChild+"="+db)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := reader(clean)
	want := `level=WARN msg="the SQLite source is in WAL mode and its -shm index cannot be created beside it (a read-only folder): it is read with immutable=1, which assumes that nobody writes to it during the run" source=sqlite:` + clean + "\nread 25 dossiers\n"
	if err != nil || !strings.HasPrefix(out, want) {
		t.Errorf("read-only WAL database: %v\n%s\nwant:\n%s", err, out, want)
	}
	if _, err := os.Stat(clean + "-shm"); err == nil {
		t.Error("the reader created clean.db-shm")
	}
	pending := filepath.Join(dir, "pending.db")
	out, err = reader(pending)
	want = "open sqlite source sqlite:" + pending + ": "
	tail := "; it is in WAL mode and its folder cannot be written, so its -shm index cannot be created, and pending.db-wal holds transactions not yet in the database file: copy the database with its -wal file to a folder you can write, or checkpoint it where it is written\n"
	if err != nil || !strings.HasPrefix(out, want) || !strings.Contains(out, tail) {
		t.Errorf("WAL with pending transactions: %v\n%s", err, out)
	}
}

// readOnlyReader is the unprivileged side: it prints the log, then what it read or its error.
func readOnlyReader(path string) {
	var log bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})))
	ctx := context.Background()
	src, err := extract.Open(ctx, "sqlite:"+path)
	n := 0
	if err == nil {
		for _, err = range src.Dossiers(ctx, demo.ApogeeClass()) {
			if err != nil {
				break
			}
			n++
		}
		src.Close()
	}
	fmt.Print(log.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("read %d dossiers\n", n)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
