package sip

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/versement/versement/seda"
)

// Rewriting a SIP without some of its dossiers is how an elimination reaches a SIP already sent:
// the destroyed dossiers' units, object groups and files go, and everything else stays byte for
// byte, so that what is kept is provably what was archived (same zip entries, same CRCs, same
// manifest text around the cuts). Nothing is rebuilt from a model: the manifest is copied as a
// stream and only the cuts and the header's identifier, date and comment differ.
//
// A SIP may be hundreds of megabytes of manifest, so no pass holds the manifest: three passes
// stream it (the copy pass holds a token at a time; its texts are not capped, since they are
// copied, so a hostile text node costs its size, within MaxManifestBytes). The first reads the units and decides, per dossier, whether it goes; the second
// reads the object groups (which come before the units) to learn which zip entries go with the
// dropped dossiers; the third copies the manifest into the new zip, cutting. What they keep is a
// set of group ids and one of zip entries, no larger than the zip's directory archive/zip holds
// anyway, and the dropped dossiers' keys.

// RewriteOptions say which dossiers a rewrite removes and how the new message is named.
type RewriteOptions struct {
	Drop      func(key string) bool // dossier units to remove, by key (their first OriginatingSystemId)
	MessageID string                // new MessageIdentifier (required: the rewrite is a new message)
	Date      time.Time             // new Date, written as the builder writes it; also the manifest entry's time
	Comment   string                // if non-empty, replaces the Comment (or sets one)
}

// RewriteResult is what a rewrite did.
type RewriteResult struct {
	Kept, Dropped  int      // dossier units kept / dropped
	DroppedKeys    []string // in manifest order
	ObjectsDropped int      // BinaryDataObjects removed
	ManifestSHA512 string   // hex of the new manifest.xml, as Record.ManifestDigest (VITAM's X-Manifest-Digest-Value)
}

// ErrNothingKept: every dossier of the SIP would be dropped. Nothing meaningful was written: the
// caller deletes the SIP instead of replacing it.
var ErrNothingKept = errors.New("sip: every dossier of the SIP would be dropped")

// errStop ends a pass early, once it has read what it needs.
var errStop = errors.New("stop")

// Rewrite writes to w a copy of the SIP r without the dossier units opts.Drop names, their
// groups and their files. A dossier unit is a child of a top-level unit (the builder's series),
// its key its first Content/OriginatingSystemId; units nested in a dropped one go with it, and a
// group goes only if no kept unit references it. Kept entries are copied raw, in their order, and
// the manifest takes its place among them. Same SIP and options: same bytes. After an error, what
// was written to w is the caller's to discard.
func Rewrite(ctx context.Context, r *Reader, w io.Writer, opts RewriteOptions) (RewriteResult, error) {
	if opts.Drop == nil {
		return RewriteResult{}, errors.New("sip: rewrite: no Drop function")
	}
	msgID, _ := seda.CleanText(opts.MessageID)
	msgID = strings.Join(strings.Fields(msgID), " ")
	if msgID == "" {
		return RewriteResult{}, errors.New("sip: rewrite: MessageID is empty (the XSD wants a non-empty token)")
	}
	if opts.Date.IsZero() || opts.Date.Year() < 1980 || opts.Date.Year() > 2107 {
		return RewriteResult{}, fmt.Errorf("sip: rewrite: Date %v is zero or outside what zip timestamps hold (1980–2107)", opts.Date)
	}
	comment, _ := seda.CleanText(opts.Comment)
	// Open skips these names; a rewrite that dropped them silently would change the SIP unseen, and
	// one that copied them would pass on what no reader here checked.
	for _, f := range r.entries {
		if !safeEntryName(f.Name) {
			return RewriteResult{}, fmt.Errorf("%s: entry %q has an unsafe name: refusing to rewrite", r.name(), truncateText(f.Name, 200))
		}
		if r.files[f.Name] == nil {
			return RewriteResult{}, fmt.Errorf("%s: the zip holds %q twice: refusing to rewrite (which one is the object is unclear)", r.name(), truncateText(f.Name, 200))
		}
	}

	p, err := r.planUnits(ctx, opts.Drop)
	if err != nil {
		return RewriteResult{}, err
	}
	res := RewriteResult{Kept: p.kept, Dropped: len(p.droppedKeys), DroppedKeys: p.droppedKeys}
	switch {
	case p.kept == 0 && res.Dropped > 0:
		return res, ErrNothingKept
	case p.kept == 0:
		return res, fmt.Errorf("%s: no dossier unit (a child of a top-level unit) in the manifest", r.name())
	}
	if err := r.planObjects(ctx, p); err != nil {
		return res, err
	}
	res.ObjectsDropped = p.objectsDropped

	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, seda.DefaultDeflateLevel)
	})
	buf := make([]byte, 256<<10)
	mc := manifestCopy{plan: p, msgID: msgID, date: opts.Date.Format("2006-01-02T15:04:05Z07:00"), comment: comment}
	for _, f := range r.entries {
		switch {
		case f == r.manifest:
			entry, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: opts.Date.UTC().Truncate(time.Second)})
			if err != nil {
				return res, err
			}
			h := sha512.New()
			if err := r.copyManifest(ctx, io.MultiWriter(entry, h), &mc); err != nil {
				return res, err
			}
			res.ManifestSHA512 = hex.EncodeToString(h.Sum(nil))
		case p.dropEntries[f]:
		default:
			if err := copyRaw(ctx, zw, f, buf); err != nil {
				return res, fmt.Errorf("%s: copying %s: %w", r.name(), f.Name, err)
			}
		}
	}
	return res, zw.Close()
}

// copyRaw copies an entry's compressed bytes and header as they are: no inflating, no
// re-deflating, so the kept objects are the archived ones to the bit, CRC included.
func copyRaw(ctx context.Context, zw *zip.Writer, f *zip.File, buf []byte) error {
	raw, err := f.OpenRaw()
	if err != nil {
		return err
	}
	fh := f.FileHeader
	// archive/zip writes its own zip64 field for a large entry: the central directory's would
	// be there twice.
	fh.Extra = withoutZip64(fh.Extra)
	out, err := zw.CreateRaw(&fh)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := raw.Read(buf)
		if _, werr := out.Write(buf[:n]); werr != nil {
			return werr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func withoutZip64(extra []byte) []byte {
	var out []byte
	for b := extra; len(b) > 0; {
		if len(b) < 4 || 4+int(binary.LittleEndian.Uint16(b[2:])) > len(b) {
			return extra // not a list of fields: left as it is
		}
		size := 4 + int(binary.LittleEndian.Uint16(b[2:]))
		if binary.LittleEndian.Uint16(b) != 0x0001 {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

// rewritePlan is what the first two passes learn and the third applies.
type rewritePlan struct {
	kept           int
	droppedKeys    []string
	dropped        map[int]bool       // ordinals (from 0, in manifest order) of the dropped dossiers
	dropRefs       map[string]bool    // group or object ids referenced by dropped units
	keepRefs       map[string]bool    // … by kept ones
	dropIDs        map[string]bool    // dropRefs less keepRefs: the groups and objects that go
	dropEntries    map[*zip.File]bool // their files
	objectsDropped int
	series         map[int]*seriesDates // by top-level unit, from 0
}

// seriesDates are the dates extrêmes of a top-level unit's kept dossiers, computed as the
// Builder does: the series must not keep the dates of a destroyed dossier.
type seriesDates struct {
	start, end string // xsd:date; "" none
	changed    bool   // one of its dossiers is dropped: its dates are rewritten
	unknown    bool   // a kept dossier has a date that is not an xsd:date: its dates are left alone
}

func (sd *seriesDates) add(start, end string) {
	if end == "" {
		end = start
	}
	for _, d := range []string{start, end} {
		if _, err := time.Parse("2006-01-02", d); d != "" && err != nil {
			sd.unknown = true
		}
	}
	if start != "" && (sd.start == "" || start < sd.start) {
		sd.start = start
	}
	if end > sd.end {
		sd.end = end
	}
}

// manifestStream is one pass's decoder over the manifest, strict, and refusing other encodings
// than UTF-8: the copy pass writes the bytes it reads, so it could not re-encode them, and the
// planning passes must read what it reads.
type manifestStream struct {
	d     *xml.Decoder
	lr    *io.LimitedReader
	close func() error
}

// openManifest opens a pass. capped: texts are shortened, for the planning passes, which only need
// ids and keys; the copy pass sees the bytes as they are, through wrap.
func (r *Reader) openManifest(capped bool, wrap func(io.Reader) io.Reader) (*manifestStream, error) {
	rc, err := r.manifest.Open()
	if err != nil {
		return nil, fmt.Errorf("SIP: open %s: %w", r.manifest.Name, err)
	}
	lr := &io.LimitedReader{R: rc, N: MaxManifestBytes + 1}
	var rd io.Reader = lr
	if wrap != nil {
		rd = wrap(rd)
	}
	if capped {
		rd = seda.CapText(rd, maxText)
	}
	d := xml.NewDecoder(rd)
	d.Strict = true
	return &manifestStream{d: d, lr: lr, close: rc.Close}, nil
}

// walk reads the manifest's tokens, calling fn with the local names of the open elements (an
// element's own name is on the stack for its start and its end; "" outside SEDA's namespace) and
// the byte range the token took. fn returning errStop ends the walk without error.
func (r *Reader) walk(ctx context.Context, m *manifestStream, fn func(tok xml.Token, stack []string, start, end int64) error) error {
	d := m.d
	var stack []string
	ns := ""
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			if len(stack) > 0 || ns == "" {
				return fmt.Errorf("%s: %s ends before its root element does", r.name(), r.manifest.Name)
			}
			return nil
		}
		if err != nil {
			if m.lr.N <= 0 {
				return fmt.Errorf("%s: manifest is larger than the limit of %d bytes", r.name(), MaxManifestBytes)
			}
			return fmt.Errorf("%s: %s: %w", r.name(), r.manifest.Name, err)
		}
		end := d.InputOffset()
		switch t := tok.(type) {
		case xml.Directive:
			return fmt.Errorf("%s: manifest has a <!…> declaration: DOCTYPEs and entities are refused", r.name())
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return fmt.Errorf("%s: elements nested more than %d deep: refused", r.name(), maxDepth)
			}
			if len(stack) == 0 {
				v := seda.Version(strings.TrimPrefix(t.Name.Space, "fr:gouv:culture:archivesdefrance:seda:v"))
				if t.Name.Local != "ArchiveTransfer" || v.Namespace() != t.Name.Space || (v != seda.V21 && v != seda.V22 && v != seda.V23) {
					return fmt.Errorf("%s: root element is not a SEDA 2.1, 2.2 or 2.3 ArchiveTransfer", r.name())
				}
				ns = t.Name.Space
			}
			name := ""
			if t.Name.Space == ns {
				name = t.Name.Local
			}
			stack = append(stack, name)
			err = fn(tok, stack, start, end)
		case xml.EndElement:
			err = fn(tok, stack, start, end)
			stack = stack[:len(stack)-1]
		default:
			err = fn(tok, stack, start, end)
		}
		if err == errStop {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Paths of the package's parts, made once: the passes test them at every element.
var (
	pathDescriptive = []string{"ArchiveTransfer", "DataObjectPackage", "DescriptiveMetadata"}
	pathGroup       = []string{"ArchiveTransfer", "DataObjectPackage", "DataObjectGroup"}
	pathObject      = []string{"ArchiveTransfer", "DataObjectPackage", "BinaryDataObject"}
	pathGroupObject = []string{"ArchiveTransfer", "DataObjectPackage", "DataObjectGroup", "BinaryDataObject"}
)

// is says whether stack, from base on, is exactly names.
func is(stack []string, base int, names ...string) bool {
	if len(stack)-base != len(names) || base < 0 {
		return false
	}
	for i, n := range names {
		if stack[base+i] != n {
			return false
		}
	}
	return true
}

// units tracks the open ArchiveUnits of a pass: depth of each on the stack, and the ordinal of
// the dossier (a unit at the second level) they are in.
type units struct {
	depths  []int
	ordinal int // dossiers started so far
	top     int // top-level units started so far
}

// startUnit records an ArchiveUnit start; it reports whether the unit is a dossier.
func (u *units) startUnit(depth int) bool {
	u.depths = append(u.depths, depth)
	if len(u.depths) == 1 {
		u.top++
	}
	if len(u.depths) == 2 {
		u.ordinal++
		return true
	}
	return false
}

// inDossier is the ordinal of the dossier the open units are in, or -1 outside one.
func (u *units) inDossier() int {
	if len(u.depths) < 2 {
		return -1
	}
	return u.ordinal - 1
}

// planUnits is the first pass: each dossier's key, whether it goes, and the references of the
// units that go and of those that stay.
func (r *Reader) planUnits(ctx context.Context, drop func(string) bool) (*rewritePlan, error) {
	m, err := r.openManifest(true, nil)
	if err != nil {
		return nil, err
	}
	defer m.close()
	p := &rewritePlan{dropped: map[int]bool{}, dropRefs: map[string]bool{}, keepRefs: map[string]bool{}, series: map[int]*seriesDates{}}
	var (
		u          units
		key        string
		hasKey     bool
		start, end string
		refs       []string // of the dossier being read and its nested units
		text       strings.Builder
		reading    bool
	)
	err = r.walk(ctx, m, func(tok xml.Token, stack []string, _, _ int64) error {
		switch t := tok.(type) {
		case xml.StartElement:
			if stack[len(stack)-1] == "ArchiveUnit" {
				if u.startUnit(len(stack)) {
					key, hasKey, refs, start, end = "", false, refs[:0], "", ""
				}
				return nil
			}
			if n := len(u.depths); n > 0 {
				base := u.depths[n-1]
				ref := is(stack, base, "DataObjectReference", "DataObjectGroupReferenceId") || is(stack, base, "DataObjectReference", "DataObjectReferenceId")
				reading = ref || n == 2 && (!hasKey && is(stack, base, "Content", "OriginatingSystemId") ||
					is(stack, base, "Content", "StartDate") || is(stack, base, "Content", "EndDate"))
				text.Reset()
			}
		case xml.CharData:
			if reading && text.Len()+len(t) <= maxText {
				text.Write(t)
			}
		case xml.EndElement:
			n := len(u.depths)
			if n == 0 {
				return nil
			}
			base := u.depths[n-1]
			switch {
			case len(stack) == base: // the unit's end
				u.depths = u.depths[:n-1]
				if n != 2 {
					return nil
				}
				sd := p.series[u.top-1]
				if sd == nil {
					sd = &seriesDates{}
					p.series[u.top-1] = sd
				}
				if drop(key) {
					sd.changed = true
					p.dropped[u.ordinal-1] = true
					p.droppedKeys = append(p.droppedKeys, key)
					for _, id := range refs {
						p.dropRefs[id] = true
					}
				} else {
					p.kept++
					sd.add(start, end)
					for _, id := range refs {
						p.keepRefs[id] = true
					}
				}
			case reading && is(stack, base, "Content", "OriginatingSystemId"):
				key, hasKey = strings.TrimSpace(text.String()), true
			case reading && is(stack, base, "Content", "StartDate"):
				start = strings.TrimSpace(text.String())
			case reading && is(stack, base, "Content", "EndDate"):
				end = strings.TrimSpace(text.String())
			case reading:
				id := strings.TrimSpace(text.String())
				if u.inDossier() < 0 {
					p.keepRefs[id] = true // the series' own objects (the data dictionary)
				} else if len(refs) < maxPerUnit {
					refs = append(refs, id)
				} else {
					return fmt.Errorf("%s: dossier %q references more than %d objects: refused", r.name(), truncateText(key, 80), maxPerUnit)
				}
			}
			reading = false
		}
		return nil
	})
	return p, err
}

// planObjects is the second pass, over the package's groups and objects (before the units):
// which go, and which zip entries are theirs. A reference that names neither a group nor an
// object is an error: the dossier's files would be kept unseen.
func (r *Reader) planObjects(ctx context.Context, p *rewritePlan) error {
	p.dropIDs = map[string]bool{}
	for id := range p.dropRefs {
		if !p.keepRefs[id] {
			p.dropIDs[id] = true
		}
	}
	p.dropEntries = map[*zip.File]bool{}
	if len(p.dropIDs) == 0 {
		return nil
	}
	m, err := r.openManifest(true, nil)
	if err != nil {
		return err
	}
	defer m.close()
	found := map[string]bool{}
	keepEntries := map[*zip.File]bool{}
	var (
		groupDropped, objDropped, inObj, reading bool
		objDepth                                 int
		uri                                      strings.Builder
	)
	err = r.walk(ctx, m, func(tok xml.Token, stack []string, _, _ int64) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case is(stack, 0, pathDescriptive...):
				return errStop
			case is(stack, 0, pathGroup...):
				id := attr(t, "id")
				groupDropped = p.dropIDs[id]
				if groupDropped {
					found[id] = true
				}
			case is(stack, 0, pathObject...), is(stack, 0, pathGroupObject...):
				id := attr(t, "id")
				objDropped = groupDropped && len(stack) == 4 || p.dropIDs[id]
				if p.dropIDs[id] {
					found[id] = true
				}
				inObj, objDepth = true, len(stack)
				uri.Reset()
			case inObj && len(stack) == objDepth+1 && stack[objDepth] == "Uri":
				reading = true
			}
		case xml.CharData:
			if reading && uri.Len()+len(t) <= maxText {
				uri.Write(t)
			}
		case xml.EndElement:
			reading = false
			switch {
			case is(stack, 0, pathGroup...):
				groupDropped = false
			case inObj && len(stack) == objDepth:
				inObj = false
				f, err := r.entry(uri.String())
				if objDropped {
					p.objectsDropped++
					if err == nil {
						p.dropEntries[f] = true
					}
				} else if err == nil {
					keepEntries[f] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id := range p.dropIDs {
		if !found[id] {
			return fmt.Errorf("%s: a dropped dossier references %q, which is no DataObjectGroup or BinaryDataObject of the package: refusing to rewrite without its files", r.name(), truncateText(id, 80))
		}
	}
	// A file that a kept object names too is the kept dossier's as well.
	for f := range keepEntries {
		delete(p.dropEntries, f)
	}
	return nil
}

// manifestCopy is the state of the third pass.
type manifestCopy struct {
	plan              *rewritePlan
	msgID, date       string
	comment           string
	seenID, seenDate  bool
	seenComment       bool
	dossiers, objects int
	droppedSeen       int // dropped dossiers met, to check against the plan
}

// window holds the manifest's bytes from the first one not yet copied or cut to the last one the
// decoder read: at most a token and the decoder's read-ahead.
type window struct {
	r    io.Reader
	buf  []byte
	base int64 // offset of buf[0] in the manifest
}

func (w *window) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.buf = append(w.buf, p[:n]...)
	return n, err
}

func (w *window) bytes(from, to int64) []byte { return w.buf[from-w.base : to-w.base] }

// release forgets the bytes before off, moving the rest down once that is worth it.
func (w *window) release(off int64) {
	k := int(off - w.base)
	if k < 64<<10 && k < len(w.buf)/2 {
		return
	}
	w.buf = w.buf[:copy(w.buf, w.buf[k:])]
	w.base = off
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")

// copyManifest is the third pass: the manifest's bytes to out, less the dropped units, groups
// and objects and the whitespace before each, with the new identifier, date and comment.
func (r *Reader) copyManifest(ctx context.Context, out io.Writer, mc *manifestCopy) error {
	win := &window{}
	m, err := r.openManifest(false, func(rd io.Reader) io.Reader { win.r = rd; return win })
	if err != nil {
		return err
	}
	defer m.close()
	p := mc.plan
	var (
		pos       int64 // bytes before pos are copied or cut
		werr      error
		skipDepth int // >0: the element open at this depth is being cut
		u         units
	)
	emit := func(to int64) {
		if werr == nil && to > pos {
			_, werr = out.Write(win.bytes(pos, to))
		}
		pos = to
		win.release(pos)
	}
	cut := func(to int64) {
		pos = to
		win.release(pos)
	}
	write := func(s ...string) {
		for _, x := range s {
			if werr == nil {
				_, werr = io.WriteString(out, x)
			}
		}
	}
	// replace writes the element starting at [start, end) with text instead of its content, and
	// cuts the original's content and end tag.
	replace := func(stack []string, start, end int64, text string) {
		emit(start)
		tag := string(win.bytes(start, end))
		tag = strings.TrimSuffix(tag, "/>")
		if !strings.HasSuffix(tag, ">") {
			tag += ">"
		}
		write(tag, textEscaper.Replace(text), "</", qname(tag), ">")
		cut(end)
		skipDepth = len(stack)
	}
	err = r.walk(ctx, m, func(tok xml.Token, stack []string, start, end int64) error {
		switch t := tok.(type) {
		case xml.StartElement:
			name := stack[len(stack)-1]
			if name == "ArchiveUnit" && u.startUnit(len(stack)) {
				mc.dossiers++
			}
			if skipDepth > 0 {
				if name == "BinaryDataObject" {
					mc.objects++
				}
				cut(end) // as it goes: a cut element is never held whole
				return nil
			}
			switch {
			case name == "ArchiveUnit" && len(u.depths) == 2 && p.dropped[u.ordinal-1]:
				mc.droppedSeen++
				cut(end) // with the whitespace before it
				skipDepth = len(stack)
			case is(stack, 0, pathGroup...) && p.dropIDs[attr(t, "id")],
				(is(stack, 0, pathObject...) || is(stack, 0, pathGroupObject...)) && p.dropIDs[attr(t, "id")]:
				if name == "BinaryDataObject" {
					mc.objects++
				}
				cut(end)
				skipDepth = len(stack)
			case len(u.depths) == 1 && (is(stack, u.depths[0], "Content", "StartDate") || is(stack, u.depths[0], "Content", "EndDate")):
				sd := p.series[u.top-1]
				if sd == nil || !sd.changed || sd.unknown {
					emit(end)
					return nil
				}
				v := sd.start
				if name == "EndDate" {
					v = sd.end
				}
				if v == "" {
					cut(end)
					skipDepth = len(stack)
					return nil
				}
				replace(stack, start, end, v)
			case is(stack, 0, "ArchiveTransfer", "Comment") && mc.comment != "":
				if mc.seenComment { // one Comment says why this SIP is a rewrite
					cut(end)
					skipDepth = len(stack)
					return nil
				}
				mc.seenComment = true
				replace(stack, start, end, mc.comment)
			case is(stack, 0, "ArchiveTransfer", "Date"):
				if mc.comment != "" && !mc.seenComment {
					// Comment comes first in the header: it goes before Date, laid out as the
					// whitespace before Date is.
					mc.seenComment = true
					ws := string(win.bytes(pos, start))
					tag := string(win.bytes(start, end))
					prefix := strings.TrimSuffix(qname(tag), "Date")
					// Date may bind its own prefix: Comment, its sibling, then binds it too.
					decl := ""
					if strings.Contains(tag, "xmlns") {
						decl = fmt.Sprintf(` xmlns%s="%s"`, strings.TrimSuffix(":"+prefix, ":"), textEscaper.Replace(t.Name.Space))
					}
					emit(start)
					write("<", prefix, "Comment", decl, ">", textEscaper.Replace(mc.comment), "</", prefix, "Comment>", ws)
				}
				mc.seenDate = true
				replace(stack, start, end, mc.date)
			case is(stack, 0, "ArchiveTransfer", "MessageIdentifier"):
				mc.seenID = true
				replace(stack, start, end, mc.msgID)
			default:
				emit(end)
			}
		case xml.EndElement:
			if n := len(u.depths); n > 0 && len(stack) == u.depths[n-1] {
				u.depths = u.depths[:n-1]
			}
			if skipDepth > 0 {
				cut(end)
				if len(stack) == skipDepth {
					skipDepth = 0
				}
				return nil
			}
			emit(end)
		case xml.CharData:
			if skipDepth > 0 {
				cut(end)
				return nil
			}
			if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
				emit(end)
			}
			// Whitespace waits for the next token: cut with a removed element, copied otherwise.
		default:
			if skipDepth > 0 {
				cut(end)
			} else {
				emit(end)
			}
		}
		return werr
	})
	if err != nil {
		return err
	}
	emit(m.d.InputOffset()) // what follows the root element
	if werr != nil {
		return werr
	}
	switch {
	case !mc.seenID || !mc.seenDate:
		return fmt.Errorf("%s: the manifest has no MessageIdentifier or no Date in its header", r.name())
	case mc.droppedSeen != len(p.droppedKeys) || mc.dossiers != p.kept+len(p.droppedKeys) || mc.objects != p.objectsDropped:
		return fmt.Errorf("%s: the manifest read differently from one pass to the next (%d/%d dossiers, %d/%d objects): was the SIP changed while it was rewritten?",
			r.name(), mc.dossiers, p.kept+len(p.droppedKeys), mc.objects, p.objectsDropped)
	}
	return nil
}

// qname is the element name of a raw start tag, prefix included.
func qname(tag string) string {
	s := strings.TrimPrefix(tag, "<")
	if i := strings.IndexAny(s, " \t\r\n/>"); i >= 0 {
		s = s[:i]
	}
	return s
}
