package seda

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/beevik/etree"
	"github.com/jacoelho/xsd"
	xsderrors "github.com/jacoelho/xsd/errors"
)

// Full XSD validation uses github.com/jacoelho/xsd, a pure-Go XSD 1.0 validator: no cgo and no
// xmllint on the auditor's machine, streaming, ~2 ms per manifest once the schema is loaded
// (~50 ms). It agrees with xmllint on VITAM's samples; the tests keep xmllint as the independent
// oracle. Its one known limit at v0.0.27: it may stop at the first error of some kinds, so the
// report can list fewer XSD errors than xmllint.
//
// It also gets one XSD 1.0 rule wrong: a complexContent extension, without particles, of a type
// with simple content has the base's simple content (XSD 1.0 §3.4.2, "the {content type} of the
// base"), but the engine gives it empty content and calls any text an error
// (cvc-complex-type.2.3). SEDA's CustodialHistoryItemType is such a type, in 2.1, 2.2 and 2.3,
// and CustodialHistoryItem is common in French SIPs. simpleContentOverlay serves the schema
// files with those definitions spelled as the equivalent simpleContent extension, which the
// engine reads right; the files on disk are untouched.

var nsPrefix = regexp.MustCompile(`\{[^}]*\}`)

var schemaCache sync.Map // main.xsd path -> *xsd.Schema

func schemaFile(dir string, v Version) (string, error) {
	name := "seda-" + string(v) + "-main.xsd"
	for _, p := range []string{filepath.Join(dir, "seda-"+string(v), name), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("--xsd-dir %s: neither seda-%s/%s nor %s is there", dir, v, name, name)
}

// LoadSchema loads (once per process) the official XSD of version v found under dir.
func LoadSchema(dir string, v Version) (*xsd.Schema, error) {
	p, err := schemaFile(dir, v)
	if err != nil {
		return nil, err
	}
	if s, ok := schemaCache.Load(p); ok {
		return s.(*xsd.Schema), nil
	}
	fsys, err := simpleContentOverlay(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("load schema %s: %w", p, err)
	}
	s, err := xsd.LoadWithOptions(fsys, filepath.Base(p), xsd.NewLoadOptions())
	if err != nil {
		return nil, fmt.Errorf("load schema %s: %w", p, err)
	}
	schemaCache.Store(p, s)
	return s, nil
}

// validateXSD validates the manifest entry against its version's schema. A missing or unreadable
// schema is the caller's error (exit 2), not the package's.
func (v *verifier) validateXSD(me *entry) error {
	s, err := LoadSchema(v.opts.XSDDir, v.r.Version)
	if err != nil {
		return err
	}
	rc, err := v.c.open(me)
	if err != nil {
		v.r.add(SevError, CodeReadError, me.name, "cannot reopen the manifest for XSD validation: %v", err)
		return nil
	}
	defer rc.Close()
	verr := s.Validate(rc)
	if verr == nil {
		v.r.XSD = "valid"
		return nil
	}
	v.r.XSD = "invalid"
	if list, ok := xsderrors.AsValidations(verr); ok && len(list) > 0 {
		for i, e := range list {
			if i == 20 {
				v.r.add(SevError, CodeXSD, me.name, "%d more XSD errors not listed", len(list)-20)
				break
			}
			msg := e.Code + " " + e.Message
			if e.Actual != "" && e.Actual != "?" {
				msg += ": found " + nsPrefix.ReplaceAllString(e.Actual, "")
			}
			if len(e.Expected) > 0 {
				msg += ", expected " + nsPrefix.ReplaceAllString(strings.Join(e.Expected, " | "), "")
			}
			v.r.add(SevError, CodeXSD, fmt.Sprintf("%s:%d", me.name, e.Line), "SEDA %s XSD: %s (at %s)", v.r.Version, msg, nsPrefix.ReplaceAllString(e.Path, ""))
		}
		return nil
	}
	v.r.add(SevError, CodeXSD, me.name, "SEDA %s XSD: %v", v.r.Version, verr)
	return nil
}

const xsdNS = "http://www.w3.org/2001/XMLSchema"

// simpleContentOverlay reads the .xsd files of dir and returns a file system serving them, with
// each complexContent extension (no particle) of a simple-content complex type rewritten as a
// simpleContent extension. Files without such a type are served as they are.
func simpleContentOverlay(dir string) (fs.FS, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.xsd"))
	if err != nil {
		return nil, err
	}
	docs := map[string]*etree.Document{}
	simple := map[string]bool{} // local names of complex types with simple content
	type ext struct {
		file string
		cc   *etree.Element // the complexContent element
		name string
		base string
	}
	var exts []ext
	for _, n := range names {
		doc := etree.NewDocument()
		if err := doc.ReadFromFile(n); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		base := filepath.Base(n)
		docs[base] = doc
		for _, ct := range doc.FindElements("//complexType") {
			if ct.NamespaceURI() != xsdNS {
				continue
			}
			name := ct.SelectAttrValue("name", "")
			for _, c := range ct.ChildElements() {
				switch c.Tag {
				case "simpleContent":
					simple[name] = true
				case "complexContent":
					e := c.SelectElement("extension")
					if e == nil || c.SelectAttrValue("mixed", "") == "true" {
						continue
					}
					particle := false
					for _, p := range e.ChildElements() {
						switch p.Tag {
						case "sequence", "choice", "all", "group":
							particle = true
						}
					}
					if !particle {
						b := e.SelectAttrValue("base", "")
						if i := strings.LastIndex(b, ":"); i >= 0 {
							b = b[i+1:]
						}
						exts = append(exts, ext{base, c, name, b})
					}
				}
			}
		}
	}
	changed := map[string]bool{}
	for again := true; again; { // an extension of a rewritten type has simple content too
		again = false
		for _, e := range exts {
			if simple[e.base] && !simple[e.name] {
				simple[e.name] = true
				e.cc.Tag = "simpleContent"
				changed[e.file] = true
				again = true
			}
		}
	}
	over := overlayFS{base: os.DirFS(dir), files: map[string][]byte{}}
	for f := range changed {
		var b bytes.Buffer
		if _, err := docs[f].WriteTo(&b); err != nil {
			return nil, err
		}
		over.files[f] = b.Bytes()
	}
	return over, nil
}

// overlayFS serves some files from memory and the rest from base.
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

func (o overlayFS) Open(name string) (fs.File, error) {
	b, ok := o.files[name]
	if !ok {
		return o.base.Open(name)
	}
	f, err := o.base.Open(name) // for its FileInfo, and so that permissions still apply
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(b), info: memInfo{info, int64(len(b))}}, nil
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct {
	fs.FileInfo
	size int64
}

func (i memInfo) Size() int64 { return i.size }
