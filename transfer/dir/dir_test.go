package dir_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
)

func sipFile(t *testing.T, name, content string) transfer.SIP {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return transfer.SIP{Name: name, Path: p}
}

func entries(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			names = append(names, rel)
		}
		return nil
	})
	return names
}

func TestPutStatListIdempotent(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "depot")
	tg, err := dir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	sip := sipFile(t, "a.zip", "PK fake zip")
	r, err := tg.Put(ctx, sip)
	if err != nil || r.AlreadyThere || r.Size != 11 {
		t.Fatalf("put: %+v %v", r, err)
	}
	sum, _ := transfer.FileSHA256(sip.Path)
	obj, err := tg.Stat(ctx, "a.zip")
	if err != nil || obj.SHA256 != sum || r.SHA256 != sum {
		t.Fatalf("stat: %+v %v", obj, err)
	}
	r, err = tg.Put(ctx, sip)
	if err != nil || !r.AlreadyThere {
		t.Fatalf("second put: %+v %v", r, err)
	}
	other := sipFile(t, "a.zip", "other bytes")
	if _, err := tg.Put(ctx, other); !errors.Is(err, transfer.ErrConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if got, _ := transfer.FileSHA256(filepath.Join(root, "a.zip")); got != sum {
		t.Fatal("the stored SIP was overwritten")
	}
	var listed []string
	tg.List(ctx, func(o transfer.Object) error { listed = append(listed, o.Name); return nil })
	if strings.Join(listed, ",") != "a.zip" {
		t.Fatalf("list: %v", listed)
	}
	if _, err := tg.Stat(ctx, "missing.zip"); !errors.Is(err, transfer.ErrNotExist) {
		t.Fatalf("stat missing: %v", err)
	}
}

// A SIP whose bytes no longer match its recorded SHA-256 must leave nothing behind: no final
// name, no temporary file.
func TestNoPartialFileOnFailure(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tg, _ := dir.New(root)
	sip := sipFile(t, "b.zip", "some bytes")
	sip.SHA256 = strings.Repeat("0", 64)
	_, err := tg.Put(ctx, sip)
	if !errors.Is(err, transfer.ErrDigest) {
		t.Fatalf("want a digest error, got %v", err)
	}
	if n := entries(t, root); len(n) != 0 {
		t.Fatalf("left behind: %v", n)
	}
	// A cancelled copy also leaves nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	sip = sipFile(t, "c.zip", "more bytes")
	if _, err := tg.Put(cctx, sip); err == nil {
		t.Fatal("cancelled put succeeded")
	}
	if n := entries(t, root); len(n) != 0 {
		t.Fatalf("left behind: %v", n)
	}
}

func TestBadNames(t *testing.T) {
	tg, _ := dir.New(t.TempDir())
	for _, name := range []string{"../escape.zip", "/abs.zip", "a/../../b.zip", `a\b.zip`} {
		sip := sipFile(t, "x.zip", "x")
		sip.Name = name
		if _, err := tg.Put(context.Background(), sip); err == nil || !strings.Contains(err.Error(), "relative name") {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// Stat takes names from a ledger, which may have been tampered with: a name reaching outside the
// root must not make an audit read (and print the hash of) a file elsewhere.
func TestStatRefusesNamesOutsideTheRoot(t *testing.T) {
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, _ := dir.New(filepath.Join(parent, "root"))
	for _, name := range []string{"../secret", filepath.Join(parent, "secret")} {
		_, err := tg.Stat(context.Background(), name)
		want := fmt.Sprintf("SIP name %q: must be a relative name without \"..\" or backslashes", name)
		if err == nil || err.Error() != want {
			t.Errorf("Stat(%q): got %v, want %s", name, err, want)
		}
	}
}

func TestReadOnlyFolderFails(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	root := t.TempDir()
	tg, _ := dir.New(root)
	os.Chmod(root, 0o555)
	defer os.Chmod(root, 0o755)
	if _, err := tg.Put(context.Background(), sipFile(t, "d.zip", "x")); err == nil {
		t.Fatal("put into a read-only folder succeeded")
	}
}
