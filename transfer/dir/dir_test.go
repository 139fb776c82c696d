package dir_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// readOnlyFolder returns an existing folder the process cannot write into, and the error text the
// system gives: a read-only tmpfs mounted there as root (what CI runs as; a read-only NFS export
// or snapshot answers the same), else a folder without write permission.
func readOnlyFolder(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir, "permission denied"
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Skipf("root, but cannot mount a read-only tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir, "read-only file system"
}

// A folder the process cannot write into gives a message naming the folder and the reason, and
// a permanent error: waiting does not make it writable, so the retry decorator must not wait.
func TestProbeLeavesNothing(t *testing.T) {
	root := t.TempDir()
	tg, _ := dir.New(root)
	if err := tg.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, root); len(n) != 0 {
		t.Fatalf("left behind: %v", n)
	}
}

func TestReadOnlyFolderFailsPermanently(t *testing.T) {
	root, reason := readOnlyFolder(t)
	tg, err := dir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), sipFile(t, "d.zip", "x"))
	want := "dir target dir://" + root + ": cannot write into " + root + ": " + reason
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("%v is not marked permanent", err)
	}
	// The preflight says the same before anything is read.
	if err := tg.Probe(context.Background()); err == nil || err.Error() != want || !errors.As(err, &perm) {
		t.Fatalf("Probe: got %v\nwant %s (permanent)", err, want)
	}
	// A subfolder that cannot be created: the same.
	sip := sipFile(t, "e.zip", "x")
	sip.Name = "sub/e.zip"
	_, err = tg.Put(context.Background(), sip)
	want = "dir target dir://" + root + ": cannot create the folder " + filepath.Join(root, "sub") + ": " + reason
	if err == nil || err.Error() != want || !errors.As(err, &perm) {
		t.Fatalf("got  %v\nwant %s (permanent)", err, want)
	}
	// And a root that cannot be created.
	_, err = dir.New(filepath.Join(root, "depot"))
	want = "dir target dir://" + filepath.Join(root, "depot") + ": cannot create the folder " + filepath.Join(root, "depot") + ": " + reason
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// SIPs are files other services read: 0666 less the umask by default (as cp does), or the mode
// given on the URL; folders created for them follow.
func TestModes(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	base := t.TempDir()
	for _, tc := range []struct {
		url             string
		file, subfolder fs.FileMode
	}{
		{"dir://" + base + "/umask", 0o640, 0o750},
		{"dir://" + base + "/explicit?mode=0644", 0o644, 0o755}, // wider than the umask: the URL says so
		{"dir://" + base + "/private?mode=0600", 0o600, 0o700},
		{"dir://" + base + "/group?mode=0660", 0o660, 0o770},
	} {
		tg, err := dir.Open(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		sip := sipFile(t, "a.zip", "PK")
		sip.Name = "sub/a.zip"
		r, err := tg.Put(context.Background(), sip)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(r.Location)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.file {
			t.Errorf("%s: SIP mode %o, want %o", tc.url, got, tc.file)
		}
		di, _ := os.Stat(filepath.Dir(r.Location))
		if got := di.Mode().Perm(); got != tc.subfolder {
			t.Errorf("%s: folder mode %o, want %o", tc.url, got, tc.subfolder)
		}
		if strings.Contains(tg.String(), "mode") {
			t.Errorf("String() = %s: the ledger must match the folder whatever the mode", tg)
		}
	}
}

func TestOpenURLs(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	for raw, root := range map[string]string{
		"dir://" + base + "/a": base + "/a",
		"dir://./rel/b":        "./rel/b",
		"dir://rel/c":          "rel/c",
		"dir://../" + filepath.Base(base) + "/d?mode=0640": "../" + filepath.Base(base) + "/d",
	} {
		tg, err := dir.Open(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if tg.String() != "dir://"+root {
			t.Errorf("%s: String() = %s", raw, tg)
		}
	}
	for raw, want := range map[string]string{
		"dir://u:S3KR1T@host/srv": "dir target dir://u:xxxxx@host/srv: a dir:// URL names a local folder and holds no credentials (user info holds some)",
		"dir://u@host/srv":        "dir target dir://u@host/srv: a dir:// URL names a local folder and holds no credentials (user info holds some)",
		"dir://nas.example.org/export": `dir target dir://nas.example.org/export: "nas.example.org" is a host, and a dir:// target is a local folder: ` +
			`write dir:///absolute/path (a NAS: its mount point), or dir://./nas.example.org/export for a folder of that name here`,
		"dir://nas:2049/export": `dir target dir://nas:2049/export: "nas:2049" is a host, and a dir:// target is a local folder: ` +
			`write dir:///absolute/path (a NAS: its mount point), or dir://./nas:2049/export for a folder of that name here`,
		"dir://192.168.1.10/x": `dir target dir://192.168.1.10/x: "192.168.1.10" is a host, and a dir:// target is a local folder: ` +
			`write dir:///absolute/path (a NAS: its mount point), or dir://./192.168.1.10/x for a folder of that name here`,
		"dir://localhost/srv": `dir target dir://localhost/srv: "localhost" is a host, and a dir:// target is a local folder: ` +
			`write dir:///absolute/path (a NAS: its mount point), or dir://./localhost/srv for a folder of that name here`,
		"dir:///srv/a#b":            `dir target dir:///srv/a#b: '#' starts a URL fragment: write it %23 in a folder name`,
		"dir:///srv/out?mode=640x":  "dir target dir:///srv/out?mode=640x: mode=640x: want an octal file mode such as 0640",
		"dir:///srv/out?mode=01777": "dir target dir:///srv/out?mode=01777: mode=01777: want an octal file mode such as 0640",
		"dir:///srv/out?mode=0040":  "dir target dir:///srv/out?mode=0040: mode=0040: the owner must be able to read the SIPs (want e.g. 0640)",
		"dir:///srv/out?mode=0666":  "dir target dir:///srv/out?mode=0666: mode=0666: SIPs writable by any user could be altered after they were checked (want e.g. 0640)",
		"dir:///srv/out?fsync=no":   `dir target dir:///srv/out?fsync=no: unknown parameter "fsync" (known: mode)`,
		"dir:///srv/out?key=S3KR1T": `dir target dir:///srv/out?key=xxxxx: unknown parameter "key" (known: mode)`,
		"dir://":                    "dir target: empty path (want dir:///absolute/path or dir://./relative/path)",
	} {
		_, err := dir.Open(raw)
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", raw, err, want)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 3 { // a, rel, d: nothing for the refused URLs
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folders created: %v", names)
	}
}

// A full file system: permanent, with the reason, and no partial file left.
func TestFullFolderFailsPermanently(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	root := t.TempDir()
	if err := syscall.Mount("tmpfs", root, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(root, 0) })
	tg, err := dir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), sipFile(t, "big.zip", strings.Repeat("x", 1<<20)))
	want := "dir target dir://" + root + ": write " + filepath.Join(root, "big.zip") + ": no space left on device"
	var perm *transfer.PermanentError
	if err == nil || err.Error() != want || !errors.As(err, &perm) {
		t.Fatalf("got  %v\nwant %s (permanent)", err, want)
	}
	if n := entries(t, root); len(n) != 0 {
		t.Fatalf("left behind: %v", n)
	}
}

func TestParseURL(t *testing.T) {
	c, err := dir.ParseURL("dir:///srv/depot?mode=0640")
	if err != nil || c.Root != "/srv/depot" || c.Mode != 0o640 {
		t.Fatalf("%+v %v", c, err)
	}
	if err := dir.Check("dir://nas.example.org/x"); err == nil {
		t.Fatal("a host accepted")
	}
}

// A SIP handed over (the pipeline's spool) on the folder's file system is stored as that very file,
// its bytes written once; it is still checked against its SHA-256, and gets the folder's mode. A
// SIP a user gave is copied.
func TestHandoverLinksOnTheSameFileSystem(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	tg, err := dir.Open("dir://" + base + "/depot?mode=0640")
	if err != nil {
		t.Fatal(err)
	}
	spooled := filepath.Join(base, "spool.zip")
	os.WriteFile(spooled, []byte("PK spooled"), 0o600)
	sum, _ := transfer.FileSHA256(spooled)
	r, err := tg.Put(ctx, transfer.SIP{Name: "a.zip", Path: spooled, SHA256: sum, Handover: true})
	if err != nil || r.AlreadyThere {
		t.Fatalf("put: %+v %v", r, err)
	}
	src, _ := os.Stat(spooled)
	dst, err := os.Stat(r.Location)
	if err != nil || !os.SameFile(src, dst) || dst.Mode().Perm() != 0o640 {
		t.Fatalf("stored %v (mode %v): not the spooled file itself", err, dst.Mode())
	}
	if got := entries(t, filepath.Join(base, "depot")); strings.Join(got, ",") != "a.zip" {
		t.Errorf("the folder holds %v", got)
	}
	if r, err := tg.Put(ctx, transfer.SIP{Name: "a.zip", Path: spooled, SHA256: sum, Handover: true}); err != nil || !r.AlreadyThere {
		t.Errorf("again: %+v %v", r, err)
	}

	given := sipFile(t, "b.zip", "PK given")
	r, err = tg.Put(ctx, given)
	if err != nil {
		t.Fatal(err)
	}
	src, _ = os.Stat(given.Path)
	if dst, _ := os.Stat(r.Location); os.SameFile(src, dst) {
		t.Error("a file the user gave is linked, not copied: editing it would edit the archive")
	}

	damaged := filepath.Join(base, "damaged.zip")
	os.WriteFile(damaged, []byte("PK damaged"), 0o600)
	if _, err := tg.Put(ctx, transfer.SIP{Name: "c.zip", Path: damaged, SHA256: sum, Handover: true}); !errors.Is(err, transfer.ErrDigest) {
		t.Errorf("a handed-over SIP that does not match its SHA-256: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "depot", "c.zip")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the damaged SIP was stored: %v", err)
	}
}

// On another file system a handed-over SIP is copied (a link cannot cross devices).
func TestHandoverCopiesAcrossFileSystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "versement-test-")
	if err != nil {
		t.Skip("no /dev/shm to put the folder on another file system")
	}
	defer os.RemoveAll(other)
	spooled := filepath.Join(t.TempDir(), "spool.zip")
	os.WriteFile(spooled, []byte("PK spooled"), 0o600)
	a, _ := os.Stat(spooled)
	b, _ := os.Stat(other)
	if a.Sys().(*syscall.Stat_t).Dev == b.Sys().(*syscall.Stat_t).Dev {
		t.Skip("/dev/shm is on the test folder's file system here")
	}
	tg, err := dir.New(filepath.Join(other, "depot"))
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := transfer.FileSHA256(spooled)
	r, err := tg.Put(context.Background(), transfer.SIP{Name: "a.zip", Path: spooled, SHA256: sum, Handover: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := transfer.FileSHA256(r.Location); got != sum {
		t.Errorf("copied %s, want %s", got, sum)
	}
}

func TestAbsURL(t *testing.T) {
	wd, _ := os.Getwd()
	for in, want := range map[string]string{
		"dir://archives":         "dir://" + filepath.Join(wd, "archives"),
		"dir://./a/b?mode=0640":  "dir://" + filepath.Join(wd, "a/b") + "?mode=0640",
		"dir:///srv/archives":    "dir:///srv/archives",
		"s3://bucket/prefix":     "s3://bucket/prefix",
		"dir://host.example:22/": "dir://host.example:22/",
	} {
		if got := dir.AbsURL(in); got != want {
			t.Errorf("AbsURL(%s) = %s, want %s", in, got, want)
		}
	}
}
