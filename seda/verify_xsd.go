package seda

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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
		var at map[[2]int]string // the engine reports "?" for an undeclared element: read its name where it stands
		if len(list) > 0 {
			pos := make([][2]int, 0, min(len(list), 40))
			for _, e := range list[:min(len(list), 40)] {
				pos = append(pos, [2]int{e.Line, e.Column})
			}
			if rc2, err := v.c.open(me); err == nil {
				at = elementsAt(rc2, pos)
				rc2.Close()
			}
		}
		listed := 0
		for i := 0; i < len(list); i++ {
			e := list[i]
			// Once a sequence is broken, the engine reports every later sibling too: one
			// finding per place, with the count of the others.
			same := 0
			for i+1 < len(list) && list[i+1].Code == e.Code && list[i+1].Path == e.Path {
				same++
				i++
			}
			if listed == 20 {
				v.r.add(SevError, CodeXSD, me.name, "more XSD errors not listed")
				break
			}
			listed++
			msg := e.Code + " " + strings.TrimSuffix(strings.TrimSpace(strings.SplitN(e.Message, ": found", 2)[0]), ":")
			switch actual := nsPrefix.ReplaceAllString(e.Actual, ""); actual {
			case "", "?", "*":
				if name := at[[2]int{e.Line, e.Column}]; name != "" {
					msg += ": found <" + name + ">"
				} else if len(e.Expected) > 0 {
					msg += ": an element the schema does not allow there"
				}
			default:
				msg += ": found <" + actual + ">"
			}
			if exp := e.Expected; len(exp) > 0 {
				names := make([]string, 0, len(exp))
				for _, x := range exp {
					if x = nsPrefix.ReplaceAllString(x, ""); x != "*" && x != "?" {
						names = append(names, x)
					}
				}
				if len(names) > 8 {
					names = append(names[:8], fmt.Sprintf("… (%d in all)", len(exp)))
				}
				if len(names) > 0 {
					msg += ", expected " + strings.Join(names, " | ")
				}
			}
			if same > 0 {
				msg += fmt.Sprintf(" (and %d more at the same place, which follow from it)", same)
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

// elementsAt returns the name of the element whose start tag is at or just before each (line,
// column) of the document, reading it once, a line at a time (a line longer than 64 KiB is only
// looked at in its first 64 KiB).
func elementsAt(r io.Reader, pos [][2]int) map[[2]int]string {
	want := map[int][]int{}
	for _, p := range pos {
		want[p[0]] = append(want[p[0]], p[1])
	}
	out := map[[2]int]string{}
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; len(want) > 0; line++ {
		b, err := br.ReadSlice('\n')
		full := b
		for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of a very long line
			_, err = br.ReadSlice('\n')
		}
		if cols, ok := want[line]; ok {
			for _, c := range cols {
				end := min(max(c, 1), len(full))
				i := bytes.LastIndexByte(full[:end], '<')
				if i < 0 {
					i = bytes.IndexByte(full, '<')
				}
				if i >= 0 {
					name := full[i+1:]
					if j := bytes.IndexAny(name, " \t\r\n/>"); j >= 0 {
						name = name[:j]
					}
					if k := bytes.IndexByte(name, ':'); k >= 0 {
						name = name[k+1:]
					}
					if len(name) > 0 && len(name) < 200 && name[0] != '/' {
						out[[2]int{line, c}] = string(name)
					}
				}
			}
			delete(want, line)
		}
		if err != nil {
			break
		}
	}
	return out
}
