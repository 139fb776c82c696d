// Package dir is the transfer target for a local folder (dir://PATH): a NAS mount, a hand-off
// folder another tool picks SIPs up from. A SIP appears under its final name only once all its
// bytes are on disk: it is written under a temporary name, fsync'd, renamed, and the folder fsync'd.
package dir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/versement/versement/transfer"
)

// tmpPrefix marks files being written; List skips them and a later Put may remove stale ones.
const tmpPrefix = ".versement-tmp-"

// Target writes SIPs into a folder.
type Target struct {
	root string
}

// New opens the folder root, creating it if needed.
func New(root string) (*Target, error) {
	if root == "" {
		return nil, errors.New("dir target: empty path (want dir:///absolute/path or dir://relative/path)")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("dir target: %w", err)
	}
	return &Target{root: root}, nil
}

func (t *Target) String() string { return "dir://" + t.root }
func (t *Target) Close() error   { return nil }

func (t *Target) path(name string) string { return filepath.Join(t.root, filepath.FromSlash(name)) }

// Put copies the SIP, hashing the bytes as they are written: the copy must have the SHA-256 the
// caller computed when the SIP was made, or it is removed and Put fails.
func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	rcpt := transfer.Receipt{Target: t.String(), Name: sip.Name, Location: t.path(sip.Name), Size: sip.Size, SHA256: sip.SHA256}
	if obj, err := t.Stat(ctx, sip.Name); err == nil {
		if obj.SHA256 != sip.SHA256 {
			return rcpt, transfer.Permanent(fmt.Errorf("%s: %w (there: sha256 %s, %d bytes; ours: sha256 %s, %d bytes)",
				rcpt.Location, transfer.ErrConflict, obj.SHA256, obj.Size, sip.SHA256, sip.Size))
		}
		rcpt.AlreadyThere, rcpt.Time = true, time.Now().UTC()
		return rcpt, nil
	} else if !errors.Is(err, transfer.ErrNotExist) {
		return rcpt, err
	}
	final := t.path(sip.Name)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rcpt, fmt.Errorf("dir target: %w", err)
	}
	src, err := os.Open(sip.Path)
	if err != nil {
		return rcpt, transfer.Permanent(err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return rcpt, fmt.Errorf("dir target: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), transfer.ContextReader(ctx, src))
	if err != nil {
		return rcpt, fmt.Errorf("dir target: write %s: %w", final, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sip.SHA256 || n != sip.Size {
		return rcpt, transfer.Permanent(fmt.Errorf("dir target: %s: %w: copied %d bytes with sha256 %s, expected %d bytes with %s (the SIP changed since it was written?)",
			sip.Path, transfer.ErrDigest, n, got, sip.Size, sip.SHA256))
	}
	if err := tmp.Sync(); err != nil {
		return rcpt, fmt.Errorf("dir target: fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return rcpt, fmt.Errorf("dir target: %w", err)
	}
	// Link rather than rename: link fails if the final name appeared meanwhile (another writer),
	// so a SIP is never replaced, even in a race.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return t.Put(ctx, sip) // re-check: same bytes → AlreadyThere, else conflict
		}
		return rcpt, fmt.Errorf("dir target: %w", err)
	}
	os.Remove(tmp.Name())
	committed = true
	if err := syncDir(dir); err != nil {
		return rcpt, fmt.Errorf("dir target: fsync folder %s: %w", dir, err)
	}
	rcpt.Time = time.Now().UTC()
	return rcpt, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Stat hashes the stored file: a folder keeps no checksum of its own, and the auditor's question
// is whether the bytes are still the ones recorded.
func (t *Target) Stat(ctx context.Context, name string) (transfer.Object, error) {
	if err := transfer.CheckName(name); err != nil {
		return transfer.Object{}, err // a tampered ledger must not make verify read files outside the root
	}
	p := t.path(name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return transfer.Object{}, fmt.Errorf("%s: %w", p, transfer.ErrNotExist)
	} else if err != nil {
		return transfer.Object{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return transfer.Object{}, err
	}
	if !fi.Mode().IsRegular() {
		return transfer.Object{}, fmt.Errorf("%s: not a regular file", p)
	}
	h := sha256.New()
	if _, err := io.Copy(h, transfer.ContextReader(ctx, f)); err != nil {
		return transfer.Object{}, fmt.Errorf("read %s: %w", p, err)
	}
	return transfer.Object{Name: name, Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), ModTime: fi.ModTime()}, nil
}

// List walks the folder in name order, skipping temporary files. It does not hash (use Stat).
func (t *Target) List(ctx context.Context, fn func(transfer.Object) error) error {
	var objs []transfer.Object
	err := filepath.WalkDir(t.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(t.root, p)
		objs = append(objs, transfer.Object{Name: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}
