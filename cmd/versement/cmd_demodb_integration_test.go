package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
)

func runDemoDB(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.RunContext(context.Background(), append([]string{"versement", "--log-level", "warn", "demo-db"}, args...))
	return out.String(), err
}

func countDossiers(t *testing.T, spec, profile string) (n int, first, last extract.Value) {
	t.Helper()
	src, err := extract.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	class, _ := demo.Class(profile)
	for d, err := range src.Dossiers(context.Background(), class) {
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			first = d.Key
		}
		last = d.Key
		n++
	}
	return
}

func TestDemoDBCreatesSQLiteThatExtractReads(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "apogee.db")
	out, err := runDemoDB(t, "--profile", "apogee", "--dossiers", "250", "--seed", "3", "--out", a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "250 apogee dossiers") || !strings.Contains(out, "PHO_ETU") {
		t.Errorf("summary: %s", out)
	}
	if n, first, last := countDossiers(t, "sqlite:"+a, "apogee"); n != 250 || first != int64(1) || last != int64(250) {
		t.Fatalf("read %d dossiers (%v…%v), want 250", n, first, last)
	}
	// Same seed, same bytes of data: a second database is identical table by table.
	b := filepath.Join(dir, "again.db")
	if _, err := runDemoDB(t, "--profile", "apogee", "--dossiers", "250", "--seed", "3", "--out", b); err != nil {
		t.Fatal(err)
	}
	var ja, jb bytes.Buffer
	for _, p := range []struct {
		path string
		w    *bytes.Buffer
	}{{a, &ja}, {b, &jb}} {
		src, err := extract.Open(context.Background(), p.path)
		if err != nil {
			t.Fatal(err)
		}
		for d, err := range src.Dossiers(context.Background(), demo.ApogeeClass()) {
			if err != nil {
				t.Fatal(err)
			}
			if err := d.WriteJSON(p.w, nil); err != nil {
				t.Fatal(err)
			}
		}
		src.Close()
	}
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Error("the same seed gave different data")
	}

	h := filepath.Join(dir, "harpege.db")
	if _, err := runDemoDB(t, "--profile", "harpege", "--dossiers", "120", "--out", h); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := countDossiers(t, h, "harpege"); n != 120 {
		t.Fatalf("harpege: %d dossiers", n)
	}
}

func TestDemoDBBadFlagsSayWhatIsWrong(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "scolarite", "--out", "x.db"}, `--profile "scolarite": want apogee or harpege`},
		{[]string{"--profile", "apogee"}, "give either --out FILE.db (SQLite) or --dsn env:VAR|file:PATH (PostgreSQL)"},
		{[]string{"--profile", "apogee", "--out", existing}, existing + " already exists: remove it or choose another --out"},
		{[]string{"--profile", "apogee", "--dsn", "postgres://apogee:s3cret@db/apogee"}, "--dsn postgres://apogee:xxxxx@db/apogee: give env:VAR or file:PATH; a connection string on the command line would expose its password"},
		{[]string{"--profile", "apogee", "--dsn", "env:VERSEMENT_NO_SUCH_VAR"}, "source env:VERSEMENT_NO_SUCH_VAR: environment variable VERSEMENT_NO_SUCH_VAR is empty or unset"},
	}
	for _, c := range cases {
		_, err := runDemoDB(t, c.args...)
		var ec cli.ExitCoder
		if !errors.As(err, &ec) || ec.ExitCode() != exitError || err.Error() != c.want {
			t.Errorf("%v:\n got %v\nwant %s (exit 2)", c.args, err, c.want)
		}
	}
}

// A connection that fails must not show the password, whichever way the driver quotes it.
func TestDemoDBConnectionErrorHidesThePassword(t *testing.T) {
	t.Setenv("VERSEMENT_TEST_DEMO_DSN", "postgres://apogee:Tr%C3%A8sS3cret@127.0.0.1:1/apogee?connect_timeout=2")
	_, err := runDemoDB(t, "--profile", "apogee", "--dossiers", "1", "--dsn", "env:VERSEMENT_TEST_DEMO_DSN")
	if err == nil {
		t.Fatal("connected to port 1?")
	}
	if strings.Contains(err.Error(), "S3cret") || !strings.HasPrefix(err.Error(), "postgres://apogee:xxxxx@127.0.0.1:1/apogee?connect_timeout=2: ") {
		t.Fatalf("error: %v", err)
	}
}

func TestDemoDBFillsPostgres(t *testing.T) {
	dsn := testsvc.PostgresDB(t)
	f := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(f, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runDemoDB(t, "--profile", "harpege", "--dossiers", "150", "--dsn", "file:"+f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "150 harpege dossiers") {
		t.Errorf("summary: %s", out)
	}
	if n, _, _ := countDossiers(t, "file:"+f, "harpege"); n != 150 {
		t.Fatalf("read %d dossiers, want 150", n)
	}
}
