// Package atomicfile replaces small files (checkpoints, state) so that a crash leaves either the
// old content or the new, never half of one.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data: a temporary file in the same folder (so the rename cannot
// cross file systems), fsync, rename, then fsync of the folder so that the rename itself survives
// a power loss. The file gets os.CreateTemp's mode, 0600. Errors name path.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir, path)
}

// Pending is a file being written under a temporary name beside its final path. Nothing is seen at
// path until Commit; Abort (or a crash) leaves whatever was there before untouched.
type Pending struct {
	*os.File
	path string
}

// Create starts writing path. The file is 0600: what versement writes this way (elimination
// proposals, reports) holds personal data.
func Create(path string) (*Pending, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Pending{File: tmp, path: path}, nil
}

// Commit makes the written content durable and puts it at its path.
func (p *Pending) Commit() error {
	name := p.File.Name()
	if err := p.File.Sync(); err != nil {
		p.Abort()
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if err := p.File.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if err := os.Rename(name, p.path); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	return syncDir(filepath.Dir(p.path), p.path)
}

// Abort throws the written content away.
func (p *Pending) Abort() {
	p.File.Close()
	os.Remove(p.File.Name())
}

func syncDir(dir, path string) error {
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir makes the entries of a folder durable: a file renamed into it survives a power cut only
// once its folder is synced.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// Write writes path through fn: all of it, replaced whole, or — when fn fails — nothing, and
// whatever was there before stays (a download whose digest did not match leaves no file).
func Write(path string, fn func(w io.Writer) error) error {
	p, err := Create(path)
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		p.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return p.Commit()
}
