package seda

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	sha256 "github.com/minio/sha256-simd"
	"golang.org/x/text/unicode/norm"

	"github.com/versement/versement/internal/bytesize"
)

// VerifyOptions bound what Verify accepts from an untrusted package.
type VerifyOptions struct {
	// XSDDir holds the official SEDA XSDs (seda-2.N/seda-2.N-main.xsd, or seda-2.N-main.xsd directly):
	// when set, the manifest is also validated against its version's schema.
	XSDDir string
	// MaxManifestBytes refuses larger manifests (default 256 MiB): the manifest is parsed in memory
	// order (ids, references), so its size bounds the verifier's memory.
	MaxManifestBytes int64
	// MaxRatio marks zip entries whose uncompressed size is more than MaxRatio times their
	// compressed size (above 1 MiB) as highly compressed (default 200; Deflate's ceiling is ~1032).
	// The ratio alone proves nothing (long repetitive text compresses that well): such entries are
	// expanded while their declared sizes fit in MaxExpanded.
	MaxRatio float64
	// MaxExpanded is how many bytes of highly compressed entries Verify expands in all (default
	// 64 GiB). Expansion costs only time: nothing is unpacked to disk, memory stays flat and the
	// reader stops at each entry's declared size. Entries past the budget are not expanded and the
	// package is reported as not fully checked (Report.Complete), never as damaged.
	MaxExpanded int64
	// Workers hash objects in parallel (default GOMAXPROCS).
	Workers int
	// TempDir is where a large manifest's objects wait to be checked, past 16,384 of them, in one
	// temporary file removed before Verify returns (default os.TempDir(); if it cannot be
	// written, they stay in memory).
	TempDir string
}

// Severity of a finding: errors make the package fail, warnings are reported only.
type Severity string

// Severities.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// DefaultMaxExpanded is VerifyOptions.MaxExpanded's default: an archive system's 1 GB sizing
// package and a dossier's megabytes of repeated comment text pass, a crafted terabyte does not.
const DefaultMaxExpanded = 64 << 30

// Finding codes, stable for scripts reading --json.
const (
	CodeContainer      = "CONTAINER"      // not a readable zip (truncated, not a zip)
	CodePath           = "PATH"           // absolute path, "..", backslash, empty segment
	CodeDuplicateName  = "DUPLICATE_NAME" // two entries with the same name (also case-insensitively)
	CodeLink           = "LINK"           // symbolic link or other non-regular file
	CodeLayout         = "LAYOUT"         // something other than the manifest and Content/ at the root
	CodeNoManifest     = "NO_MANIFEST"    // no manifest at the root
	CodeManyManifests  = "MORE_THAN_ONE_MANIFEST"
	CodeZipBomb        = "ZIP_BOMB"  // compression ratio or overlapping entries
	CodeEncrypted      = "ENCRYPTED" // encrypted zip entry
	CodeManifestSize   = "MANIFEST_TOO_LARGE"
	CodeXMLMalformed   = "XML_MALFORMED"
	CodeEncoding       = "ENCODING"    // a manifest in another encoding than UTF-8, decoded (warning)
	CodeDoctype        = "XML_DOCTYPE" // DOCTYPE / entity declarations are refused
	CodeNamespace      = "NAMESPACE"   // root not a SEDA 2.1–2.3 ArchiveTransfer
	CodeStructure      = "STRUCTURE"   // required element missing or out of order
	CodeDuplicateID    = "DUPLICATE_ID"
	CodeDanglingRef    = "DANGLING_REFERENCE"
	CodeCycle          = "UNIT_CYCLE"   // an ArchiveUnit is its own ancestor (nesting and ArchiveUnitRefId)
	CodeMissingFile    = "MISSING_FILE" // Uri names no file
	CodeUnreferenced   = "UNREFERENCED_FILE"
	CodeUnknownAlgo    = "UNKNOWN_ALGORITHM"
	CodeBadDigestValue = "BAD_DIGEST_VALUE" // neither hex nor base64 of the algorithm's length
	CodeDigestMismatch = "DIGEST_MISMATCH"
	CodeSizeMismatch   = "SIZE_MISMATCH"
	CodeReadError      = "READ_ERROR" // an entry could not be read to its end (corrupt data)
	CodeXSD            = "XSD_INVALID"
	CodeVitam          = "VITAM"        // valid SEDA that VITAM would refuse or compare differently
	CodeNotChecked     = "NOT_CHECKED"  // something the verifier does not check (inline Attachment)
	CodeNotExpanded    = "NOT_EXPANDED" // an entry past the expansion budget (VerifyOptions.MaxExpanded)
	CodeUnsupported    = "UNSUPPORTED"  // a package of another kind (SEDA 1.0, a DIP, MEDONA): not verified
)

// Finding is one thing wrong (or worth knowing) about a package.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Where    string   `json:"where,omitempty"` // entry name, Uri or id
	Message  string   `json:"message"`
}

// Verification is the result of verifying one package.
type Verification struct {
	Path              string  `json:"path"`
	Container         string  `json:"container"` // "zip" or "folder"
	Version           Version `json:"seda_version,omitempty"`
	MessageIdentifier string  `json:"message_identifier,omitempty"`
	Manifest          string  `json:"manifest,omitempty"` // its name in the package
	ManifestSize      int64   `json:"manifest_size,omitempty"`
	ManifestSHA256    string  `json:"manifest_sha256,omitempty"`
	ManifestSHA512    string  `json:"manifest_sha512,omitempty"`
	Units             int     `json:"units"`
	Groups            int     `json:"groups"`
	Objects           int     `json:"objects"`          // BinaryDataObjects
	ObjectsVerified   int     `json:"objects_verified"` // whose size and digest match
	PayloadBytes      int64   `json:"payload_bytes"`    // bytes hashed
	XSD               string  `json:"xsd"`              // "not checked", "valid" or "invalid"
	// Unsupported says what the package is when it is not a SEDA 2.1–2.3 transfer (SEDA 1.0, a
	// DIP, MEDONA): it is neither damaged nor checked, and nothing more is reported about it.
	Unsupported string    `json:"unsupported,omitempty"`
	Findings    []Finding `json:"findings"`

	perCode map[string]int // findings per code, to cap hostile floods
}

// maxPerCode caps the findings of one code: a crafted zip with a million bad entries must not
// make a million-line report.
const maxPerCode = 1000

// Complete reports whether the package was read whole: false when some entries were past the
// expansion budget, or when it is not a SEDA 2.x transfer (Unsupported), so that it is neither
// damaged nor proven whole.
func (r *Verification) Complete() bool { return r.perCode[CodeNotExpanded] == 0 && r.Unsupported == "" }

// Blocking lists what stops the package from being sent: its errors, then the entries it could
// not read (NOT_EXPANDED, UNSUPPORTED). Empty when the package is OK and Complete.
func (r *Verification) Blocking() []Finding {
	var errs, unread []Finding
	for _, f := range r.Findings {
		switch {
		case f.Severity == SevError:
			errs = append(errs, f)
		case f.Code == CodeNotExpanded || f.Code == CodeUnsupported:
			unread = append(unread, f)
		}
	}
	return append(errs, unread...)
}

// OK reports whether the package holds: no finding of severity error.
func (r *Verification) OK() bool {
	for _, f := range r.Findings {
		if f.Severity == SevError {
			return false
		}
	}
	return true
}

func (r *Verification) add(sev Severity, code, where, format string, args ...any) {
	r.addFinding(Finding{sev, code, where, fmt.Sprintf(format, args...)})
}

// readManifestFast: the verifier reads manifests with fastTokens first (false in tests: with
// encoding/xml only, to compare).
var readManifestFast = true

// saved is what a report holds before its manifest is read.
type saved struct {
	r        Verification
	findings int
	perCode  map[string]int
}

func (r *Verification) save() saved { return saved{*r, len(r.Findings), maps.Clone(r.perCode)} }

// restore puts the report back as it was when s was saved.
func (r *Verification) restore(s saved) {
	findings := r.Findings[:s.findings]
	*r = s.r
	r.Findings, r.perCode = findings, s.perCode
}

// maxWarningsPerCode: a warning repeated on every object (a digest in uppercase hex, say) says
// the same thing each time; a few examples and the count are enough.
const maxWarningsPerCode = 10

func limitFor(sev Severity) int {
	if sev == SevWarning {
		return maxWarningsPerCode
	}
	return maxPerCode
}

func (r *Verification) addFinding(f Finding) {
	if r.perCode == nil {
		r.perCode = map[string]int{}
	}
	r.perCode[f.Code]++
	if r.perCode[f.Code] <= limitFor(f.Severity) {
		r.Findings = append(r.Findings, f)
	}
}

// finish adds one line per code whose findings were capped.
func (r *Verification) finish() {
	sevOf := map[string]Severity{}
	for _, f := range r.Findings {
		if _, ok := sevOf[f.Code]; !ok {
			sevOf[f.Code] = f.Severity
		}
	}
	codes := make([]string, 0, len(r.perCode))
	for c, n := range r.perCode {
		if n > limitFor(sevOf[c]) {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	for _, c := range codes {
		sev := sevOf[c]
		r.Findings = append(r.Findings, Finding{sev, c, "", fmt.Sprintf("%d more %s findings not listed (%d in all)", r.perCode[c]-limitFor(sev), c, r.perCode[c])})
	}
}

// Verify checks a SEDA 2.1–2.3 SIP, as a zip file or an unpacked folder, from any producer. It
// streams: nothing is unpacked to disk and memory is bounded by the manifest size limit. A damaged
// package gives a Verification with findings and a nil error; the error is for a package that could not
// be read at all (no such file, permission denied) or a cancelled ctx.
func Verify(ctx context.Context, path string, opts VerifyOptions) (*Verification, error) {
	opts = opts.withDefaults()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	// Opening a named pipe blocks until a writer comes, and a device never ends: refuse anything
	// but a regular file or a folder before opening it.
	if !st.Mode().IsRegular() && !st.IsDir() {
		return nil, fmt.Errorf("verify %s: a %s, not a SIP file or folder", path, kindOf(st.Mode()))
	}
	r := &Verification{Path: path, XSD: "not checked", Findings: []Finding{}}
	var c container
	if st.IsDir() {
		r.Container = "folder"
		dc, err := openDir(path, r)
		if err != nil {
			return nil, err
		}
		defer dc.close()
		c = dc
	} else {
		r.Container = "zip"
		zc, err := openZip(path, st.Size(), r, opts)
		if err != nil {
			return nil, err
		}
		if zc == nil { // not a zip: reported as a finding
			r.finish()
			return r, nil
		}
		defer zc.close()
		c = zc
	}
	return verifyContainer(ctx, r, c, opts)
}

func (o VerifyOptions) withDefaults() VerifyOptions {
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = 256 << 20
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = 200
	}
	if o.MaxExpanded <= 0 {
		o.MaxExpanded = DefaultMaxExpanded
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

func verifyContainer(ctx context.Context, r *Verification, c container, opts VerifyOptions) (*Verification, error) {
	v := &verifier{r: r, c: c, opts: opts}
	if err := v.run(ctx); err != nil {
		return nil, err
	}
	r.finish()
	return r, nil
}

// entry is a file of the package, in the zip or on disk.
type entry struct {
	name string
	size int64

	// In a zip: what its central directory says (size above is the uncompressed size).
	offset int64 // of the local header, then, once read, of the data
	csize  uint64
	crc32  uint32

	usedBy uint32 // the first object whose Uri names it: 1 + its id's record, or noIDRec
	method uint16
	flags  uint16

	// bomb is set when the entry must not be expanded.
	bomb bool
	used bool
}

type container interface {
	entries() []*entry
	open(e *entry) (io.ReadCloser, error)
	close()
}

// ---- zip ----------------------------------------------------------------------------------------

type zipContainer struct {
	f    *os.File
	buf  *[]byte // the file's bytes, when read whole
	ra   io.ReaderAt
	list []*entry
}

func openZip(path string, size int64, r *Verification, opts VerifyOptions) (*zipContainer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	var ra io.ReaderAt = f
	var buf *[]byte
	if size <= wholeZipMax {
		// A small package is read whole, in one read: its entries, their local headers and data
		// descriptors were three reads of a few bytes each.
		buf, _ = zipBufs.Get().(*[]byte)
		if buf == nil || int64(cap(*buf)) < size {
			b := make([]byte, size)
			buf = &b
		}
		data := (*buf)[:size]
		if _, err := io.ReadFull(f, data); err == nil {
			ra = &memReaderAt{data: data, f: f}
		}
	}
	zc := readZip(ra, size, r, opts)
	if zc == nil {
		f.Close()
		if buf != nil {
			zipBufs.Put(buf)
		}
		return nil, nil
	}
	zc.f, zc.buf = f, buf
	return zc, nil
}

// wholeZipMax is the largest zip Verify reads into memory (memory stays flat: at most this).
var wholeZipMax int64 = 8 << 20 // a variable for a test

// zipBufs hold small packages read whole: nothing refers to their bytes once Verify returns.
var zipBufs sync.Pool

// memReaderAt reads a file's bytes from memory, as f.ReadAt would (an offset outside them goes to
// f, for its error).
type memReaderAt struct {
	data []byte
	f    *os.File
}

func (m *memReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.data)) {
		return m.f.ReadAt(b, off)
	}
	n := copy(b, m.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// readZip lists a zip's entries and applies the container checks; nil when it is no readable zip
// (a finding says so). The fuzzer calls it on bytes in memory.
func readZip(ra io.ReaderAt, size int64, r *Verification, opts VerifyOptions) *zipContainer {
	var names arena
	all, modes, err := readZipDir(ra, size, &names)
	if err != nil {
		r.add(SevError, CodeContainer, "", "not a readable zip (truncated or not a zip file): %v", err)
		return nil
	}
	zc := &zipContainer{ra: ra}
	seen := make(map[string]string, all.len())
	type span struct {
		start, end int64
		e          *entry
	}
	var spans []span
	var expanded uint64 // declared bytes of highly compressed entries accepted so far
	for i := range all.len() {
		e := all.at(i)
		name := e.name
		if !checkName(name, r) {
			continue
		}
		lower := strings.ToLower(name)
		if prev, dup := seen[lower]; dup {
			r.add(SevError, CodeDuplicateName, name, "the zip holds %q twice (names compared case-insensitively: %q)", name, prev)
			continue
		}
		seen[lower] = name
		mode := modes[i]
		if mode&fs.ModeSymlink != 0 || mode&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0 {
			r.add(SevError, CodeLink, name, "entry is a %s, not a regular file: links are refused", kindOf(mode))
			continue
		}
		if e.flags&0x1 != 0 {
			r.add(SevError, CodeEncrypted, name, "entry is encrypted: it cannot be verified")
			continue
		}
		if strings.HasSuffix(name, "/") || mode.IsDir() {
			if top, _, _ := strings.Cut(name, "/"); !strings.EqualFold(top, "content") {
				r.add(SevError, CodeLayout, name, "folder %s/ at the root: everything but the manifest must be under Content/", top)
			}
			continue
		}
		usize := uint64(e.size)
		if usize > 1<<20 && float64(usize) > opts.MaxRatio*float64(max(e.csize, 1)) {
			if expanded+usize > uint64(opts.MaxExpanded) {
				r.add(SevWarning, CodeNotExpanded, name, "declares %d bytes from %d compressed: not expanded, since highly compressed entries (above %.0f:1) would expand past %s in all; to check it, raise --max-expanded", usize, e.csize, opts.MaxRatio, bytesize.Format(opts.MaxExpanded))
				e.bomb = true
			} else {
				expanded += usize
			}
		}
		if e.method == zip.Store && e.flags&0x8 != 0 {
			r.add(SevWarning, CodeVitam, name, "STORED entry with a data descriptor: VITAM reads uploads as a stream (commons-compress ZipArchiveInputStream) and fails its first ingest step on it (\"Unsupported feature data descriptor used in entry\"); write the SIP again with this version of versement")
		}
		if off, err := e.bodyOffset(ra); err == nil {
			e.offset = off
			spans = append(spans, span{off, off + int64(e.csize), e})
		} else {
			r.add(SevError, CodeContainer, name, "entry header unreadable: %v", err)
			e.bomb = true
		}
		zc.list = append(zc.list, e)
	}
	// Entries sharing compressed bytes are the "overlapping" zip bomb: refuse them.
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			r.add(SevError, CodeZipBomb, spans[i].e.name, "entry data overlaps %s's: a crafted zip (overlapping zip bomb)", spans[i-1].e.name)
			for _, e := range zc.list {
				if e.name == spans[i].e.name || e.name == spans[i-1].e.name {
					e.bomb = true
				}
			}
		}
	}
	return zc
}

// hashBufs are the workers' read buffers: clearing a fresh 1 MiB per worker per package was most
// of the time verify spent on a small SIP.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// A new inflater per object allocates its 32 KiB window and tables (37 KB): with thousands of
// small dossiers that was 80 % of what verify allocated and most of its GC time. Inflaters, and
// the buffered reader each needs over a zip entry, are reused.
var inflaters sync.Pool

type pooledInflater struct {
	br *bufio.Reader
	fr io.ReadCloser
}

type inflaterHandle struct{ p *pooledInflater }

func newPooledInflater(r io.Reader) io.ReadCloser {
	p, _ := inflaters.Get().(*pooledInflater)
	if p == nil {
		br := bufio.NewReaderSize(r, 32<<10)
		p = &pooledInflater{br: br, fr: flate.NewReader(br)}
	} else {
		p.br.Reset(r)
		if err := p.fr.(flate.Resetter).Reset(p.br, nil); err != nil {
			p = &pooledInflater{br: p.br, fr: flate.NewReader(p.br)}
		}
	}
	return &inflaterHandle{p}
}

func (h *inflaterHandle) Read(b []byte) (int, error) {
	if h.p == nil {
		return 0, errors.New("read after close")
	}
	return h.p.fr.Read(b)
}

func (h *inflaterHandle) Close() error {
	if h.p == nil {
		return nil
	}
	err := h.p.fr.Close()
	h.p.br.Reset(nil)
	inflaters.Put(h.p)
	h.p = nil
	return err
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "device"
	}
}

var driveLetter = regexp.MustCompile(`^[A-Za-z]:`)

// checkName reports whether a zip entry name is safe to consider; unsafe ones get a finding.
func checkName(name string, r *Verification) bool {
	bad := ""
	switch {
	case name == "":
		bad = "an empty name"
	case strings.Contains(name, "\\"):
		bad = "a backslash"
	case strings.HasPrefix(name, "/") || driveLetter.MatchString(name):
		bad = "an absolute path"
	case strings.ContainsRune(name, 0):
		bad = "a NUL byte"
	default:
		for rest, more := strings.TrimSuffix(name, "/"), true; more; {
			var s string
			s, rest, more = strings.Cut(rest, "/")
			switch s {
			case "..":
				bad = `a ".." segment (path traversal)`
			case ".", "":
				if bad == "" {
					bad = "an empty or \".\" segment"
				}
			}
		}
	}
	if bad != "" {
		r.add(SevError, CodePath, strconv.Quote(name), "entry name has %s: refused, never opened", bad)
		return false
	}
	return true
}

func (z *zipContainer) entries() []*entry { return z.list }

func (z *zipContainer) open(e *entry) (io.ReadCloser, error) {
	// The digest is a stronger check than the CRC: STORED entries are read raw, saving a pass.
	return openZipEntry(z.ra, e)
}

func (z *zipContainer) close() {
	if z.f != nil {
		z.f.Close()
	}
	if z.buf != nil {
		zipBufs.Put(z.buf)
		z.buf = nil
	}
}

// ---- folder -------------------------------------------------------------------------------------

type dirContainer struct {
	root *os.Root
	list []*entry
}

func openDir(path string, r *Verification) (*dirContainer, error) {
	// os.Root confines every open to the folder: a link or name cannot reach outside it.
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	dc := &dirContainer{root: root}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("verify %s: %w", path, err)
		}
		if p == "." {
			return nil
		}
		t := d.Type()
		if t&fs.ModeSymlink != 0 || t&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0 {
			r.add(SevError, CodeLink, p, "%s: links and special files are refused, never followed", kindOf(t))
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("verify %s: %w", path, err)
		}
		dc.list = append(dc.list, &entry{name: p, size: info.Size()})
		return nil
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	return dc, nil
}

func (d *dirContainer) entries() []*entry { return d.list }

func (d *dirContainer) open(e *entry) (io.ReadCloser, error) {
	f, err := d.root.Open(e.name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (d *dirContainer) close() { d.root.Close() }

// ---- the checks ---------------------------------------------------------------------------------

var manifestName = regexp.MustCompile(`^([a-zA-Z0-9_\-]{0,56}[_-])?manifest\.xml$`)

type verifier struct {
	r      *Verification
	c      container
	opts   VerifyOptions
	byName strIndex // entry names, to their index in c.entries()
	m      *manifest
}

func (v *verifier) run(ctx context.Context) error {
	r := v.r
	var manifests []*entry
	for i, e := range v.c.entries() {
		if _, dup := v.byName.find(e.name, v.entryKey); !dup {
			v.byName.insert(uint32(i), v.entryKey)
		}
		top, rest, nested := strings.Cut(e.name, "/")
		switch {
		case !nested && manifestName.MatchString(top):
			manifests = append(manifests, e)
		case !nested:
			r.add(SevError, CodeLayout, e.name, "file at the root that is not the manifest: only the manifest and the Content/ folder may sit there")
		case !strings.EqualFold(top, "content"):
			r.add(SevError, CodeLayout, e.name, "folder %s/ at the root: everything but the manifest must be under Content/", top)
		case rest == "":
			r.add(SevError, CodePath, e.name, "entry name ends the Content folder without a file name")
		}
	}
	switch len(manifests) {
	case 0:
		// A package zipped with its folder ("sip/manifest.xml", "sip/Content/…") is the common
		// mistake: say so once, not a LAYOUT line per file.
		if top := wrappedIn(v.c.entries()); top != "" {
			r.Findings = r.Findings[:0]
			r.perCode = nil
			r.add(SevError, CodeNoManifest, "", "no manifest at the root, but %smanifest.xml is there: the package was zipped with its folder %s; zip what is inside it", top, top)
			return nil
		}
		r.add(SevError, CodeNoManifest, "", "no manifest.xml at the root of the package")
		v.unreferenced()
		return nil
	case 1:
	default:
		names := make([]string, len(manifests))
		for i, m := range manifests {
			names[i] = m.name
		}
		r.add(SevError, CodeManyManifests, "", "more than one manifest at the root: %s", strings.Join(names, ", "))
		v.unreferenced()
		return nil
	}
	me := manifests[0]
	me.used = true
	r.Manifest = me.name
	r.ManifestSize = me.size
	if me.size > v.opts.MaxManifestBytes {
		r.add(SevError, CodeManifestSize, me.name, "manifest is %d bytes, above the limit of %d (raise it with --max-manifest if the package is trusted)", me.size, v.opts.MaxManifestBytes)
		return nil
	}
	if me.bomb {
		return nil
	}
	// The fast reader first; where it gives up (errBail), encoding/xml reads the manifest again
	// from its first byte, and what the first reading added to the report is dropped.
	saved := r.save()
	var m *manifest
	var h256, h512 hash.Hash
	var lr *io.LimitedReader
	var perr error
	for _, fast := range [...]bool{readManifestFast, false} {
		rc, err := v.c.open(me)
		if err != nil {
			r.add(SevError, CodeReadError, me.name, "cannot open the manifest: %v", err)
			return nil
		}
		h256, h512 = sha256.New(), sha512.New()
		lr = &io.LimitedReader{R: rc, N: v.opts.MaxManifestBytes + 1}
		into := &manifest{entryName: v.entryName, objects: objectStore{dir: v.opts.TempDir, spill: true}}
		defer into.objects.remove()
		in := io.TeeReader(lr, io.MultiWriter(h256, h512))
		var ahead *readAhead
		var ar *aheadReader
		if fast {
			// Inflating and hashing the manifest, in a goroutine, overlap its parsing. No
			// textCap: fastTokens gives up on the runs it would shorten (maxFastRun).
			ahead = newReadAheadSize(in, 4, 64<<10)
			ar = &aheadReader{ra: ahead}
			m, perr = parseManifestFast(into, ar, r)
			if perr != nil {
				ahead.stop()
			}
		} else {
			m, perr = parseManifestInto(into, newTextCap(in, maxLeafBytes), r)
		}
		if perr == errBail {
			rc.Close()
			into.objects.remove()
			r.restore(saved)
			continue
		}
		if perr == nil {
			// Hash to the end even if the parser stopped at the root end tag.
			if ahead != nil {
				_, perr = io.Copy(io.Discard, ar) // the goroutine hashes
				ahead.stop()
			} else {
				_, perr = io.Copy(io.MultiWriter(h256, h512), lr)
			}
			if perr != nil {
				r.add(SevError, CodeReadError, me.name, "manifest unreadable: %v", perr)
			}
		}
		rc.Close()
		break
	}
	if lr.N <= 0 {
		r.add(SevError, CodeManifestSize, me.name, "manifest is larger than the limit of %d bytes", v.opts.MaxManifestBytes)
		return nil
	}
	if perr == nil {
		r.ManifestSHA256 = hex.EncodeToString(h256.Sum(nil))
		r.ManifestSHA512 = hex.EncodeToString(h512.Sum(nil))
	}
	if m == nil {
		if r.Unsupported == "" {
			v.unreferenced()
		}
		return nil
	}
	v.m = m
	m.resolve(r)
	m.cycles(r)
	if v.opts.XSDDir != "" && r.Version != "" {
		if err := v.validateXSD(me); err != nil {
			return err
		}
	}
	if err := v.checkObjects(ctx); err != nil {
		return err
	}
	v.unreferenced()
	return nil
}

// wrappedIn returns "X/" when every entry sits under one folder X holding a manifest, else "".
func wrappedIn(entries []*entry) string {
	top := ""
	manifest := false
	for _, e := range entries {
		t, rest, nested := strings.Cut(e.name, "/")
		if !nested || (top != "" && t != top) {
			return ""
		}
		top = t
		if manifestName.MatchString(rest) {
			manifest = true
		}
	}
	if !manifest {
		return ""
	}
	return top + "/"
}

func (v *verifier) unreferenced() {
	for _, e := range v.c.entries() {
		if !e.used && strings.Contains(e.name, "/") && strings.EqualFold(strings.SplitN(e.name, "/", 2)[0], "content") {
			v.r.add(SevError, CodeUnreferenced, e.name, "file is in the package but no BinaryDataObject's Uri names it")
		}
	}
}

// object is a BinaryDataObject as the manifest declares it. Its strings are in the manifest's arena.
type object struct {
	id, uri, algo string
	// value is the MessageDigest as written, or its bytes when it is lowercase hex (hexValue): the
	// usual case, in half the room.
	value      string
	hexValue   bool
	attachment bool
	size       int64 // -1: not declared
}

func (o *object) setDigest(a *arena, text string) {
	if len(text) >= 2 && len(text)%2 == 0 && strings.ToLower(text) == text {
		var buf [64]byte // SHA-512's; longer values get their own
		b := buf[:0]
		if len(text)/2 > len(buf) {
			b = make([]byte, 0, len(text)/2)
		}
		if b, err := hex.AppendDecode(b, []byte(text)); err == nil {
			o.value, o.hexValue = a.addBytes(b), true
			return
		}
	}
	o.value, o.hexValue = a.add(text), false
}

// digest is the MessageDigest as written.
func (o *object) digest() string {
	if o.hexValue {
		return hex.EncodeToString([]byte(o.value))
	}
	return o.value
}

type result struct {
	findings []Finding
	bytes    int64
	ok       bool
}

// objFinding is a finding about objects[i]; they are reported in object order.
type objFinding struct {
	i int
	f Finding
}

// knownAlgo is newHasher(algo) != nil, without making one.
func knownAlgo(algo string) bool {
	switch DigestAlgorithm(algo) {
	case MD5, SHA1, SHA256, SHA384, SHA512:
		return true
	}
	return false
}

func newHasher(algo string) hash.Hash {
	switch DigestAlgorithm(algo) {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return nil
}

func (v *verifier) checkObjects(ctx context.Context) error {
	v.r.Objects = v.m.objects.len()
	return v.m.objects.batches(v.m, func(first int, objs []object) error { return v.checkBatch(ctx, first, objs) })
}

// checkBatch checks objects first, first+1…: each against the listing, then their bytes. Nothing
// is kept per object but its job (two numbers) and the findings there are: what the listing finds,
// then what hashing finds, merged in object order.
func (v *verifier) checkBatch(ctx context.Context, first int, objs []object) error {
	type job struct{ i, e int32 }
	var jobs []job
	var listed []objFinding
	entries := v.c.entries()
	for i := range objs {
		o := &objs[i]
		addf := func(sev Severity, code, format string, args ...any) {
			listed = append(listed, objFinding{i, Finding{sev, code, o.uri, fmt.Sprintf(format, args...)}})
		}
		if o.attachment {
			listed = append(listed, objFinding{i, Finding{SevWarning, CodeNotChecked, o.id, "object is an inline Attachment: its digest is not checked"}})
			continue
		}
		if strings.TrimSpace(o.uri) == "" {
			// In a transfer, a file the manifest describes must be somewhere: the package cannot be
			// OK with its object unchecked.
			listed = append(listed, objFinding{i, Finding{SevError, CodeMissingFile, o.id, fmt.Sprintf("object %s has no Uri (empty or missing) and no Attachment: nothing says which file it is", o.id)}})
			continue
		}
		ei := v.lookup(o.uri)
		if ei < 0 {
			addf(SevError, CodeMissingFile, "object %s: its Uri names no file in the package%s", o.id, v.nearName(o.uri))
			continue
		}
		e := entries[ei]
		if e.used && e.usedBy != 0 {
			addf(SevWarning, CodeDuplicateName, "object %s: its Uri names the same file as object %s: one file described twice", o.id, v.userID(e.usedBy))
		} else {
			e.usedBy = v.idRef(o.id)
		}
		e.used = true
		if !knownAlgo(o.algo) {
			addf(SevError, CodeUnknownAlgo, "object %s: digest algorithm %q is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", o.id, o.algo)
			continue
		}
		if e.bomb {
			continue // already reported
		}
		jobs = append(jobs, job{int32(i), int32(ei)})
	}
	ch := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var hashed []objFinding
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < min(v.opts.Workers, max(len(jobs), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bp := hashBufs.Get().(*[]byte)
			defer hashBufs.Put(bp)
			buf := *bp
			for j := range ch {
				o := &objs[j.i]
				res := v.hashOne(ctx, o, entries[j.e], newHasher(o.algo), buf)
				mu.Lock()
				for _, f := range res.findings {
					hashed = append(hashed, objFinding{int(j.i), f})
				}
				v.r.PayloadBytes += res.bytes
				if res.ok {
					v.r.ObjectsVerified++
				}
				mu.Unlock()
			}
		}()
	}
	// Biggest first, so that one large file does not run alone at the end.
	sort.SliceStable(jobs, func(a, b int) bool { return entries[jobs[a].e].size > entries[jobs[b].e].size })
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	// One worker hashes an object and adds its findings together: a stable sort keeps their order.
	sort.SliceStable(hashed, func(a, b int) bool { return hashed[a].i < hashed[b].i })
	for len(listed) > 0 || len(hashed) > 0 {
		if len(hashed) == 0 || len(listed) > 0 && listed[0].i <= hashed[0].i {
			v.r.addFinding(listed[0].f)
			listed = listed[1:]
		} else {
			v.r.addFinding(hashed[0].f)
			hashed = hashed[1:]
		}
	}
	return nil
}

// idRef names an object's id by its record in the manifest's id table, which outlives the batch
// the object is in.
func (v *verifier) idRef(id string) uint32 {
	if _, i, ok := v.m.ids.find(id); ok {
		return i + 1
	}
	return noIDRec
}

// noIDRec is an object without an id (a STRUCTURE finding) that names a file.
const noIDRec = ^uint32(0)

func (v *verifier) userID(ref uint32) string {
	if ref == noIDRec {
		return ""
	}
	return v.m.ids.key(ref - 1)
}

func (v *verifier) entryKey(i uint32) string { return v.c.entries()[i].name }

// entryName is the package's own string for a file name.
func (v *verifier) entryName(name string) (string, bool) {
	if i, ok := v.byName.find(name, v.entryKey); ok {
		return v.c.entries()[i].name, true
	}
	return "", false
}

// lookup is the index of the entry a Uri names, or -1.
func (v *verifier) lookup(uri string) int {
	u := strings.TrimPrefix(uri, "./")
	if i, ok := v.byName.find(u, v.entryKey); ok {
		return int(i)
	}
	if strings.Contains(u, "%") {
		if d, err := url.PathUnescape(u); err == nil {
			if i, ok := v.byName.find(d, v.entryKey); ok {
				return int(i)
			}
		}
	}
	return -1
}

// nearName says which file the Uri probably meant when one differs only by case or by Unicode
// normalisation (macOS writes names in NFD): the two lines would otherwise look identical.
func (v *verifier) nearName(uri string) string {
	u := strings.TrimPrefix(uri, "./")
	nfc, lower := norm.NFC.String(u), strings.ToLower(norm.NFC.String(u))
	for _, e := range v.c.entries() {
		if e.used {
			continue
		}
		n := norm.NFC.String(e.name)
		switch {
		case n == nfc:
			return fmt.Sprintf("; %+q is there, the same name in another Unicode normalisation (NFD, as macOS writes names): Uri and file name must be the same bytes", e.name)
		case strings.ToLower(n) == lower:
			return fmt.Sprintf("; %q is there, differing only by case: names are compared exactly", e.name)
		}
	}
	return ""
}

func (v *verifier) hashOne(ctx context.Context, o *object, e *entry, h hash.Hash, buf []byte) result {
	var res result
	addf := func(sev Severity, code, format string, args ...any) {
		res.findings = append(res.findings, Finding{sev, code, o.uri, fmt.Sprintf(format, args...)})
	}
	rc, err := v.c.open(e)
	if err != nil {
		addf(SevError, CodeReadError, "object %s: cannot open: %v", o.id, err)
		return res
	}
	defer rc.Close()
	var n int64
	if e.size >= readAheadMin {
		// One big file cannot be hashed on two cores, but its reading (and inflating) can overlap
		// its hashing.
		ra := newReadAhead(rc)
		defer ra.stop()
		n, err = ra.hashInto(ctx, h)
	} else {
		n, err = hashAll(ctx, h, rc, buf)
	}
	if err != nil {
		if ctx.Err() != nil {
			return res
		}
		addf(SevError, CodeReadError, "object %s: read failed after %d bytes: %v", o.id, n, err)
		res.bytes = n
		return res
	}
	res.bytes = n
	var sum [sha512.Size]byte
	got := h.Sum(sum[:0])
	ok := true
	var value, form string
	var want []byte
	var derr error
	if o.hexValue && len(o.value) == h.Size() {
		// Lowercase hex of the right length, kept as its bytes: what decodeDigest would make of
		// it, without writing it out and reading it back.
		want, form = []byte(o.value), "hex"
		if !bytes.Equal(want, got) {
			value = o.digest()
		}
	} else {
		value = o.digest()
		want, form, derr = decodeDigest(value, h.Size())
	}
	digestOK := derr == nil && bytes.Equal(want, got)
	switch {
	case !o.hexValue && strings.TrimSpace(value) == "":
		ok = false // the missing MessageDigest is already a STRUCTURE finding
	case derr != nil:
		addf(SevError, CodeBadDigestValue, "object %s: %v", o.id, derr)
		ok = false
	case !bytes.Equal(want, got):
		addf(SevError, CodeDigestMismatch, "object %s: %s is %s, the manifest says %s", o.id, o.algo, hex.EncodeToString(got), value)
		ok = false
	case form != "hex":
		addf(SevWarning, CodeVitam, "object %s: digest written as %s; VITAM compares lowercase hex strings and would refuse it", o.id, form)
	}
	if o.size >= 0 && o.size != n {
		why := "its digest does not match either"
		if digestOK {
			why = "its digest matches: the manifest's Size is what is wrong"
		}
		addf(SevError, CodeSizeMismatch, "object %s: file is %d bytes, the manifest says %d (%s)", o.id, n, o.size, why)
		ok = false
	}
	res.ok = ok
	return res
}

// decodeDigest reads a MessageDigest value as hex, else base64, of the expected length.
func decodeDigest(s string, size int) ([]byte, string, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*size {
		if b, err := hex.DecodeString(s); err == nil {
			if strings.ToLower(s) != s {
				return b, "uppercase hex", nil
			}
			return b, "hex", nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == size {
			return b, "base64", nil
		}
	}
	return nil, "", fmt.Errorf("digest value %q is neither hex nor base64 of a %d-byte digest", truncate(s, 140), size)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// hashAll feeds src to h until EOF; a reader that makes no progress is an error, not a hang.
func hashAll(ctx context.Context, h hash.Hash, src io.Reader, buf []byte) (int64, error) {
	var n int64
	for zero := 0; ; {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := src.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
			zero = 0
		} else if err == nil {
			if zero++; zero > 100 {
				err = io.ErrNoProgress
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

const readAheadMin = 16 << 20

// readAhead reads its source in a goroutine, a few chunks ahead of the hashing.
type readAhead struct {
	chunks chan []byte
	free   chan []byte
	done   chan struct{}
	errc   chan error
}

func newReadAhead(r io.Reader) *readAhead { return newReadAheadSize(r, 4, 1<<20) }

// newReadAheadSize reads r in nbuf chunks of size. Only io.EOF ends the reading: an
// io.ErrUnexpectedEOF from r (a truncated deflate stream) is passed on as the error it is. That
// is why this does not use io.ReadFull, which says ErrUnexpectedEOF for a short last chunk too.
func newReadAheadSize(r io.Reader, nbuf, size int) *readAhead {
	ra := &readAhead{chunks: make(chan []byte, nbuf), free: make(chan []byte, nbuf), done: make(chan struct{}), errc: make(chan error, 1)}
	for i := 0; i < nbuf; i++ {
		ra.free <- make([]byte, size)
	}
	go func() {
		defer close(ra.chunks)
		for {
			var b []byte
			select {
			case b = <-ra.free:
			case <-ra.done:
				return
			}
			var k int
			var err error
			for k < len(b) && err == nil {
				var n int
				n, err = r.Read(b[k:])
				k += n
			}
			if k > 0 {
				select {
				case ra.chunks <- b[:k]:
				case <-ra.done:
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				ra.errc <- err
				return
			}
		}
	}()
	return ra
}

// hashInto feeds every chunk to h, without copying them.
func (ra *readAhead) hashInto(ctx context.Context, h hash.Hash) (int64, error) {
	var n int64
	for b := range ra.chunks {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		h.Write(b)
		n += int64(len(b))
		ra.free <- b[:cap(b)]
	}
	select {
	case err := <-ra.errc:
		return n, err
	default:
		return n, nil
	}
}

// aheadReader reads what a readAhead reads, in order, then its error (io.EOF at the end).
type aheadReader struct {
	ra   *readAhead
	cur  []byte // what is left of the chunk being read
	full []byte // that chunk, to give back
	err  error
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.full != nil {
			a.ra.free <- a.full
			a.full = nil
		}
		if a.err != nil {
			return 0, a.err
		}
		b, ok := <-a.ra.chunks
		if !ok {
			select {
			case err := <-a.ra.errc:
				a.err = err
			default:
				a.err = io.EOF
			}
			continue
		}
		a.cur, a.full = b, b[:cap(b)]
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// stop ends the reading goroutine; the source must be closed after stop.
func (ra *readAhead) stop() {
	close(ra.done)
	for range ra.chunks {
	}
}
