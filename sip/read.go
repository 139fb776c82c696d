package sip

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/versement/versement/seda"
)

// Reading a SIP back: one dossier's unit and objects out of a SIP at a target, through an
// io.ReaderAt (a file, or an S3 object read in ranges), so that a consultation reads the zip's
// central directory, the manifest and the dossier's own objects, not the whole package. The SIP
// is untrusted input: it may come from another producer or have been altered where it is kept.
// Entry names are checked before any is opened, the manifest's size, nesting and texts are
// bounded, and an object's bytes are checked against the manifest's size and digest as they are
// read.

// Errors a caller can test with errors.Is.
var (
	// ErrNoUnit: the SIP has no unit with the key asked for.
	ErrNoUnit = errors.New("no such unit in the SIP")
	// ErrDigest: an object's bytes do not match the size or digest the manifest declares.
	ErrDigest = errors.New("object does not match the manifest")
)

// Limits on what a manifest may make the reader hold. MaxManifestBytes is the verifier's default
// (seda.VerifyOptions.MaxManifestBytes): a SIP that verifies can be read.
const (
	MaxManifestBytes = 256 << 20
	maxDepth         = 200     // SEDA nests units, but not this deep (the verifier's bound)
	maxText          = 1 << 20 // longest text kept for one element; the rest is dropped
	maxPerUnit       = 10000   // keywords, agents, identifiers or objects of one unit
)

// manifestName is the manifest's name at the root of the zip, as VITAM and the verifier accept
// it ("manifest.xml", or a prefix ending in '_' or '-').
var manifestName = regexp.MustCompile(`^([a-zA-Z0-9_\-]{0,56}[_-])?manifest\.xml$`)

// Reader reads one SIP. Its methods may be called concurrently: each pass over the manifest opens
// its own stream.
type Reader struct {
	ra       io.ReaderAt
	files    map[string]*zip.File // entries with safe names; nil value: the name is there twice
	manifest *zip.File
	// entries are all of the zip's entries, unsafe names too, in the order of its directory: a
	// rewrite keeps that order, and must see what the other methods skip to refuse it.
	entries []*zip.File

	mu         sync.Mutex
	header     TransferHeader
	headerRead bool
}

// TransferHeader is what the manifest says about the whole SIP.
type TransferHeader struct {
	Version            seda.Version // from the root's namespace
	MessageIdentifier  string
	Date               string // as written (xsd:dateTime)
	Comment            string
	ArchivalAgreement  string
	ArchivalAgency     string // Identifier
	TransferringAgency string // Identifier
}

// Open reads the zip's central directory and finds the manifest; it reads none of the manifest:
// the first pass over it (Units, or Header) does, and a pass that goes to the end keeps the
// header (the agencies follow the package, so the header is only known at the end). An index fed
// from every SIP a run sends reads each manifest once.
func Open(ctx context.Context, ra io.ReaderAt, size int64) (*Reader, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are checked below
		return nil, fmt.Errorf("SIP: not a readable zip: %w", err)
	}
	r := &Reader{ra: ra, files: map[string]*zip.File{}, entries: zr.File}
	var manifests []string
	for _, f := range zr.File {
		if !safeEntryName(f.Name) {
			continue // never opened: no Uri can name it
		}
		if _, dup := r.files[f.Name]; dup {
			r.files[f.Name] = nil
			continue
		}
		r.files[f.Name] = f
		if manifestName.MatchString(f.Name) {
			manifests = append(manifests, f.Name)
		}
	}
	switch {
	case len(manifests) == 0:
		return nil, errors.New("SIP: no manifest.xml at the root of the zip")
	case len(manifests) > 1:
		return nil, fmt.Errorf("SIP: more than one manifest at the root: %s", strings.Join(manifests, ", "))
	case r.files[manifests[0]] == nil:
		return nil, fmt.Errorf("SIP: the zip holds %s twice", manifests[0])
	}
	r.manifest = r.files[manifests[0]]
	if r.manifest.UncompressedSize64 > MaxManifestBytes {
		return nil, fmt.Errorf("SIP: manifest is %d bytes, above the limit of %d", r.manifest.UncompressedSize64, MaxManifestBytes)
	}
	return r, nil
}

// safeEntryName refuses names that are absolute, climb out with "..", hold a backslash, a NUL,
// a drive letter or an empty segment: such an entry is never opened.
func safeEntryName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") ||
		len(name) >= 2 && name[1] == ':' {
		return false
	}
	for _, s := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

// Header is the manifest's header: read by a pass over the whole manifest, unless a Units pass
// already went to its end.
func (r *Reader) Header(ctx context.Context) (TransferHeader, error) {
	r.mu.Lock()
	h, done := r.header, r.headerRead
	r.mu.Unlock()
	if done {
		return h, nil
	}
	if err := r.scan(ctx, &h, nil); err != nil {
		return TransferHeader{}, err
	}
	r.setHeader(h)
	return h, nil
}

func (r *Reader) setHeader(h TransferHeader) {
	r.mu.Lock()
	r.header, r.headerRead = h, true
	r.mu.Unlock()
}

// Units calls fn for every ArchiveUnit of the manifest, a unit once its end tag is read: the
// units nested in a unit come before it. It stops at fn's first error and returns it.
func (r *Reader) Units(ctx context.Context, fn func(Unit) error) error {
	var h TransferHeader
	err := r.scan(ctx, &h, fn)
	if err == nil {
		r.setHeader(h)
	} else if h.MessageIdentifier != "" {
		// A pass stopped early (Unit found its unit) has read the identifier, which comes first:
		// errors name the SIP by it.
		r.mu.Lock()
		if !r.headerRead {
			r.header.MessageIdentifier = h.MessageIdentifier
		}
		r.mu.Unlock()
	}
	return err
}

// errFound stops a pass once the unit asked for is read.
var errFound = errors.New("found")

// Unit is the unit whose OriginatingSystemId is key (the dossier's key in its source), read up to
// that unit and no further. An unknown key is an error wrapping ErrNoUnit.
func (r *Reader) Unit(ctx context.Context, key string) (Unit, error) {
	var found Unit
	err := r.Units(ctx, func(u Unit) error {
		for _, id := range u.OriginatingSystemIDs {
			if id == key {
				found = u
				return errFound
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return found, nil
	case err != nil:
		return Unit{}, err
	}
	return Unit{}, fmt.Errorf("%s: %w: no unit has OriginatingSystemId %q", r.name(), ErrNoUnit, key)
}

// Object opens the bytes of one of a unit's objects. They are checked as they are read: never a
// byte past the manifest's Size is handed over, and the read that reaches the end returns an
// error wrapping ErrDigest instead of io.EOF when the size or the digest differ. A caller that
// shows the bytes keeps them until io.EOF.
func (r *Reader) Object(ctx context.Context, o Object) (io.ReadCloser, error) {
	h, want, err := expected(o)
	if err != nil {
		return nil, fmt.Errorf("%s: object %s: %w", r.name(), o.ID, err)
	}
	f, err := r.entry(o.URI)
	if err != nil {
		return nil, fmt.Errorf("%s: object %s: %w", r.name(), o.ID, err)
	}
	rc, err := openEntry(f)
	if err != nil {
		return nil, fmt.Errorf("%s: object %s: open %s: %w", r.name(), o.ID, f.Name, err)
	}
	return &checkedReader{ctx: ctx, rc: rc, h: h, want: want, size: o.Size,
		what: fmt.Sprintf("%s: object %s (%s)", r.name(), o.ID, f.Name)}, nil
}

// openEntry opens an entry's bytes. A STORED one (photos, scans: the large objects) is read raw,
// in pieces of up to 4 MiB, so that through an S3 Blob it is a few exact range requests rather
// than a block per 256 KiB; the manifest's digest is a stronger check than the CRC-32 skipped.
func openEntry(f *zip.File) (io.ReadCloser, error) {
	if f.Method != zip.Store {
		return f.Open()
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	size := min(max(int64(f.CompressedSize64), 4096), 4<<20)
	return io.NopCloser(bufio.NewReaderSize(raw, int(size))), nil
}

// entry is the zip entry a Uri names: under Content/, by its exact name (or percent-decoded), and
// only if its name is safe and there once.
func (r *Reader) entry(uri string) (*zip.File, error) {
	u := strings.TrimPrefix(strings.TrimSpace(uri), "./")
	names := []string{u}
	if strings.Contains(u, "%") {
		if d, err := url.PathUnescape(u); err == nil {
			names = append(names, d)
		}
	}
	for _, n := range names {
		top, _, nested := strings.Cut(n, "/")
		if !nested || !strings.EqualFold(top, "content") {
			continue
		}
		f, ok := r.files[n]
		switch {
		case ok && f == nil:
			return nil, fmt.Errorf("the zip holds %q twice", n)
		case ok:
			return f, nil
		}
	}
	return nil, fmt.Errorf("its Uri %q names no file under Content/ in the zip", truncateText(uri, 200))
}

// name is how errors name the SIP: by its MessageIdentifier once read (shortened: it is the
// package's own text).
func (r *Reader) name() string {
	r.mu.Lock()
	id := r.header.MessageIdentifier
	r.mu.Unlock()
	if id == "" {
		return "SIP"
	}
	return "SIP " + truncateText(id, 100)
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
