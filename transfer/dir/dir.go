// Package dir is the transfer target for a local folder (dir://PATH): a NAS mount, a hand-off
// folder another tool picks SIPs up from. A SIP appears under its final name only once all its
// bytes are on disk: it is written under a temporary name, fsync'd, linked to its final name, and
// the folder fsync'd.
//
// SIPs are files other services read: they are created with mode 0666 less the process's umask,
// as cp would (so a unit's UMask= decides), or with the mode given as ?mode=0640 on the URL.
//
// Errors that waiting cannot cure (permission denied, read-only file system, no space left, no
// such file) are marked permanent here, where they happen, so that the retry decorator fails at
// once instead of retrying them.
package dir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/redact"
	"github.com/versement/versement/transfer"
)

// tmpPrefix marks files being written; List skips them and a later Put may remove stale ones.
const tmpPrefix = ".versement-tmp-"

// Target writes SIPs into a folder.
type Target struct {
	root string
	mode fs.FileMode // 0: 0666 less the umask
}

// Open opens the folder a dir:// URL names, creating it if needed:
//
//	dir:///srv/depot             an absolute path
//	dir://./archives             a relative one (dir://archives too)
//	dir:///srv/depot?mode=0640   SIPs created with that mode (default: 0666 less the umask)
//
// A URL with user info, a port, or a host name (dir://nas.example.org/export) is refused: a
// dir:// target is a local folder, and writing under ./nas.example.org instead of the NAS would
// go unnoticed.
func Open(raw string) (*Target, error) {
	c, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return NewTarget(c)
}

// Config is what a dir:// URL says. A folder target has nothing to tune beyond it.
type Config struct {
	Root string      // the folder, as written (relative or absolute)
	Mode fs.FileMode // mode= of the SIPs; 0: 0666 less the umask
}

// ParseURL checks a dir:// URL as Open does, creating nothing.
func ParseURL(raw string) (Config, error) {
	root, mode, err := Parse(raw)
	return Config{Root: root, Mode: mode}, err
}

// Check checks a dir:// URL as Open does, creating nothing.
func Check(raw string) error {
	_, err := ParseURL(raw)
	return err
}

// NewTarget opens the folder c names, creating it if needed.
func NewTarget(c Config) (*Target, error) { return newTarget(c.Root, c.Mode) }

// Parse is ParseURL returning the folder and the SIPs' mode (0: the umask's), creating nothing.
func Parse(raw string) (root string, mode fs.FileMode, _ error) {
	if where := redact.Credentials(raw); where != "" {
		return "", 0, fmt.Errorf("dir target %s: a dir:// URL names a local folder and holds no credentials (%s holds some)", transfer.Redact(raw), where)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "dir" {
		return "", 0, fmt.Errorf("dir target %q: want dir:///absolute/path or dir://./relative/path", transfer.Redact(raw))
	}
	if u.Port() != "" || strings.Contains(u.Host, ":") || looksLikeHost(u.Host) {
		return "", 0, fmt.Errorf("dir target %s: %q is a host, and a dir:// target is a local folder: write dir:///absolute/path (a NAS: its mount point), or dir://./%s for a folder of that name here",
			transfer.Redact(raw), u.Host, strings.TrimPrefix(u.Host+u.Path, "/"))
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return "", 0, fmt.Errorf("dir target %s: '#' starts a URL fragment: write it %%23 in a folder name", transfer.Redact(raw))
	}
	for k, vs := range u.Query() {
		switch k {
		case "mode":
			if mode, err = parseMode(vs[len(vs)-1]); err != nil {
				return "", 0, fmt.Errorf("dir target %s: %w", transfer.Redact(raw), err)
			}
		default:
			return "", 0, fmt.Errorf("dir target %s: unknown parameter %q (known: mode)", transfer.Redact(raw), k)
		}
	}
	root = u.Host + u.Path // dir://relative/path or dir:///absolute/path
	if root == "" {
		return "", 0, errors.New("dir target: empty path (want dir:///absolute/path or dir://./relative/path)")
	}
	return root, mode, nil
}

// looksLikeHost says whether the host part of a dir:// URL is a network name rather than the
// first folder of a relative path: an IP address, localhost, or a dotted name (nas.example.org);
// not ".", "..", ".hidden" or "archives".
func looksLikeHost(h string) bool {
	if h == "" || strings.HasPrefix(h, ".") {
		return false
	}
	if h == "localhost" || strings.HasPrefix(h, "[") {
		return true
	}
	if _, err := strconv.ParseUint(strings.ReplaceAll(h, ".", ""), 10, 64); err == nil {
		return true // 192.168.1.10
	}
	return strings.Contains(h, ".")
}

// parseMode reads an octal file mode for SIPs: the owner must be able to read them (Stat hashes
// them), and others may not write them.
func parseMode(s string) (fs.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	switch {
	case err != nil || m > 0o777:
		return 0, fmt.Errorf("mode=%s: want an octal file mode such as 0640", s)
	case m&0o400 == 0:
		return 0, fmt.Errorf("mode=%s: the owner must be able to read the SIPs (want e.g. 0640)", s)
	case m&0o002 != 0:
		return 0, fmt.Errorf("mode=%s: SIPs writable by any user could be altered after they were checked (want e.g. 0640)", s)
	}
	return fs.FileMode(m), nil
}

// New opens the folder root, creating it if needed; SIPs get mode 0666 less the umask.
func New(root string) (*Target, error) { return newTarget(root, 0) }

func newTarget(root string, mode fs.FileMode) (*Target, error) {
	if root == "" {
		return nil, errors.New("dir target: empty path (want dir:///absolute/path or dir://./relative/path)")
	}
	t := &Target{root: root, mode: mode}
	if err := t.mkdirs(root); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Target) String() string { return "dir://" + t.root }

// IndexedByName: SIPs are kept under their names (transfer.Indexed).
func (t *Target) IndexedByName() {}

func (t *Target) Close() error { return nil }

// dirMode is the mode of the folders a Put creates: with mode=, searchable by whoever may read
// the SIPs (0640 → 0750); else 0777 less the umask.
func (t *Target) dirMode() fs.FileMode {
	if t.mode == 0 {
		return 0o777
	}
	return t.mode | 0o700 | (t.mode&0o444)>>2
}

// mkdirs creates dir and its missing parents, with dirMode exactly when mode= was given.
func (t *Target) mkdirs(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := t.mkdirs(parent); err != nil {
			return err
		}
	}
	err := os.Mkdir(dir, t.dirMode())
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err == nil && t.mode != 0 {
		err = os.Chmod(dir, t.dirMode())
	}
	if err != nil {
		return t.fail("cannot create the folder "+dir, err)
	}
	return nil
}

// fail describes a failed file operation for the user ("dir target dir:///srv/out: cannot write
// into /srv/out: read-only file system") and marks it permanent when waiting cannot cure it, or
// transient when it is a network's passing failure (a NAS mount that timed out).
func (t *Target) fail(what string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the path is in what
	}
	e := fmt.Errorf("dir target %s: %s: %w", t, what, cause)
	if permanent(err) {
		return transfer.Permanent(e)
	}
	return transfer.Network(e)
}

// permanent: what no retry can cure. A full disk may be emptied by someone, but not within the
// seconds a retry waits.
func permanent(err error) bool {
	for _, target := range []error{fs.ErrPermission, fs.ErrNotExist, syscall.EROFS, syscall.ENOSPC, syscall.EDQUOT,
		syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG, syscall.ELOOP, syscall.EFBIG} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// createTemp is os.CreateTemp with a mode: 0666 less the umask (the kernel applies it), or
// exactly t.mode.
func (t *Target) createTemp(dir string) (*os.File, error) {
	perm := fs.FileMode(0o666)
	if t.mode != 0 {
		perm = t.mode
	}
	for range 10000 {
		name := filepath.Join(dir, tmpPrefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil && t.mode != 0 {
			if err = f.Chmod(t.mode); err != nil { // the umask narrowed it
				f.Close()
				os.Remove(name)
			}
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, tmpPrefix+"*"), Err: fs.ErrExist}
}

// Probe checks that a SIP could be written into the folder by creating a temporary file there and
// removing it: the same operation Put starts with, so permissions, a read-only mount or a full
// quota show as they would.
func (t *Target) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := t.createTemp(t.root)
	if err != nil {
		return t.fail("cannot write into "+t.root, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return t.fail("cannot remove "+f.Name(), err)
	}
	return nil
}

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
	if err := t.mkdirs(dir); err != nil {
		return rcpt, err
	}
	if sip.Handover {
		if done, err := t.putByLink(ctx, sip, final); done || err != nil {
			if err == nil {
				rcpt.Time = time.Now().UTC()
			}
			return rcpt, err
		}
	}
	src, err := os.Open(sip.Path)
	if err != nil {
		return rcpt, transfer.Permanent(err)
	}
	defer src.Close()
	tmp, err := t.createTemp(dir)
	if err != nil {
		return rcpt, t.fail("cannot write into "+dir, err)
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
		if errors.Is(err, ctx.Err()) {
			return rcpt, err
		}
		return rcpt, t.fail("write "+final, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sip.SHA256 || n != sip.Size {
		return rcpt, transfer.Permanent(fmt.Errorf("dir target: %s: %w: copied %d bytes with sha256 %s, expected %d bytes with %s (the SIP changed since it was written?)",
			sip.Path, transfer.ErrDigest, n, got, sip.Size, sip.SHA256))
	}
	if err := tmp.Sync(); err != nil {
		return rcpt, t.fail("fsync "+final, err)
	}
	if err := tmp.Close(); err != nil {
		return rcpt, t.fail("write "+final, err)
	}
	// Link rather than rename: link fails if the final name appeared meanwhile (another writer),
	// so a SIP is never replaced, even in a race.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return t.Put(ctx, sip) // re-check: same bytes → AlreadyThere, else conflict
		}
		return rcpt, t.fail("link "+final, err)
	}
	os.Remove(tmp.Name())
	committed = true
	if err := atomicfile.SyncDir(dir); err != nil {
		return rcpt, t.fail("fsync the folder "+dir, err)
	}
	rcpt.Time = time.Now().UTC()
	return rcpt, nil
}

// putByLink stores a handed-over SIP by linking its file into the folder: no copy, no second
// fsync of its bytes (the spool synced them). Its SHA-256 is checked first, as a copy would be. It
// reports false, with no error, when the folder is on another file system or takes no hard links:
// Put then copies.
func (t *Target) putByLink(ctx context.Context, sip transfer.SIP, final string) (bool, error) {
	dir := filepath.Dir(final)
	got, err := transfer.FileSHA256Context(ctx, sip.Path)
	if err != nil {
		if errors.Is(err, ctx.Err()) {
			return false, err
		}
		return false, transfer.Permanent(err)
	}
	if got != sip.SHA256 {
		return false, transfer.Permanent(fmt.Errorf("dir target: %s: %w: sha256 %s, expected %s (the SIP changed since it was written?)",
			sip.Path, transfer.ErrDigest, got, sip.SHA256))
	}
	// A temporary name first, as for a copy: the mode is set before the SIP appears under its name.
	tmp := filepath.Join(dir, tmpPrefix+strconv.FormatUint(rand.Uint64(), 36))
	if err := os.Link(sip.Path, tmp); err != nil {
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) || errors.Is(err, syscall.ENOTSUP) {
			return false, nil
		}
		return false, t.fail("link into "+dir, err)
	}
	defer os.Remove(tmp)
	if t.mode != 0 {
		if err := os.Chmod(tmp, t.mode); err != nil {
			return false, t.fail("chmod "+tmp, err)
		}
	}
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // another writer got there first: the copy path says which bytes won
		}
		return false, t.fail("link "+final, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return true, t.fail("fsync the folder "+dir, err)
	}
	return true, nil
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
		return transfer.Object{}, t.fail("cannot read "+p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return transfer.Object{}, t.fail("cannot read "+p, err)
	}
	if !fi.Mode().IsRegular() {
		return transfer.Object{}, fmt.Errorf("%s: not a regular file", p)
	}
	h := sha256.New()
	if _, err := io.Copy(h, transfer.ContextReader(ctx, f)); err != nil {
		if errors.Is(err, ctx.Err()) {
			return transfer.Object{}, err
		}
		return transfer.Object{}, t.fail("read "+p, err)
	}
	return transfer.Object{Name: name, Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), ModTime: fi.ModTime()}, nil
}

// Delete removes the SIP, then syncs the folder, so that the ledger's "deleted" that follows is
// never ahead of the disk.
func (t *Target) Delete(ctx context.Context, name string) error {
	if err := transfer.CheckName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := t.path(name)
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, transfer.ErrNotExist)
	} else if err != nil {
		return t.fail("cannot delete "+p, err)
	}
	d, err := os.Open(filepath.Dir(p))
	if err != nil {
		return t.fail("cannot sync "+filepath.Dir(p), err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return t.fail("cannot sync "+filepath.Dir(p), err)
	}
	return nil
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

// AbsURL is raw with its folder made absolute (dir://archives → dir:///srv/…/archives), and raw
// itself when it is not a dir:// URL or does not parse: what records that outlive the working
// folder (the consultation index) keep, so that a dossier is found again from anywhere.
func AbsURL(raw string) string {
	root, _, err := Parse(raw)
	if err != nil || filepath.IsAbs(root) {
		return raw
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Host, u.Path, u.RawPath = "", abs, ""
	return u.String()
}
