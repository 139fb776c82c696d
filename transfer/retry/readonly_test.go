package retry

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
)

// counting counts the calls that reach the wrapped target.
type counting struct {
	transfer.Target
	puts int
}

func (c *counting) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	c.puts++
	return c.Target.Put(ctx, sip)
}

// A dir:// target on a read-only file system (as root, a read-only tmpfs; otherwise a folder
// without write permission) is tried once: syscall.Errno satisfies net.Error, and it was retried
// 5 times per run, with 59 misleading warnings in 5 minutes of a soak.
func TestReadOnlyDirIsNotRetried(t *testing.T) {
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
	d, err := dir.New(root)
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{Target: d}
	tg := newTarget(c, Policy{Attempts: 5, Base: time.Second})
	var waits []time.Duration
	tg.sleep = func(_ context.Context, w time.Duration) error { waits = append(waits, w); return nil }
	p := filepath.Join(t.TempDir(), "a.zip")
	if err := os.WriteFile(p, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), transfer.SIP{Name: "a.zip", Path: p})
	want := "dir target dir://" + root + ": cannot write into " + root + ": " + reason
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if c.puts != 1 || len(waits) != 0 {
		t.Fatalf("%d attempts, %d backoffs: want 1 attempt and none", c.puts, len(waits))
	}
}
