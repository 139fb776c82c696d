package sip

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

// Spec is what one SIP is of: a class of a profile, in one tier, decided as of one date.
type Spec struct {
	Profile *profiles.Profile
	Class   *profiles.Class
	Tier    retention.Tier
	AsOf    civil.Date // the message Date (midnight UTC of this day): same as-of, same bytes
	// Dictionary is the class's data dictionary object (Dictionary), the SIP's first object.
	Dictionary []byte
	Rendering  Rendering // how each dossier's rows are written; nil: JSON
	TempDir    string    // where the SEDA writer spills the manifest while the SIP is written
}

// Dossier is one decided dossier on its way into a SIP.
type Dossier struct {
	Data        *extract.Dossier
	Key         string
	Decision    retention.Decision
	Description profiles.Description
}

// Record is a finished SIP: what the state, the report, the transfer and the ledger each make
// their own shape from.
type Record struct {
	ID              string         `json:"id"`
	Name            string         `json:"name,omitempty"`       // file name: ID + ".zip"
	MessageID       string         `json:"message_id,omitempty"` // the manifest's MessageIdentifier
	Profile         string         `json:"profile,omitempty"`
	Class           string         `json:"class"`
	Tier            retention.Tier `json:"tier"`
	Dossiers        int            `json:"dossiers"`
	FirstKey        string         `json:"first_key"`
	LastKey         string         `json:"last_key"`
	Bytes           int64          `json:"bytes"`
	DigestAlgorithm string         `json:"digest_algorithm"`
	Digest          string         `json:"digest"`          // of the SIP file
	ManifestDigest  string         `json:"manifest_digest"` // SHA-512 of manifest.xml (VITAM's X-Manifest-Digest-Value)
	// RetainUntil is the latest RetainUntil of its dossiers, and LegalHold whether one of them is
	// under a legal hold: what an Object Lock on the SIP must protect.
	RetainUntil civil.Date `json:"retain_until,omitzero"`
	LegalHold   bool       `json:"legal_hold,omitempty"`
}

// ManifestAllowance is what one dossier adds to the SIP's compressed manifest.xml and zip
// directory, reserved so that a finished SIP stays within a byte limit (measured on the demo
// Apogée dossiers: about 1 kB).
const ManifestAllowance = 1536

// Builder writes one SIP, a dossier at a time, in the order they are added.
type Builder struct {
	spec        Spec
	render      Rendering
	w           *seda.Writer
	keys        []string
	keySum      hash.Hash // of the keys, in order: with the as-of date, what names the SIP
	retainUntil civil.Date
	legalHold   bool
	// start and end are the dates extrêmes of the dossiers added: the series unit's StartDate and
	// EndDate, as the bordereau de versement gives them.
	start, end civil.Date
	// doc is the rendering of the dossier Cost was last asked about (as the SIP's next one), so
	// that Add does not render it twice.
	doc    bytes.Buffer
	docFor *extract.Dossier
	// lobFormats are the formats of the LOBs of the dossier rendered in doc, sniffed before it is
	// rendered: the document names each LOB's object, and the name carries the format's extension.
	lobFormats map[*extract.LOB]Format
	// lobReader is reused for every LOB: a 64 KiB buffer per LOB was a quarter of the bytes a
	// run allocated (one photo in three Apogée dossiers).
	lobReader *bufio.Reader
	// units are the dossiers' units as Reader.Units reads them back from the manifest (units.go),
	// and seriesID and algo what they need: an index fed from them need not parse the manifest.
	units    []Unit
	seriesID string
	algo     string
	objs     []Object // the objects of the dossier being added
	// unitsSize is about what units hold; past maxUnitsBytes they are dropped (unitsDropped).
	unitsSize    int
	unitsDropped bool
}

// NewBuilder starts a SIP on w: the data dictionary, then the series unit its dossiers go under.
func NewBuilder(w io.Writer, s Spec) (*Builder, error) {
	if s.Profile == nil || s.Class == nil || s.AsOf.IsZero() {
		return nil, errors.New("sip: a SIP needs a profile, a class and an as-of date")
	}
	b := &Builder{spec: s, render: s.Rendering, keySum: sha256.New()}
	if b.render == nil {
		b.render = JSON
	}
	p, c := s.Profile, s.Class
	date := time.Date(s.AsOf.Year, time.Month(s.AsOf.Month), s.AsOf.Day, 0, 0, 0, 0, time.UTC)
	// The message identifier names the dossiers: Close sets it, once the last key is known.
	var opts []seda.Option
	if s.TempDir != "" {
		opts = append(opts, seda.WithTempDir(s.TempDir))
	}
	hdr := Header(p, fmt.Sprintf("%s-%s-%s", FileSafe(p.Name), FileSafe(c.Name), s.Tier), date)
	sw, err := seda.NewWriter(w, hdr, opts...)
	if err != nil {
		return nil, err
	}
	b.w = sw
	b.algo = string(hdr.DigestAlgorithm)
	if b.algo == "" {
		b.algo = string(seda.SHA256)
	}
	dict := FormatOf("application/json")
	ow, err := sw.CreateObject(seda.Object{Name: "dictionary-" + FileSafe(c.Name) + dict.Ext, MimeType: dict.MIME, FormatID: dict.PRONOM})
	if err != nil {
		return nil, b.fail(err)
	}
	if _, err := ow.Write(s.Dictionary); err != nil {
		return nil, b.fail(err)
	}
	if err := ow.Close(); err != nil {
		return nil, b.fail(err)
	}
	if b.seriesID, err = sw.OpenUnit(seda.Unit{Content: Series(p, c, s.Tier), Groups: []seda.GroupID{ow.Group()}}); err != nil {
		return nil, b.fail(err)
	}
	return b, nil
}

func (b *Builder) fail(err error) error {
	b.w.Abort()
	return err
}

// Dossiers is the number of dossiers added.
func (b *Builder) Dossiers() int { return len(b.keys) }

// Size is the SIP's size so far, with the manifest allowance of its dossiers.
func (b *Builder) Size() int64 { return b.w.Written() + int64(len(b.keys))*ManifestAllowance }

// Cost is what adding d would add to Size, estimated from its rendering and its LOBs' sizes.
func (b *Builder) Cost(ctx context.Context, d Dossier) (int64, error) {
	if err := b.renderNext(ctx, d); err != nil {
		return 0, err
	}
	est := int64(b.doc.Len()) + ManifestAllowance
	for r := range d.Data.LOBs() {
		if r.LOB.Size > 0 {
			est += r.LOB.Size
		}
	}
	return est, nil
}

// prefix names the objects of the SIP's next dossier: its rank and its key.
func (b *Builder) prefix(key string) string {
	return fmt.Sprintf("D%06d-%s", len(b.keys)+1, FileSafe(key))
}

// lobName names the objects of a dossier's LOBs: the dossier's prefix, the LOB's table, column and
// row, and its format's extension.
func (b *Builder) lobName(prefix string) func(extract.LOBRef) string {
	return func(r extract.LOBRef) string {
		return prefix + "." + FileSafe(extract.DefaultLOBName(r)) + b.lobFormats[r.LOB].Ext
	}
}

// renderNext renders d as the SIP's next dossier into b.doc, unless it already is.
func (b *Builder) renderNext(ctx context.Context, d Dossier) error {
	if b.docFor == d.Data && d.Data != nil {
		return nil
	}
	b.doc.Reset()
	b.docFor = nil
	if err := b.sniffLOBs(ctx, d.Data); err != nil {
		return err
	}
	if err := b.render.Render(&b.doc, d.Data, b.lobName(b.prefix(d.Key))); err != nil {
		return err
	}
	b.docFor = d.Data
	return nil
}

// Add writes d into the SIP: its document, its LOBs, and its unit. After an error the SIP is
// abandoned (Abort).
func (b *Builder) Add(ctx context.Context, d Dossier) error {
	if err := b.renderNext(ctx, d); err != nil {
		return b.fail(err)
	}
	b.docFor = nil
	prefix := b.prefix(d.Key)
	f := b.render.Format()
	ow, err := b.w.CreateObject(seda.Object{Name: prefix + f.Ext, MimeType: f.MIME, FormatID: f.PRONOM})
	if err != nil {
		return b.fail(err)
	}
	if _, err := ow.Write(b.doc.Bytes()); err != nil {
		return b.fail(err)
	}
	if err := ow.Close(); err != nil {
		return b.fail(err)
	}
	b.objs = append(b.objs[:0], b.objectOf(ow, f.MIME))
	group := ow.Group()
	lobName := b.lobName(prefix)
	v := 1
	for r := range d.Data.LOBs() {
		v++
		if err := b.writeLOB(ctx, group, lobName(r), v, r); err != nil {
			return b.fail(fmt.Errorf("LOB %s.%s: %w", r.Table, r.Column, err))
		}
	}
	u := seda.Unit{Management: Management(d.Decision, seda.Version(b.spec.Profile.SEDA.Version)),
		Content: Content(b.spec.Profile, d.Key, d.Description), Groups: []seda.GroupID{group}}
	id, err := b.w.AddUnit(u)
	if err != nil {
		return b.fail(err)
	}
	if !b.unitsDropped {
		wu := writtenUnit(id, b.seriesID, u, b.objs)
		b.unitsSize += unitSize(wu)
		b.units = append(b.units, wu)
		if b.unitsSize > maxUnitsBytes {
			// A SIP of very many small dossiers: its units would cost more memory than reading
			// its manifest again costs time. Units returns nil and the index reads the manifest.
			b.units, b.unitsDropped = nil, true
		}
	}
	b.keys = append(b.keys, d.Key)
	addKey(b.keySum, d.Key)
	if u := RetainUntil(d.Decision); u.After(b.retainUntil) {
		b.retainUntil = u
	}
	b.legalHold = b.legalHold || d.Decision.Hold != nil
	start, end := d.Description.StartDate, d.Description.EndDate
	if end.IsZero() {
		end = start
	}
	if !start.IsZero() && (b.start.IsZero() || start.Before(b.start)) {
		b.start = start
	}
	if end.After(b.end) {
		b.end = end
	}
	return nil
}

// sniffLOBs finds the format of each of the dossier's LOBs from its first bytes. A LOB held in the
// database is read twice for it (its first chunk here, all of it when written): the price of a
// name that says what the object is.
func (b *Builder) sniffLOBs(ctx context.Context, d *extract.Dossier) error {
	clear(b.lobFormats)
	for r := range d.LOBs() {
		if b.lobFormats == nil {
			b.lobFormats = map[*extract.LOB]Format{}
		}
		rc, err := r.LOB.Open(ctx)
		if err != nil {
			return fmt.Errorf("LOB %s.%s: %w", r.Table, r.Column, err)
		}
		var head [512]byte
		n, err := io.ReadFull(rc, head[:])
		rc.Close()
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("LOB %s.%s: %w", r.Table, r.Column, err)
		}
		b.lobFormats[r.LOB] = Sniff(head[:n])
	}
	return nil
}

func (b *Builder) writeLOB(ctx context.Context, g seda.GroupID, name string, v int, r extract.LOBRef) error {
	rc, err := r.LOB.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if b.lobReader == nil {
		b.lobReader = bufio.NewReaderSize(rc, 64<<10)
	} else {
		b.lobReader.Reset(rc)
	}
	br := b.lobReader
	defer br.Reset(nil)
	f := b.lobFormats[r.LOB]
	ow, err := b.w.CreateObject(seda.Object{Group: g, Name: name, Version: fmt.Sprintf("BinaryMaster_%d", v), MimeType: f.MIME, FormatID: f.PRONOM})
	if err != nil {
		return err
	}
	if _, err := ow.ReadFrom(br); err != nil {
		return err
	}
	if err := ow.Close(); err != nil {
		return err
	}
	b.objs = append(b.objs, b.objectOf(ow, f.MIME))
	return nil
}

// Units are the SIP's dossier units, in order, as Reader.Units would read them from its manifest
// once the SIP is closed (the series unit above them is not among them); nil when they were too
// many to keep (maxUnitsBytes): the manifest is then the way to read them.
func (b *Builder) Units() []Unit { return b.units }

// Keys are the keys of the SIP's dossiers, in order.
func (b *Builder) Keys() []string { return b.keys }

// Close finishes the SIP (its manifest and zip directory) and returns its record. The bytes are
// written to the Builder's writer; flushing and syncing it is the caller's.
func (b *Builder) Close() (Record, error) {
	s := b.spec
	id := ID(s.Profile.Name, s.Class.Name, s.Tier, s.AsOf, b.keySum.Sum(nil))
	if err := b.w.SetMessageIdentifier(id); err != nil {
		return Record{}, b.fail(err)
	}
	if err := b.w.SetFirstUnitDates(b.start, b.end); err != nil {
		return Record{}, b.fail(err)
	}
	if err := b.w.CloseUnit(); err != nil {
		return Record{}, b.fail(err)
	}
	sum, err := b.w.Close()
	if err != nil {
		return Record{}, b.fail(err)
	}
	r := Record{ID: id, Name: id + ".zip", MessageID: id, Profile: s.Profile.Name, Class: s.Class.Name, Tier: s.Tier,
		Dossiers: len(b.keys), Bytes: sum.ZipSize, DigestAlgorithm: "SHA-256", Digest: sum.ZipSHA256,
		ManifestDigest: sum.ManifestSHA512, RetainUntil: b.retainUntil, LegalHold: b.legalHold}
	if n := len(b.keys); n > 0 {
		r.FirstKey, r.LastKey = b.keys[0], b.keys[n-1]
	}
	return r, nil
}

// Abort abandons the SIP: its spill files are removed; what was written to the writer is the
// caller's to remove.
func (b *Builder) Abort() { b.w.Abort() }

// addKey adds a dossier's key to the digest of a SIP's keys, length-prefixed so that no two key
// lists hash alike.
func addKey(h hash.Hash, k string) {
	fmt.Fprintf(h, "%d:%s\n", len(k), k)
}
