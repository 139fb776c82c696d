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
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/klauspost/compress/flate"
	sha256 "github.com/minio/sha256-simd"
	"github.com/versement/versement/civil"
)

// DigestAlgorithm names a digest as SEDA's MessageDigest@algorithm spells it.
type DigestAlgorithm string

// Digest algorithms VITAM accepts. The writer produces SHA-256 (default) or SHA-512; the verifier
// reads all five.
const (
	MD5    DigestAlgorithm = "MD5"
	SHA1   DigestAlgorithm = "SHA-1"
	SHA256 DigestAlgorithm = "SHA-256"
	SHA384 DigestAlgorithm = "SHA-384"
	SHA512 DigestAlgorithm = "SHA-512"
)

// CodeListVersions are the message's CodeListVersions; empty fields are left out (every child is
// optional since 2.1). HoldRule is written only from 2.2 on.
type CodeListVersions struct {
	Reply, MessageDigestAlgorithm, MimeType, Encoding, FileFormat, CompressionAlgorithm,
	DataObjectVersion, StorageRule, AppraisalRule, AccessRule, DisseminationRule, ReuseRule,
	ClassificationRule, HoldRule, AcquisitionInformation, AuthorizationReason, Relationship string
}

// Header is what the ArchiveTransfer says about itself and the whole package.
type Header struct {
	Version            Version   // V21, V22 or V23 (default V22)
	MessageIdentifier  string    // required; deterministic ids let a re-run recognise its SIPs
	Date               time.Time // required; also the timestamp of every zip entry, so output is reproducible
	Comment            string
	ArchivalAgreement  string // the VITAM ingest contract; VITAM refuses a SIP without it
	CodeListVersions   CodeListVersions
	ArchivalAgency     string // identifier, required
	TransferringAgency string // identifier, required

	// ManagementMetadata.
	ArchivalProfile             string
	LegalStatus                 string // "Public Archive", "Private Archive" or "Public and Private Archive"
	OriginatingAgencyIdentifier string
	SubmissionAgencyIdentifier  string
	Management                  Management // package-wide default rules

	DigestAlgorithm DigestAlgorithm // SHA256 (default) or SHA512
}

// Object describes one data object (one file under Content/).
type Object struct {
	// Group is the DataObjectGroup to put the object in: "" starts a new group; an earlier
	// ObjectWriter's Group() adds to that group, which must be the one written last (a group's
	// objects are written one after another).
	Group          GroupID
	Name           string // file name under Content/: [A-Za-z0-9._-] only, unique in the package
	Version        string // DataObjectVersion; default "BinaryMaster_1"
	MimeType       string
	FormatID       string // PRONOM PUID, e.g. fmt/817 (JSON), fmt/43 (JPEG)
	FormatLitteral string
	Encoding       string
	Filename       string    // FileInfo/Filename; default Name
	LastModified   time.Time // FileInfo/LastModified; zero leaves it out
}

// GroupID is the id of a DataObjectGroup the writer made.
type GroupID string

// Summary is what Close reports about the package it wrote.
type Summary struct {
	Version           Version
	MessageIdentifier string
	DigestAlgorithm   DigestAlgorithm // of the objects' MessageDigest
	// ManifestSHA512 is the lowercase hex SHA-512 of manifest.xml: send it as VITAM's
	// X-Manifest-Digest-Value with X-Manifest-Digest-Algo: SHA-512 (VITAM's own algorithm).
	ManifestSHA512 string
	ManifestSHA256 string // the same manifest's SHA-256, for ledgers that use SHA-256
	ManifestSize   int64
	Objects        int
	Groups         int
	Units          int
	PayloadBytes   int64  // sum of the objects' sizes (uncompressed)
	ZipSHA256      string // lowercase hex SHA-256 of the whole zip as written (S3 x-amz-checksum-sha256, ledger)
	ZipSize        int64
}

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
	err               error
	closed            bool
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
	o := ow.obj
	e := etree.NewElement("BinaryDataObject")
	e.CreateAttr("id", ow.id)
	e.CreateElement("DataObjectVersion").SetText(o.Version)
	e.CreateElement("Uri").SetText("Content/" + o.Name)
	md := e.CreateElement("MessageDigest")
	md.CreateAttr("algorithm", string(w.h.DigestAlgorithm))
	md.SetText(ow.digest)
	if ow.size > 0 { // Size is xs:positiveInteger: an empty file cannot declare 0
		e.CreateElement("Size").SetText(strconv.FormatInt(ow.size, 10))
	}
	if o.FormatLitteral != "" || o.MimeType != "" || o.FormatID != "" || o.Encoding != "" {
		f := e.CreateElement("FormatIdentification")
		if o.FormatLitteral != "" {
			textElem(f, "FormatLitteral", o.FormatLitteral)
		}
		for _, kv := range [][2]string{{"MimeType", o.MimeType}, {"FormatId", o.FormatID}, {"Encoding", o.Encoding}} {
			if kv[1] != "" {
				if err := tokenElem(f, kv[0], kv[1]); err != nil {
					return w.fail(err)
				}
			}
		}
	}
	fi := e.CreateElement("FileInfo")
	fn := o.Filename
	if fn == "" {
		fn = o.Name
	}
	textElem(fi, "Filename", fn)
	if !o.LastModified.IsZero() {
		fi.CreateElement("LastModified").SetText(o.LastModified.Format(time.RFC3339Nano))
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

// Unit is an ArchiveUnit.
type Unit struct {
	ArchiveUnitProfile string
	Management         Management
	Content            Content
	Groups             []GroupID // DataObjectGroupReferenceId, one DataObjectReference each
}

// Content is the descriptive part of a unit. DescriptionLevel and Title are required (VITAM
// refuses units without them, although the XSD does not); the rest is left out when empty.
type Content struct {
	DescriptionLevel                    string // Fonds, Subfonds, Class, Collection, Series, Subseries, RecordGrp, SubGrp, File, Item, OtherLevel
	Title                               string
	FilePlanPosition                    []string
	OriginatingSystemID                 []string // e.g. the dossier's key in the source database
	ArchivalAgencyArchiveUnitIdentifier []string
	Description                         string
	Type                                string
	DocumentType                        string
	Language                            []string // xsd:language, e.g. "fr"
	DescriptionLanguage                 string
	Status                              string
	Tags                                []string
	Keywords                            []Keyword
	OriginatingAgency                   string // identifier
	SubmissionAgency                    string // identifier
	Source                              string
	CreatedDate                         civil.Date
	StartDate                           civil.Date
	EndDate                             civil.Date
}

// Keyword is a Keyword of a unit's Content.
type Keyword struct {
	Content   string
	Reference string
	Type      string // corpname, famname, geogname, name, occupation, persname, subject, genreform, function
}

var (
	levels   = map[string]bool{"Fonds": true, "Subfonds": true, "Class": true, "Collection": true, "Series": true, "Subseries": true, "RecordGrp": true, "SubGrp": true, "File": true, "Item": true, "OtherLevel": true}
	keyTypes = map[string]bool{"corpname": true, "famname": true, "geogname": true, "name": true, "occupation": true, "persname": true, "subject": true, "genreform": true, "function": true}
	language = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
)

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
	if _, err := fmt.Fprintf(w.units, "<ArchiveUnit id=\"%s\">\n", id); err != nil {
		return "", w.fail(err)
	}
	for _, c := range children {
		if err := w.units.element(c); err != nil {
			return "", w.fail(err)
		}
	}
	w.stack = append(w.stack, id)
	return id, nil
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

func (w *Writer) unitChildren(u Unit) ([]*etree.Element, error) {
	var out []*etree.Element
	if u.ArchiveUnitProfile != "" {
		e := etree.NewElement("ArchiveUnitProfile")
		v, err := token("ArchiveUnitProfile", u.ArchiveUnitProfile)
		if err != nil {
			return nil, err
		}
		e.SetText(v)
		out = append(out, e)
	}
	if !u.Management.IsZero() {
		m := etree.NewElement("Management")
		if err := u.Management.appendTo(m, w.h.Version); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	c, err := u.Content.element()
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	for _, g := range u.Groups {
		if !w.groupExists(g) {
			return nil, fmt.Errorf("seda: DataObjectGroup %q does not exist: reference groups returned by ObjectWriter.Group()", g)
		}
		r := etree.NewElement("DataObjectReference")
		r.CreateElement("DataObjectGroupReferenceId").SetText(string(g))
		out = append(out, r)
	}
	return out, nil
}

func (w *Writer) groupExists(g GroupID) bool {
	n, ok := strings.CutPrefix(string(g), "GOT-")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i >= 1 && i <= w.nGroups && strconv.Itoa(i) == n
}

func (c Content) element() (*etree.Element, error) {
	e := etree.NewElement("Content")
	if !levels[c.DescriptionLevel] {
		return nil, fmt.Errorf("seda: DescriptionLevel %q: want one of Fonds, Subfonds, Class, Collection, Series, Subseries, RecordGrp, SubGrp, File, Item, OtherLevel", c.DescriptionLevel)
	}
	e.CreateElement("DescriptionLevel").SetText(c.DescriptionLevel)
	title, _ := CleanText(c.Title)
	if strings.TrimSpace(title) == "" {
		return nil, errors.New("seda: Title is empty (VITAM requires a title on every unit)")
	}
	e.CreateElement("Title").SetText(title)
	for _, l := range []struct {
		name string
		vs   []string
	}{{"FilePlanPosition", c.FilePlanPosition}, {"OriginatingSystemId", c.OriginatingSystemID}, {"ArchivalAgencyArchiveUnitIdentifier", c.ArchivalAgencyArchiveUnitIdentifier}} {
		for _, v := range l.vs {
			if err := tokenElem(e, l.name, v); err != nil {
				return nil, err
			}
		}
	}
	if c.Description != "" {
		textElem(e, "Description", c.Description)
	}
	if c.Type != "" {
		textElem(e, "Type", c.Type)
	}
	if c.DocumentType != "" {
		textElem(e, "DocumentType", c.DocumentType)
	}
	for _, l := range c.Language {
		if !language.MatchString(l) {
			return nil, fmt.Errorf("seda: Language %q is not a language tag (e.g. fr, en-GB)", l)
		}
		e.CreateElement("Language").SetText(l)
	}
	if c.DescriptionLanguage != "" {
		if !language.MatchString(c.DescriptionLanguage) {
			return nil, fmt.Errorf("seda: DescriptionLanguage %q is not a language tag (e.g. fr)", c.DescriptionLanguage)
		}
		e.CreateElement("DescriptionLanguage").SetText(c.DescriptionLanguage)
	}
	if c.Status != "" {
		if err := tokenElem(e, "Status", c.Status); err != nil {
			return nil, err
		}
	}
	for _, t := range c.Tags {
		if err := tokenElem(e, "Tag", t); err != nil {
			return nil, err
		}
	}
	for _, k := range c.Keywords {
		ke := e.CreateElement("Keyword")
		textElem(ke, "KeywordContent", k.Content)
		if k.Reference != "" {
			if err := tokenElem(ke, "KeywordReference", k.Reference); err != nil {
				return nil, err
			}
		}
		if k.Type != "" {
			if !keyTypes[k.Type] {
				return nil, fmt.Errorf("seda: KeywordType %q: want corpname, famname, geogname, name, occupation, persname, subject, genreform or function", k.Type)
			}
			ke.CreateElement("KeywordType").SetText(k.Type)
		}
	}
	for _, a := range []struct{ name, id string }{{"OriginatingAgency", c.OriginatingAgency}, {"SubmissionAgency", c.SubmissionAgency}} {
		if a.id != "" {
			if err := tokenElem(e.CreateElement(a.name), "Identifier", a.id); err != nil {
				return nil, err
			}
		}
	}
	if c.Source != "" {
		textElem(e, "Source", c.Source)
	}
	for _, d := range []struct {
		name string
		d    civil.Date
	}{{"CreatedDate", c.CreatedDate}, {"StartDate", c.StartDate}, {"EndDate", c.EndDate}} {
		if !d.d.IsZero() && !d.d.Valid() {
			return nil, fmt.Errorf("seda: %s %+v does not exist", d.name, d.d)
		}
		dateElem(e, d.name, d.d)
	}
	return e, nil
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

func (w *Writer) writeManifest(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	h := w.h
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ArchiveTransfer xmlns=\"%s\">\n", h.Version.Namespace())
	var head []*etree.Element
	if h.Comment != "" {
		e := etree.NewElement("Comment")
		v, _ := CleanText(h.Comment)
		e.SetText(v)
		head = append(head, e)
	}
	head = append(head, simple("Date", h.Date.Format("2006-01-02T15:04:05Z07:00")))
	mid, _ := token("MessageIdentifier", h.MessageIdentifier)
	head = append(head, simple("MessageIdentifier", mid))
	if h.ArchivalAgreement != "" {
		v, err := token("ArchivalAgreement", h.ArchivalAgreement)
		if err != nil {
			return err
		}
		head = append(head, simple("ArchivalAgreement", v))
	}
	clv, err := h.CodeListVersions.element()
	if err != nil {
		return err
	}
	head = append(head, clv)
	for _, e := range head {
		if err := writeElement(bw, e); err != nil {
			return err
		}
	}
	io.WriteString(bw, "<DataObjectPackage>\n")
	if err := w.groups.copyTo(bw); err != nil {
		return err
	}
	io.WriteString(bw, "<DescriptiveMetadata>\n")
	if err := w.units.copyTo(bw); err != nil {
		return err
	}
	io.WriteString(bw, "</DescriptiveMetadata>\n")
	mm := etree.NewElement("ManagementMetadata")
	for _, kv := range [][2]string{{"ArchivalProfile", h.ArchivalProfile}, {"LegalStatus", h.LegalStatus}, {"OriginatingAgencyIdentifier", h.OriginatingAgencyIdentifier}, {"SubmissionAgencyIdentifier", h.SubmissionAgencyIdentifier}} {
		if kv[1] != "" {
			if err := tokenElem(mm, kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	if err := h.Management.appendTo(mm, h.Version); err != nil {
		return err
	}
	if err := writeElement(bw, mm); err != nil {
		return err
	}
	io.WriteString(bw, "</DataObjectPackage>\n")
	for _, a := range [][2]string{{"ArchivalAgency", h.ArchivalAgency}, {"TransferringAgency", h.TransferringAgency}} {
		e := etree.NewElement(a[0])
		if err := tokenElem(e, "Identifier", a[1]); err != nil {
			return err
		}
		if err := writeElement(bw, e); err != nil {
			return err
		}
	}
	io.WriteString(bw, "</ArchiveTransfer>\n")
	return bw.Flush()
}

func (c CodeListVersions) element() (*etree.Element, error) {
	e := etree.NewElement("CodeListVersions")
	for _, kv := range [][2]string{
		{"ReplyCodeListVersion", c.Reply}, {"MessageDigestAlgorithmCodeListVersion", c.MessageDigestAlgorithm},
		{"MimeTypeCodeListVersion", c.MimeType}, {"EncodingCodeListVersion", c.Encoding},
		{"FileFormatCodeListVersion", c.FileFormat}, {"CompressionAlgorithmCodeListVersion", c.CompressionAlgorithm},
		{"DataObjectVersionCodeListVersion", c.DataObjectVersion}, {"StorageRuleCodeListVersion", c.StorageRule},
		{"AppraisalRuleCodeListVersion", c.AppraisalRule}, {"AccessRuleCodeListVersion", c.AccessRule},
		{"DisseminationRuleCodeListVersion", c.DisseminationRule}, {"ReuseRuleCodeListVersion", c.ReuseRule},
		{"ClassificationRuleCodeListVersion", c.ClassificationRule}, {"HoldRuleCodeListVersion", c.HoldRule},
		{"AcquisitionInformationCodeListVersion", c.AcquisitionInformation},
		{"AuthorizationReasonCodeListVersion", c.AuthorizationReason}, {"RelationshipCodeListVersion", c.Relationship},
	} {
		if kv[1] != "" {
			if err := tokenElem(e, kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func simple(name, text string) *etree.Element {
	e := etree.NewElement(name)
	e.SetText(text)
	return e
}

var (
	writeSettings  = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	indentSettings = &etree.IndentSettings{Spaces: 1, PreserveLeafWhitespace: true, SuppressTrailingWhitespace: true}
)

// writeElement writes e indented within itself (auditors read manifests), leaving text untouched.
func writeElement(bw *bufio.Writer, e *etree.Element) error {
	if plainTree(e) {
		// The common case (every unit and object group): the same bytes as etree's indentation
		// below, written in one pass without inserting indentation tokens into the tree (that was
		// a tenth of a run's allocations).
		writePlain(bw, e, 1)
		return bw.WriteByte('\n')
	}
	doc := etree.NewDocument()
	doc.SetRoot(e)
	doc.IndentWithSettings(indentSettings)
	e.WriteTo(bw, &writeSettings)
	return bw.WriteByte('\n')
}

// plainTree says whether writePlain writes e as etree would: only elements and plain text, and no
// element with both text and element children (etree's indentation of mixed content, comments or
// CDATA is left to etree).
func plainTree(e *etree.Element) bool {
	text, elems := false, false
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			if !plainTree(c) {
				return false
			}
			elems = true
		case *etree.CharData:
			if c.IsCData() || c.IsWhitespace() {
				return false
			}
			text = true
		default:
			return false
		}
	}
	return !(text && elems)
}

// writePlain writes a plainTree element at depth (1 for the element written) the way
// etree.Document.IndentWithSettings(indentSettings) then WriteTo(writeSettings) does: element
// children each on a line indented by one space per level, text inline, canonical escaping.
func writePlain(bw *bufio.Writer, e *etree.Element, depth int) {
	bw.WriteByte('<')
	writeName(bw, e.Space, e.Tag)
	for _, a := range e.Attr {
		bw.WriteByte(' ')
		writeName(bw, a.Space, a.Key)
		bw.WriteString(`="`)
		escapeXML(bw, a.Value, true)
		bw.WriteByte('"')
	}
	if len(e.Child) == 0 {
		bw.WriteString("/>")
		return
	}
	bw.WriteByte('>')
	elems := false
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			elems = true
			writeIndent(bw, depth)
			writePlain(bw, c, depth+1)
		case *etree.CharData:
			escapeXML(bw, c.Data, false)
		}
	}
	if elems {
		writeIndent(bw, depth-1)
	}
	bw.WriteString("</")
	writeName(bw, e.Space, e.Tag)
	bw.WriteByte('>')
}

func writeName(bw *bufio.Writer, space, name string) {
	if space != "" {
		bw.WriteString(space)
		bw.WriteByte(':')
	}
	bw.WriteString(name)
}

func writeIndent(bw *bufio.Writer, n int) {
	bw.WriteByte('\n')
	for range n {
		bw.WriteByte(' ')
	}
}

// escapeXML escapes text (attr false) or a double-quoted attribute value (attr true) as etree's
// canonical write settings do: characters XML cannot hold become U+FFFD.
func escapeXML(bw *bufio.Writer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			if attr {
				continue
			}
			esc = "&gt;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\t':
			if !attr {
				continue
			}
			esc = "&#x9;"
		case '\n':
			if !attr {
				continue
			}
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if xmlChar(r) && !(r == utf8.RuneError && width == 1) {
				continue
			}
			esc = "\uFFFD"
		}
		bw.WriteString(s[last : i-width])
		bw.WriteString(esc)
		last = i
	}
	bw.WriteString(s[last:])
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

// spill holds one part of the manifest (groups or units) on disk until Close.
type spill struct {
	f *os.File
	*bufio.Writer
}

func newSpill(dir, what string) (*spill, error) {
	f, err := os.CreateTemp(dir, "seda-"+what+"-*.xml")
	if err != nil {
		return nil, fmt.Errorf("seda: temporary file for the manifest's %s: %w", what, err)
	}
	return &spill{f: f, Writer: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *spill) element(e *etree.Element) error { return writeElement(s.Writer, e) }

func (s *spill) copyTo(w io.Writer) error {
	if err := s.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

func (s *spill) remove() {
	if s == nil || s.f == nil {
		return
	}
	s.f.Close()
	os.Remove(s.f.Name())
	s.f = nil
}

// countHash counts and hashes (SHA-256) everything written to w.
type countHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

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
