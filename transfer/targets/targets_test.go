package targets_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/targets"
)

// Through the wiring the commands use (targets.Open: dir + retries), a read-only folder fails
// at once: one attempt, no "retrying" warning, no backoff.
func TestReadOnlyDirTargetFailsAtOnce(t *testing.T) {
	root := t.TempDir()
	reason := "permission denied"
	if os.Geteuid() == 0 {
		if err := syscall.Mount("tmpfs", root, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Skipf("root, but cannot mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(root, 0) })
		reason = "read-only file system"
	} else {
		os.Chmod(root, 0o555)
		t.Cleanup(func() { os.Chmod(root, 0o755) })
	}
	var logs bytes.Buffer
	tg, err := targets.Open(context.Background(), "dir://"+root, targets.Options{Retries: 4, RetryBackoff: time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(p, []byte("PK"), 0o644)
	start := time.Now()
	_, err = tg.Put(context.Background(), transfer.SIP{Name: "a.zip", Path: p})
	want := "dir target dir://" + root + ": cannot write into " + root + ": " + reason
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if n := strings.Count(logs.String(), "retrying"); n != 0 || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("%d retries logged in %v:\n%s", n, time.Since(start), logs.String())
	}
}

// Only a target that can resume says so, through every decorator.
func TestResumerOnlyWhereTheTargetHasIt(t *testing.T) {
	for _, opts := range []targets.Options{{}, {DryRun: true}, {Retries: -1}} {
		tg, err := targets.Open(context.Background(), "dir://"+t.TempDir(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tg.(transfer.Resumer); ok {
			t.Errorf("%+v: a folder target claims to resume", opts)
		}
		if _, ok := transfer.As[transfer.Resumer](tg); ok {
			t.Errorf("%+v: transfer.As finds a Resumer in a folder target", opts)
		}
		if p, ok := transfer.As[transfer.Prober](tg); !ok || p.Probe(context.Background()) != nil {
			t.Errorf("%+v: transfer.As finds no working Prober in a folder target", opts)
		}
	}
}

// Credentials in any part of any target URL are refused before anything is opened, and the
// message does not show them.
func TestCredentialsRefusedEverywhere(t *testing.T) {
	for raw, want := range map[string]string{
		"vitam+https://h:8443?tenant=0&admin=https://u:S3KR1T@a:8444": "target vitam+https://h:xxxxx@a:8444: credentials do not belong in the URL " +
			"(the admin= parameter holds some): they come from the environment or files",
		"vitam+https://u:S3KR1T@h:8443?tenant=0": "target vitam+https://u:xxxxx@h:8443?tenant=0: credentials do not belong in the URL " +
			"(user info holds some): they come from the environment or files",
		"s3://bucket?endpoint=http://AK:S3KR1T@host": "S3 target s3://bucket?endpoint=http://AK:xxxxx@host: credentials do not belong in the URL " +
			"(the endpoint= parameter holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"dir://u:S3KR1T@host/srv": "dir target dir://u:xxxxx@host/srv: a dir:// URL names a local folder and holds no credentials (user info holds some)",
		"ftp://u:S3KR1T@h/x":      "target ftp://u:xxxxx@h/x: credentials do not belong in the URL (user info holds some): they come from the environment or files",
	} {
		_, err := targets.Open(context.Background(), raw, targets.Options{})
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "KR1T") {
			t.Errorf("secret in %v", err)
		}
	}
}

// Check reads nothing and creates nothing, and gives Open's messages.
func TestCheckCreatesNothing(t *testing.T) {
	base := t.TempDir()
	t.Setenv("AWS_PROFILE", "no-such-profile") // Open would fail on it; Check does not read it
	t.Setenv("VERSEMENT_VITAM_CERT", "")
	for _, raw := range []string{
		"dir://" + base + "/new/folder?mode=0640",
		"s3://bucket/p?endpoint=https://s3.example.org&path-style=true",
		"vitam+https://vitam.example.org:8443?tenant=1&admin=https://vitam.example.org:8444",
	} {
		if err := targets.Check(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("Check created %v", entries)
	}
	for raw, want := range map[string]string{
		"dir://nas.example.org/x": `dir target dir://nas.example.org/x: "nas.example.org" is a host, and a dir:// target is a local folder: ` +
			`write dir:///absolute/path (a NAS: its mount point), or dir://./nas.example.org/x for a folder of that name here`,
		"s3://bucket?endpoint=http://AK:S3KR1T@h": "S3 target s3://bucket?endpoint=http://AK:xxxxx@h: credentials do not belong in the URL " +
			"(the endpoint= parameter holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://bucket?path-style=maybe":  `S3 target s3://bucket?path-style=maybe: path-style="maybe": want true or false`,
		"vitam+https://h:8443?tenant=x": `VITAM target vitam+https://h:8443?tenant=x: tenant="x": want a tenant number, e.g. ?tenant=0`,
		"vitam+http://h:8443?tenant=0":  "target vitam+http://h:8443?tenant=0: VITAM is reached over HTTPS with a client certificate only (vitam+https://)",
		"ftp://x":                       `target "ftp://x": unknown scheme "ftp" (want dir://, s3:// or vitam+https://)`,
		"vitam+https://h?tenant=0&admin=https://u:S3KR1T@a": "target vitam+https://h?admin=https://u:xxxxx@a&tenant=0: credentials do not belong in the URL " +
			"(the admin= parameter holds some): they come from the environment or files",
	} {
		err := targets.Check(raw)
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", raw, err, want)
		}
		if _, oerr := targets.Open(context.Background(), raw, targets.Options{}); oerr == nil || oerr.Error() != err.Error() {
			t.Errorf("%s: Open says %v, Check %v", raw, oerr, err)
		}
	}
}
