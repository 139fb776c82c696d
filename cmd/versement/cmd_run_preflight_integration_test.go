//go:build linux

package main

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRunPreflight: a run that cannot do its job says only why, before any plan, and creates
// neither its state folder nor its target folder (issue 11, "A failed run or --dry-run printed an
// all-zero plan"; issue 20, a read-only dir:// target).
func TestRunPreflight(t *testing.T) {
	db := cliDemo(t, "harpege")
	conn, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`DROP TABLE AFFECTATION`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	readOnly := t.TempDir()
	reason := "permission denied"
	canReadOnly := true
	if os.Geteuid() == 0 {
		// chmod does not stop root: a read-only tmpfs does.
		if err := syscall.Mount("tmpfs", readOnly, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Logf("root, but cannot mount a read-only tmpfs (%v): the read-only target cases are left out", err)
			canReadOnly = false
		} else {
			t.Cleanup(func() { syscall.Unmount(readOnly, 0) })
		}
		reason = "read-only file system"
	} else {
		os.Chmod(readOnly, 0o555)
		t.Cleanup(func() { os.Chmod(readOnly, 0o755) })
	}
	good := cliDemo(t, "harpege")
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out")
	missing := "ERR: class agent: builtin/harpege.yaml:46: sqlite:" + db + `: table AFFECTATION not found (profile harpege; looked for "AFFECTATION": SQLite ignores case in names)` + "\n"
	for _, tc := range []struct {
		name   string
		source string
		args   []string
		want   string
	}{
		{"a missing table", db, []string{"--target", "dir://" + out}, missing},
		{"a missing table, dry run", db, []string{"--dry-run"}, missing},
		{"no such source", filepath.Join(dir, "nope.db"), []string{"--target", "dir://" + out},
			"ERR: sqlite source: stat " + filepath.Join(dir, "nope.db") + ": no such file or directory\n"},
		{"a read-only target folder", good, []string{"--target", "dir://" + readOnly},
			"ERR: dir target dir://" + readOnly + ": cannot write into " + readOnly + ": " + reason + "\n"},
		{"a target folder under a read-only one", good, []string{"--target", "dir://" + readOnly + "/sips"},
			"ERR: dir target dir://" + readOnly + "/sips: cannot create the folder " + readOnly + "/sips: cannot write into " + readOnly + ": " + reason + "\n"},
		{"one tier's target read-only", good, []string{"--target-intermediate", "dir://" + out, "--target-final", "dir://" + readOnly},
			"ERR: dir target dir://" + readOnly + ": cannot write into " + readOnly + ": " + reason + "\n"},
	} {
		if !canReadOnly && tc.source == good {
			continue
		}
		args := append([]string{"run", "--profile", "harpege", "--source", tc.source, "--as-of", "2040-01-01", "--state", state}, tc.args...)
		got, code := run(t, args...)
		if code != exitError || got != tc.want {
			t.Errorf("%s: code %d, output\n%s\nwant %d,\n%s", tc.name, code, got, exitError, tc.want)
		}
		for _, p := range []string{state, out} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s was created (%v)", tc.name, p, err)
			}
		}
	}
	// The checks passed, the folders are created.
	if got, code := run(t, "run", "--profile", "harpege", "--source", good, "--as-of", "2040-01-01", "--state", state, "--target", "dir://"+out+"/a/b"); code != 0 {
		t.Fatalf("a run whose checks pass: code %d\n%s", code, got)
	}
}
