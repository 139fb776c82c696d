package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/targets"
)

// checkSource is the source's part of a run's preflight: every table and column each class reads
// exists, before the plan is printed (a missing table used to give an all-zero plan, then the error).
func checkSource(ctx context.Context, src extract.Source, p *profiles.Profile, names []string) error {
	classes, err := selectClasses(p, names)
	if err != nil {
		return err
	}
	ch, ok := src.(extract.Checker)
	if !ok {
		return nil
	}
	for _, c := range classes {
		if _, err := ch.Check(ctx, c.ExtractSpec()); err != nil {
			return fmt.Errorf("class %s: %w", c.Name, err)
		}
	}
	return nil
}

// pendingDir is a dir:// target whose folder does not exist yet: the preflight checked that it can
// be created, and it is created (opened) only once every check has passed.
type pendingDir struct{ url string }

// probeTargets is the targets' part of a run's preflight: each URL is well formed, and each target
// can take a SIP (transfer.Prober: a folder that is writable, a bucket that exists). It creates
// nothing: a dir:// folder that does not exist yet is not opened (opening creates it), its nearest
// existing parent is checked instead. It returns the targets it opened, by URL, and the URLs left
// to open.
func probeTargets(ctx context.Context, urls []string, opts targets.Options) (map[string]transfer.Target, []pendingDir, error) {
	opened := map[string]transfer.Target{}
	var later []pendingDir
	fail := func(err error) (map[string]transfer.Target, []pendingDir, error) {
		for _, t := range opened {
			t.Close()
		}
		return nil, nil, err
	}
	for _, u := range urls {
		if err := targets.Check(u); err != nil {
			return fail(err)
		}
	}
	for _, u := range urls {
		if _, ok := opened[u]; ok || containsPending(later, u) {
			continue
		}
		if strings.HasPrefix(u, "dir:") {
			root, _, err := dir.Parse(u)
			if err != nil {
				return fail(err)
			}
			exists, err := checkCreatable("dir target dir://"+root, root)
			if err != nil {
				return fail(err)
			}
			if !exists {
				later = append(later, pendingDir{u})
				continue
			}
		}
		t, err := openTarget(ctx, u, opts)
		if err != nil {
			return fail(err)
		}
		opened[u] = t
		if p, ok := transfer.As[transfer.Prober](t); ok {
			if err := p.Probe(ctx); err != nil {
				return fail(err)
			}
		}
	}
	return opened, later, nil
}

func containsPending(l []pendingDir, u string) bool {
	for _, p := range l {
		if p.url == u {
			return true
		}
	}
	return false
}

// checkCreatable reports whether the folder path exists; when it does not, it checks that it could
// be created (its nearest existing parent is a folder one can write into), leaving nothing behind.
// what names the folder in the errors.
func checkCreatable(what, path string) (bool, error) {
	for d := path; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) {
			if parent := filepath.Dir(d); parent != d {
				continue
			}
		}
		if err != nil {
			return false, fmt.Errorf("%s: cannot create the folder %s: %w", what, path, unwrapPath(err))
		}
		if !fi.IsDir() {
			return false, fmt.Errorf("%s: cannot create the folder %s: %s is not a folder", what, path, d)
		}
		if d == path {
			return true, nil
		}
		f, err := os.CreateTemp(d, ".versement-preflight-*")
		if err != nil {
			return false, fmt.Errorf("%s: cannot create the folder %s: cannot write into %s: %w", what, path, d, unwrapPath(err))
		}
		f.Close()
		os.Remove(f.Name())
		return false, nil
	}
}

// unwrapPath drops the path and operation of a *fs.PathError: the message names the folder.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
