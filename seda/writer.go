package seda

import (
	"archive/zip"
	"bufio"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/klauspost/compress/flate"
	sha256 "github.com/minio/sha256-simd"

	"github.com/versement/versement/civil"
)

// Option tunes a Writer.
type Option func(*options)

type options struct {
	tempDir string
	level   int
}

// WithTempDir puts the writer's two spill files (the manifest's groups and units, written out as
// they come so that memory stays flat) in dir instead of os.TempDir().
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithDeflateLevel sets the Deflate level for compressible objects and the manifest (klauspost
// flate levels 1–9; default 1, see docs/seda.md for the measurements behind it).
func WithDeflateLevel(level int) Option { return func(o *options) { o.level = level } }

// DefaultDeflateLevel is the level the writer uses: measured in docs/seda.md.
const DefaultDeflateLevel = 1

// Writer writes one SIP. It is not safe for concurrent use. Objects are written to the zip as they
// come; the manifest's groups and units go to temporary files and manifest.xml is assembled at
// Close, once every digest is known.
type Writer struct {
	h     Header
	out   *countHash
	zw    *zip.Writer
	mod   time.Time
	names map[string]struct{} // Content/ names: needed to refuse duplicates

	tempDir           string
	groups, units     *spill
	stored            storedObject // reused for every STORED object
	nObjects, nGroups int
	nUnits            int
	payload           int64
	curGroup          GroupID
	groupVersions     map[string]bool // DataObjectVersions of the group being written
	open              *ObjectWriter
	stack             []string // ids of open units
	// first is the first unit opened (a SIP's series unit), kept to be written at Close: its
	// dates extrêmes are those of the units under it, known once they are written
	// (SetFirstUnitDates).
	first  *Unit
	err    error
	closed bool
}

// NewWriter starts a SIP written to w. Nothing is written to w until the first object, and the
// package is complete only after Close.
func NewWriter(w io.Writer, h Header, opts ...Option) (*Writer, error) {
	o := options{level: DefaultDeflateLevel}
	for _, f := range opts {
		f(&o)
	}
	if h.Version == "" {
		h.Version = V22
	}
	switch h.Version {
	case V21, V22, V23:
	default:
		return nil, fmt.Errorf("seda: version %q: want 2.1, 2.2 or 2.3", h.Version)
	}
	if h.DigestAlgorithm == "" {
		h.DigestAlgorithm = SHA256
	}
	if h.DigestAlgorithm != SHA256 && h.DigestAlgorithm != SHA512 {
		return nil, fmt.Errorf("seda: digest algorithm %q: the writer produces SHA-256 or SHA-512", h.DigestAlgorithm)
	}
	if h.Date.IsZero() {
		return nil, errors.New("seda: Header.Date is required (it is the message date and the zip entries' time)")
	}
	if h.Date.Year() < 1980 || h.Date.Year() > 2107 {
		return nil, fmt.Errorf("seda: Header.Date %v is outside what zip timestamps hold (1980–2107)", h.Date)
	}
	if _, err := token("MessageIdentifier", h.MessageIdentifier); err != nil {
		return nil, err
	}
	if _, err := token("ArchivalAgency", h.ArchivalAgency); err != nil {
		return nil, err
	}
	if _, err := token("TransferringAgency", h.TransferringAgency); err != nil {
		return nil, err
	}
	if len(h.Management.Hold) > 0 && !h.Version.HasHoldRule() {
		return nil, ErrHoldRuleVersion
	}
	if h.CodeListVersions.HoldRule != "" && !h.Version.HasHoldRule() {
		return nil, errors.New("seda: HoldRuleCodeListVersion exists only from SEDA 2.2 on")
	}
	switch h.LegalStatus {
	case "", "Public Archive", "Private Archive", "Public and Private Archive":
	default:
		return nil, fmt.Errorf("seda: LegalStatus %q: want Public Archive, Private Archive or Public and Private Archive", h.LegalStatus)
	}
	if o.level < flate.BestSpeed || o.level > flate.BestCompression {
		return nil, fmt.Errorf("seda: Deflate level %d: want 1 to 9", o.level)
	}
	sw := &Writer{h: h, out: newCountHash(w), names: map[string]struct{}{}, tempDir: o.tempDir}
	sw.mod = h.Date.UTC().Truncate(time.Second)
	sw.zw = zip.NewWriter(sw.out)
	level := o.level
	pool := &sync.Pool{}
	sw.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		if fw, ok := pool.Get().(*flate.Writer); ok {
			fw.Reset(w)
			return &pooledFlate{fw, pool}, nil
		}
		fw, err := flate.NewWriter(w, level)
		if err != nil {
			return nil, err
		}
		return &pooledFlate{fw, pool}, nil
	})
	var err error
	if sw.groups, err = newSpill(o.tempDir, "groups"); err != nil {
		return nil, err
	}
	if sw.units, err = newSpill(o.tempDir, "units"); err != nil {
		sw.groups.remove()
		return nil, err
	}
	return sw, nil
}

type pooledFlate struct {
	*flate.Writer
	pool *sync.Pool
}

func (p *pooledFlate) Close() error {
	err := p.Writer.Close()
	p.pool.Put(p.Writer)
	return err
}

// ObjectWriter receives one object's bytes; Close records it in the manifest.
type ObjectWriter struct {
	w      *Writer
	id     string
	group  GroupID
	obj    Object
	entry  io.Writer
	stored *storedObject // the object's bytes until Close, when it is a STORED entry
	h      hash.Hash
	size   int64
	digest string
	done   bool
}

// CreateObject adds a data object. Write its bytes to the returned writer and Close it before the
// next object: its digest and size are computed in the same pass that writes it into the zip.
func (w *Writer) CreateObject(o Object) (*ObjectWriter, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	if w.open != nil {
		return nil, fmt.Errorf("seda: object %s is still open: Close it before creating %s", w.open.obj.Name, o.Name)
	}
	if err := checkFileName(o.Name); err != nil {
		return nil, err
	}
	name := "Content/" + o.Name
	if _, dup := w.names[name]; dup {
		return nil, fmt.Errorf("seda: file name %q is already in the package", o.Name)
	}
	if o.Version == "" {
		o.Version = "BinaryMaster_1"
	}
	if !dataObjectVersion.MatchString(o.Version) {
		return nil, fmt.Errorf("seda: DataObjectVersion %q: want a usage such as BinaryMaster, Dissemination, Thumbnail or TextContent, optionally _N", o.Version)
	}
	switch {
	case o.Group == "":
		if err := w.closeGroup(); err != nil {
			return nil, err
		}
		w.nGroups++
		w.curGroup = GroupID("GOT-" + strconv.Itoa(w.nGroups))
		w.groupVersions = map[string]bool{}
		if _, err := fmt.Fprintf(w.groups, "<DataObjectGroup id=\"%s\">\n", w.curGroup); err != nil {
			return nil, w.fail(err)
		}
	case o.Group != w.curGroup:
		return nil, fmt.Errorf("seda: object %s: group %s is not the group being written (%s): write a group's objects one after another", o.Name, o.Group, w.curGroup)
	}
	if w.groupVersions[o.Version] {
		return nil, fmt.Errorf("seda: object %s: group %s already has a %s object (VITAM refuses two objects of one version in a group): use BinaryMaster_2, _3…", o.Name, w.curGroup, o.Version)
	}
	w.groupVersions[o.Version] = true
	ow := &ObjectWriter{w: w, group: w.curGroup, obj: o, h: w.newHash()}
	if storeAsIs(o.MimeType, o.Name) {
		// A STORED entry is written at Close, once its CRC-32 and size are known: see storedObject.
		w.stored.dir = w.tempDir
		w.stored.reset()
		ow.stored = &w.stored
		ow.entry = ow.stored
	} else {
		entry, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: w.mod})
		if err != nil {
			return nil, w.fail(err)
		}
		ow.entry = entry
	}
	w.names[name] = struct{}{}
	w.nObjects++
	ow.id = "BDO-" + strconv.Itoa(w.nObjects)
	w.open = ow
	return ow, nil
}

var dataObjectVersion = regexp.MustCompile(`^(BinaryMaster|Dissemination|Thumbnail|TextContent|PhysicalMaster)(_[0-9]+)?$`)

// Write writes object bytes to the zip and the digest.
func (ow *ObjectWriter) Write(p []byte) (int, error) {
	if ow.done {
		return 0, errors.New("seda: write to a closed object")
	}
	if ow.w.err != nil {
		return 0, ow.w.err
	}
	ow.h.Write(p)
	n, err := ow.entry.Write(p)
	ow.size += int64(n)
	if err != nil {
		return n, ow.w.fail(err)
	}
	return n, nil
}

// ReadFrom copies r into the object with a large buffer (io.Copy uses it).
func (ow *ObjectWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBuf.Get().(*[]byte)
	defer copyBuf.Put(buf)
	var total int64
	for {
		n, err := r.Read(*buf)
		if n > 0 {
			if _, werr := ow.Write((*buf)[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

var copyBuf = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Close ends the object and writes its BinaryDataObject to the manifest.
func (ow *ObjectWriter) Close() error {
	if ow.done {
		return nil
	}
	ow.done = true
	w := ow.w
	w.open = nil
	if w.err != nil {
		return w.err
	}
	if ow.stored != nil {
		if err := w.writeStored("Content/"+ow.obj.Name, ow.stored); err != nil {
			return w.fail(fmt.Errorf("seda: object %s: %w", ow.obj.Name, err))
		}
	}
	ow.digest = hex.EncodeToString(ow.h.Sum(nil))
	w.payload += ow.size
	e, err := ow.element(w.h.DigestAlgorithm)
	if err != nil {
		return w.fail(err)
	}
	if err := w.groups.element(e); err != nil {
		return w.fail(err)
	}
	return nil
}

// ID is the object's id in the manifest (BDO-n).
func (ow *ObjectWriter) ID() string { return ow.id }

// Group is the DataObjectGroup the object is in: pass it in Object.Group to add more objects to
// the group, and in Unit.Groups to reference it.
func (ow *ObjectWriter) Group() GroupID { return ow.group }

// Digest is the lowercase hex digest (the Header's algorithm), known after Close.
func (ow *ObjectWriter) Digest() string { return ow.digest }

// Size is the number of bytes written.
func (ow *ObjectWriter) Size() int64 { return ow.size }

// Path is the object's path in the zip (Content/name).
func (ow *ObjectWriter) Path() string { return "Content/" + ow.obj.Name }

// AddObject writes a whole object from r: CreateObject, copy, Close.
func (w *Writer) AddObject(o Object, r io.Reader) (*ObjectWriter, error) {
	ow, err := w.CreateObject(o)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(ow, r); err != nil {
		ow.Close()
		return nil, w.fail(fmt.Errorf("seda: object %s: %w", o.Name, err))
	}
	return ow, ow.Close()
}

func (w *Writer) closeGroup() error {
	if w.curGroup == "" {
		return nil
	}
	w.curGroup = ""
	if _, err := io.WriteString(w.groups, "</DataObjectGroup>\n"); err != nil {
		return w.fail(err)
	}
	return nil
}

// OpenUnit starts an ArchiveUnit: units added until the matching CloseUnit are its children. It
// returns the unit's id (AU-n).
func (w *Writer) OpenUnit(u Unit) (string, error) {
	if err := w.usable(); err != nil {
		return "", err
	}
	id := "AU-" + strconv.Itoa(w.nUnits+1)
	if c := u.Content; !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.EndDate.Before(c.StartDate) {
		return "", fmt.Errorf("unit %s (%q): EndDate %s is before StartDate %s", id, c.Title, c.EndDate, c.StartDate)
	}
	children, err := w.unitChildren(u)
	if err != nil {
		return "", fmt.Errorf("unit %s (%q): %w", id, u.Content.Title, err)
	}
	w.nUnits++
	w.stack = append(w.stack, id)
	if w.nUnits == 1 {
		w.first = &u
		return id, nil
	}
	if err := w.writeUnitHead(w.units.Writer, id, children); err != nil {
		return "", w.fail(err)
	}
	return id, nil
}

func (w *Writer) writeUnitHead(out *bufio.Writer, id string, children []*etree.Element) error {
	if _, err := fmt.Fprintf(out, "<ArchiveUnit id=\"%s\">\n", id); err != nil {
		return err
	}
	for _, c := range children {
		if err := writeElement(out, c); err != nil {
			return err
		}
	}
	return nil
}

// SetFirstUnitDates sets the StartDate and EndDate of the first unit opened (a series), which are
// written at Close: the dates extrêmes of what was put under it. Zero dates leave it without.
func (w *Writer) SetFirstUnitDates(start, end civil.Date) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.first == nil {
		return errors.New("seda: SetFirstUnitDates before any unit was opened")
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return fmt.Errorf("unit AU-1 (%q): EndDate %s is before StartDate %s", w.first.Content.Title, end, start)
	}
	w.first.Content.StartDate, w.first.Content.EndDate = start, end
	return nil
}

// CloseUnit ends the unit opened last.
func (w *Writer) CloseUnit() error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.stack) == 0 {
		return errors.New("seda: CloseUnit without an open unit")
	}
	w.stack = w.stack[:len(w.stack)-1]
	if _, err := io.WriteString(w.units, "</ArchiveUnit>\n"); err != nil {
		return w.fail(err)
	}
	return nil
}

// AddUnit writes a unit without children (OpenUnit then CloseUnit).
func (w *Writer) AddUnit(u Unit) (string, error) {
	id, err := w.OpenUnit(u)
	if err != nil {
		return "", err
	}
	return id, w.CloseUnit()
}

func (w *Writer) groupExists(g GroupID) bool {
	n, ok := strings.CutPrefix(string(g), "GOT-")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i >= 1 && i <= w.nGroups && strconv.Itoa(i) == n
}

// Close writes manifest.xml and the zip's directory, and reports the package. It fails if an object
// or a unit is still open. The temporary files are removed in every case.
func (w *Writer) Close() (Summary, error) {
	defer w.cleanup()
	if err := w.usable(); err != nil {
		return Summary{}, err
	}
	w.closed = true
	if w.open != nil {
		return Summary{}, w.fail(fmt.Errorf("seda: object %s is still open", w.open.obj.Name))
	}
	if len(w.stack) > 0 {
		return Summary{}, w.fail(fmt.Errorf("seda: unit %s is still open: CloseUnit every OpenUnit", w.stack[len(w.stack)-1]))
	}
	if w.nUnits == 0 {
		return Summary{}, w.fail(errors.New("seda: the package has no archive unit"))
	}
	if err := w.closeGroup(); err != nil {
		return Summary{}, err
	}
	entry, err := w.zw.CreateHeader(&zip.FileHeader{Name: "manifest.xml", Method: zip.Deflate, Modified: w.mod})
	if err != nil {
		return Summary{}, w.fail(err)
	}
	h256, h512 := sha256.New(), sha512.New()
	mw := &countWriter{w: io.MultiWriter(entry, h256, h512)}
	if err := w.writeManifest(mw); err != nil {
		return Summary{}, w.fail(err)
	}
	if err := w.zw.Close(); err != nil {
		return Summary{}, w.fail(err)
	}
	return Summary{
		Version:           w.h.Version,
		MessageIdentifier: w.h.MessageIdentifier,
		DigestAlgorithm:   w.h.DigestAlgorithm,
		ManifestSHA512:    hex.EncodeToString(h512.Sum(nil)),
		ManifestSHA256:    hex.EncodeToString(h256.Sum(nil)),
		ManifestSize:      mw.n,
		Objects:           w.nObjects,
		Groups:            w.nGroups,
		Units:             w.nUnits,
		PayloadBytes:      w.payload,
		ZipSHA256:         hex.EncodeToString(w.out.h.Sum(nil)),
		ZipSize:           w.out.n,
	}, nil
}

// Abort gives up the package: the temporary files are removed; what was written to w is incomplete.
func (w *Writer) Abort() {
	w.closed = true
	if w.err == nil {
		w.err = errors.New("seda: writer aborted")
	}
	w.cleanup()
}

func (w *Writer) newHash() hash.Hash {
	if w.h.DigestAlgorithm == SHA512 {
		return sha512.New()
	}
	return sha256.New()
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("seda: writer is closed")
	}
	return nil
}

// fail makes err sticky: after a failed write the package is unusable.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) cleanup() {
	w.stored.remove()
	w.groups.remove()
	w.units.remove()
}

// storeAsIs tells formats that are already compressed, where Deflate only costs time.
func storeAsIs(mime, name string) bool {
	switch strings.ToLower(mime) {
	case "image/jpeg", "image/png", "image/gif", "image/webp", "image/jp2", "application/zip", "application/gzip",
		"application/x-gzip", "application/x-7z-compressed", "application/x-bzip2", "application/x-xz",
		"application/zstd", "application/pdf", "audio/mpeg", "video/mp4":
		return true
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".jp2", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".zst",
		".pdf", ".mp3", ".mp4", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp":
		return true
	}
	return false
}

// countHash counts and hashes (SHA-256) everything written to w.
type countHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

// Written is how many bytes of the package have reached the writer given to NewWriter so far (the
// zip writer buffers a few kilobytes): what a batcher compares with its byte limit.
func (w *Writer) Written() int64 { return w.out.n }

func newCountHash(w io.Writer) *countHash { return &countHash{w: w, h: sha256.New()} }

func (c *countHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
