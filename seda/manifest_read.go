package seda

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

const (
	maxDepth     = 200     // SEDA nests units, but not this deep
	maxLeafBytes = 1 << 20 // longest text kept for an element the verifier reads (Uri, digest…)
)

// manifest is what the verifier keeps of a manifest: objects to hash, ids and references. Its size is
// proportional to the manifest's, which MaxManifestBytes bounds, and kept small per object
// (bench/verify-memory.sh): every string kept is in one arena; ids map to two numbers; a reference
// whose target is already known (the usual order: groups before the units that reference them) is
// checked as it is read and not kept.
type manifest struct {
	a       arena
	objects objectStore
	// entryName gives the package's own string for a file name, so that Uris cost no copy.
	entryName func(string) (string, bool)
	ids       idTable
	kinds     []string // element names carrying ids, by number
	kindNum   map[string]uint32
	// refs are the references left to resolve at the end (target not yet seen, or of the wrong
	// kind), and every ArchiveUnitRefId (the cycle check needs them), in document order.
	refs []ref
	// names interns algorithms: the same few strings, once each.
	names map[string]string
	// children are the units nested in a unit; with ArchiveUnitRefId references they make the
	// graph that must have no cycle (VITAM refuses a unit that is its own ancestor). Units in it
	// are numbered (idRec.node); nodes gives a number's id record.
	children chunked[edge]
	nodes    []uint32
}

type edge struct{ from, to uint32 }

// Reference kinds.
const (
	refGroup     uint8 = iota // DataObjectGroupReferenceId
	refFlatGroup              // flat DataObjectGroupReferenceId
	refObject                 // DataObjectReferenceId
	refUnit                   // ArchiveUnitRefId
)

var refNames = [...]string{"DataObjectGroupReferenceId", "flat DataObjectGroupReferenceId", "DataObjectReferenceId", "ArchiveUnitRefId"}

// refWant is the element each kind of reference must point to.
var refWant = [...][]string{{"DataObjectGroup"}, {"DataObjectGroup"}, {"BinaryDataObject", "PhysicalDataObject"}, {"ArchiveUnit"}}

type ref struct {
	kind   uint8
	target string
	from   string // id of the referring unit or object
}

// kindName is the element name of an id's carrier, or "" for an unknown id.
func (m *manifest) kind(id string) (string, bool) {
	rec, _, ok := m.ids.find(id)
	if !ok {
		return "", false
	}
	return m.kinds[rec.kind], true
}

func (m *manifest) kindNumber(name string) uint32 {
	if n, ok := m.kindNum[name]; ok {
		return n
	}
	if m.kindNum == nil {
		m.kindNum = map[string]uint32{}
	}
	n := uint32(len(m.kinds))
	name = strings.Clone(name)
	m.kinds = append(m.kinds, name)
	m.kindNum[name] = n
	return n
}

// addID records id, which is not known yet, as carried by element name, and returns the
// manifest's copy of it.
func (m *manifest) addID(id, name string) string {
	return m.ids.insert(id, m.kindNumber(name))
}

// refGood says whether a reference of kind k to target resolves to the right element.
func (m *manifest) refGood(k uint8, target string) bool {
	got, ok := m.kind(target)
	if !ok {
		return false
	}
	for _, w := range refWant[k] {
		if got == w {
			return true
		}
	}
	return false
}

// addRef checks a reference as it is read, and keeps it if it cannot be settled yet.
func (m *manifest) addRef(k uint8, target, from string) {
	if k != refUnit && m.refGood(k, target) {
		return
	}
	m.refs = append(m.refs, ref{k, m.a.add(target), from})
}

// node is id's number in the nesting graph (id is in ids).
func (m *manifest) node(id string) uint32 {
	rec, i, _ := m.ids.find(id)
	if rec.node == 0 {
		if len(m.nodes) == 0 {
			m.nodes = append(m.nodes, 0)
		}
		rec.node = uint32(len(m.nodes))
		m.nodes = append(m.nodes, i)
	}
	return rec.node
}

// seqRule is one element of an XSD sequence: name, min and max occurrences (-1: unbounded).
type seqRule struct {
	name     string
	min, max int
}

var (
	transferSeq = []seqRule{{"Comment", 0, -1}, {"Date", 1, 1}, {"MessageIdentifier", 1, 1}, {"Signature", 0, 1},
		{"ArchivalAgreement", 0, 1}, {"CodeListVersions", 1, 1}, {"DataObjectPackage", 0, 1},
		{"RelatedTransferReference", 0, -1}, {"TransferRequestReplyIdentifier", 0, 1},
		{"ArchivalAgency", 1, 1}, {"TransferringAgency", 1, 1}}
	packageSeq = []seqRule{{"DataObjects", 0, -1}, {"DescriptiveMetadata", 1, 1}, {"ManagementMetadata", 1, 1}}
	unitSeq    = []seqRule{{"ArchiveUnitProfile", 0, 1}, {"Management", 0, 1}, {"Content", 1, 1}, {"Children", 0, -1}}
)

// checkSeq checks children (consecutive repeats already merged, with counts) against rules and
// returns what is wrong, or "".
func checkSeq(children []run, rules []seqRule) string {
	i := 0
	for _, rule := range rules {
		n := 0
		for i < len(children) && children[i].name == rule.name {
			n += children[i].n
			i++
		}
		if n < rule.min {
			got := "the end"
			if i < len(children) {
				got = "<" + children[i].name + ">"
			}
			return fmt.Sprintf("<%s> is missing (found %s where it should be)", rule.name, got)
		}
		if rule.max >= 0 && n > rule.max {
			return fmt.Sprintf("<%s> appears %d times, at most %d allowed", rule.name, n, rule.max)
		}
	}
	if i < len(children) {
		return fmt.Sprintf("<%s> is not expected there (unknown element, or out of order)", children[i].name)
	}
	return ""
}

type run struct {
	name string
	n    int
}

// frame is an open element while parsing.
type frame struct {
	name     string // local name, "" for elements outside the SEDA namespace
	children []run  // only kept for the elements whose order is checked
	track    bool
	id       string
	text     []byte // when keepText
	obj      int    // for a BinaryDataObject: its number in manifest.objects, from 1
	group    string // for DataObjectGroup: its id
	hasLevel bool
	hasTitle bool
	keepText bool // only the values the verifier reads are kept
}

var textElements = map[string]bool{"MessageIdentifier": true, "ArchiveUnitRefId": true, "DataObjectGroupReferenceId": true,
	"DataObjectReferenceId": true, "DataObjectGroupId": true, "Uri": true, "MessageDigest": true, "Size": true}

func (f *frame) child(name string) {
	if !f.track {
		return
	}
	if l := len(f.children); l > 0 && f.children[l-1].name == name {
		f.children[l-1].n++
		return
	}
	f.children = append(f.children, run{name, 1})
}

// parseManifest reads a manifest as a stream. It returns nil when the XML cannot be read (findings
// say why); structural problems are findings on a returned manifest.
func parseManifest(rd io.Reader, r *Verification) (*manifest, error) {
	return parseManifestInto(&manifest{}, rd, r)
}

// Kinds of token, as the manifest reader tells them apart.
const (
	tokOther     = iota // comment, processing instruction
	tokStart            // xmlToken.start
	tokEnd              //
	tokChars            // xmlToken.data
	tokDirective        // xmlToken.data
)

// xmlToken is one of encoding/xml's tokens, from either reader; its bytes are good until the next.
type xmlToken struct {
	kind  int
	start xml.StartElement
	data  []byte
}

// tokenSource is encoding/xml's Decoder.Token or fastTokens.
type tokenSource interface{ next(t *xmlToken) error }

type stdTokens struct{ d *xml.Decoder }

func (s stdTokens) next(t *xmlToken) error {
	tok, err := s.d.Token()
	if err != nil {
		return err
	}
	switch x := tok.(type) {
	case xml.StartElement:
		t.kind, t.start = tokStart, x
	case xml.EndElement:
		t.kind = tokEnd
	case xml.CharData:
		t.kind, t.data = tokChars, x
	case xml.Directive:
		t.kind, t.data = tokDirective, x
	default:
		t.kind = tokOther
	}
	return nil
}

// parseManifestFast is parseManifestInto with fastTokens: errBail when it stopped where
// encoding/xml must read the manifest (from its first byte, into a new manifest: what was added
// to m and r is then to be dropped).
func parseManifestFast(m *manifest, rd io.Reader, r *Verification) (*manifest, error) {
	return m.read(newFastTokens(rd), r)
}

// parseManifestInto is parseManifest into a manifest set up by the verifier (spill, entry names).
func parseManifestInto(m *manifest, rd io.Reader, r *Verification) (*manifest, error) {
	// Other producers write ISO-8859-1, Windows-1252 or UTF-16 manifests, which are well-formed
	// XML: they are decoded (and named in a warning), not called malformed.
	br := bufio.NewReader(rd)
	utf16 := false
	if bom, _ := br.Peek(2); len(bom) == 2 && (bom[0] == 0xFF && bom[1] == 0xFE || bom[0] == 0xFE && bom[1] == 0xFF) {
		utf16 = true
		rd = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	} else {
		rd = br
	}
	d := xml.NewDecoder(rd)
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if utf16 && strings.HasPrefix(strings.ToUpper(label), "UTF-16") {
			r.add(SevWarning, CodeEncoding, r.Manifest, "manifest is encoded in %s: read as such; VITAM and versement write UTF-8", label)
			return in, nil // already decoded from its byte order mark
		}
		enc, err := ianaindex.IANA.Encoding(label)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("encoding %q is not one versement can read (UTF-8, UTF-16, ISO-8859-1, Windows-1252…)", label)
		}
		r.add(SevWarning, CodeEncoding, r.Manifest, "manifest is encoded in %s: read as such; VITAM and versement write UTF-8", label)
		return enc.NewDecoder().Reader(in), nil
	}
	return m.read(stdTokens{d}, r)
}

// read is the manifest reader proper, on tokens from either source.
func (m *manifest) read(src tokenSource, r *Verification) (*manifest, error) {
	var tok xmlToken
	var stack []*frame
	// Frames are reused: a new one per element was most of what the reader allocated.
	var free []*frame
	newFrame := func() *frame {
		n := len(free)
		if n == 0 {
			return &frame{}
		}
		f := free[n-1]
		free = free[:n-1]
		*f = frame{children: f.children[:0], text: f.text[:0]}
		return f
	}
	ns := ""
	rootSeen := false
	flatGroups := map[string]bool{}
	structural := 0
	structf := func(where, format string, args ...any) {
		structural++
		if structural <= 50 {
			r.add(SevError, CodeStructure, where, format, args...)
		} else if structural == 51 {
			r.add(SevError, CodeStructure, "", "more structure errors not listed")
		}
	}
	for {
		err := src.next(&tok)
		if err == io.EOF {
			break
		}
		if err == errBail {
			return nil, errBail
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				r.add(SevError, CodeXMLMalformed, r.Manifest, "not well-formed XML at line %d: %s", se.Line, se.Msg)
				return nil, nil
			}
			r.add(SevError, CodeXMLMalformed, r.Manifest, "manifest unreadable: %v", err)
			return nil, nil
		}
		switch tok.kind {
		case tokDirective:
			t := tok.data
			r.add(SevError, CodeDoctype, r.Manifest, "manifest has a <!%s…> declaration: DOCTYPEs and entities are refused (entity expansion attacks)", firstWord(string(t)))
			return nil, nil
		case tokStart:
			t := &tok.start
			if len(stack) >= maxDepth {
				r.add(SevError, CodeXMLMalformed, r.Manifest, "elements nested more than %d deep: refused", maxDepth)
				return nil, nil
			}
			if !rootSeen {
				rootSeen = true
				ns = t.Name.Space
				if what := unsupported(t.Name); what != "" {
					r.Unsupported = what
					r.add(SevWarning, CodeUnsupported, r.Manifest, "%s: not verified", what)
					return nil, nil
				}
				switch {
				case t.Name.Local != "ArchiveTransfer":
					r.add(SevError, CodeNamespace, r.Manifest, "root element is <%s>, not <ArchiveTransfer>: not a SEDA SIP", t.Name.Local)
					return nil, nil
				case ns == V21.Namespace():
					r.Version = V21
				case ns == V22.Namespace():
					r.Version = V22
				case ns == V23.Namespace():
					r.Version = V23
				default:
					r.add(SevError, CodeNamespace, r.Manifest, "root namespace %q is not SEDA 2.1, 2.2 or 2.3", ns)
					return nil, nil
				}
			}
			f := newFrame()
			if t.Name.Space == ns {
				f.name = t.Name.Local
				f.keepText = textElements[f.name]
			}
			var parent *frame
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
				pname := f.name
				if pname == "" {
					pname = "{" + t.Name.Space + "}" + t.Name.Local
				}
				switch parent.name {
				case "DataObjectPackage":
					if pname == "DataObjectGroup" || pname == "BinaryDataObject" || pname == "PhysicalDataObject" {
						pname = "DataObjects"
					}
				case "ArchiveUnit":
					if pname != "ArchiveUnitProfile" && pname != "Management" && pname != "Content" && pname != "ArchiveUnitRefId" {
						pname = "Children"
					}
				}
				parent.child(pname)
			}
			for _, a := range t.Attr {
				if a.Name.Local == "id" && (a.Name.Space == "" || a.Name.Space == "http://www.w3.org/XML/1998/namespace") {
					var id string
					if prev, dup := m.kind(a.Value); dup {
						r.add(SevError, CodeDuplicateID, a.Value, "id %q is used by <%s> and <%s>: ids must be unique in the message", a.Value, prev, t.Name.Local)
						id = m.a.add(a.Value)
					} else {
						id = m.addID(a.Value, t.Name.Local)
					}
					if a.Name.Space == "" {
						f.id = id
					}
				}
			}
			inParent := func(name string) bool { return parent != nil && parent.name == name }
			switch f.name {
			case "ArchiveTransfer", "DataObjectPackage":
				f.track = len(stack) <= 1
			case "ArchiveUnit":
				f.track = true
				r.Units++
				if f.id == "" {
					structf("", "an ArchiveUnit has no id")
				} else if parent != nil && parent.name == "ArchiveUnit" && parent.id != "" {
					m.children.add(edge{m.node(parent.id), m.node(f.id)})
				}
			case "DataObjectGroup":
				r.Groups++
				f.group = f.id
			case "BinaryDataObject":
				f.obj = m.objects.add(object{id: f.id, size: -1}) + 1
				if f.id == "" {
					structf("", "a BinaryDataObject has no id")
				}
			case "MessageDigest":
				if inParent("BinaryDataObject") {
					algo := ""
					for _, a := range t.Attr {
						if a.Name.Local == "algorithm" && a.Name.Space == "" {
							algo = a.Value
						}
					}
					o := m.obj(parent)
					if algo == "" {
						structf(o.id, "object %s: MessageDigest has no algorithm attribute", o.id)
					}
					o.algo = m.intern(algo)
				}
			case "Attachment":
				if inParent("BinaryDataObject") {
					m.obj(parent).attachment = true
				}
			}
			stack = append(stack, f)
		case tokChars:
			t := tok.data
			if len(stack) > 0 {
				f := stack[len(stack)-1]
				if f.keepText && len(f.text)+len(t) <= maxLeafBytes {
					f.text = append(f.text, t...)
				}
			}
		case tokEnd:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var parent *frame
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			// text is good while f is: what outlives it is copied (ids, the arena, findings).
			text := strings.TrimSpace(unsafe.String(unsafe.SliceData(f.text), len(f.text)))
			switch f.name {
			case "ArchiveTransfer":
				if msg := checkSeq(f.children, transferSeq); msg != "" {
					structf("ArchiveTransfer", "ArchiveTransfer: %s", msg)
				}
			case "DataObjectPackage":
				if f.track {
					if msg := checkSeq(f.children, packageSeq); msg != "" {
						structf("DataObjectPackage", "DataObjectPackage: %s", msg)
					}
				}
			case "MessageIdentifier":
				if parent != nil && parent.name == "ArchiveTransfer" {
					r.MessageIdentifier = strings.Clone(text)
				}
			case "ArchiveUnit":
				if len(f.children) == 1 && f.children[0].name == "ArchiveUnitRefId" {
					break
				}
				if msg := checkSeq(f.children, unitSeq); msg != "" {
					structf(f.id, "ArchiveUnit %s: %s", f.id, msg)
				}
			case "Content":
				if parent != nil && parent.name == "ArchiveUnit" && (!f.hasLevel || !f.hasTitle) {
					var miss []string
					if !f.hasLevel {
						miss = append(miss, "DescriptionLevel")
					}
					if !f.hasTitle {
						miss = append(miss, "Title")
					}
					r.add(SevWarning, CodeVitam, parent.id, "ArchiveUnit %s: Content has no %s: valid SEDA, but VITAM refuses it", parent.id, strings.Join(miss, " nor "))
				}
			case "DescriptionLevel":
				if parent != nil && parent.name == "Content" {
					parent.hasLevel = true
				}
			case "Title":
				if parent != nil && parent.name == "Content" {
					parent.hasTitle = true
				}
			case "ArchiveUnitRefId":
				if parent != nil && parent.name == "ArchiveUnit" {
					m.addRef(refUnit, text, parent.id)
				}
			case "DataObjectGroupReferenceId", "DataObjectReferenceId":
				if parent == nil {
					break
				}
				switch parent.name {
				case "DataObjectReference":
					from := ""
					if len(stack) >= 2 {
						from = stack[len(stack)-2].id
					}
					k := refGroup
					if f.name == "DataObjectReferenceId" {
						k = refObject
					}
					m.addRef(k, text, from)
				case "BinaryDataObject", "PhysicalDataObject":
					if f.name == "DataObjectGroupReferenceId" {
						m.addRef(refFlatGroup, text, parent.id)
					}
				}
			case "DataObjectGroupId":
				if parent != nil && (parent.name == "BinaryDataObject" || parent.name == "PhysicalDataObject") {
					if flatGroups[text] {
						structf(parent.id, "object %s: DataObjectGroupId %q is declared twice (later objects of a group use DataObjectGroupReferenceId)", parent.id, text)
					} else if prev, dup := m.kind(text); dup {
						structf(parent.id, "DataObjectGroupId %q is already the id of a <%s>", text, prev)
					} else {
						flatGroups[m.addID(text, "DataObjectGroup")] = true
						r.Groups++
					}
				}
			case "Uri":
				if parent != nil && parent.obj != 0 {
					m.obj(parent).uri = m.canonicalURI(text, &m.objects.a)
				}
			case "MessageDigest":
				if parent != nil && parent.obj != 0 {
					m.obj(parent).setDigest(&m.objects.a, text)
				}
			case "Size":
				if parent != nil && parent.obj != 0 {
					o := m.obj(parent)
					n, err := strconv.ParseInt(text, 10, 64)
					if err != nil || n <= 0 {
						structf(o.id, "object %s: Size %q is not a positive integer", o.id, truncate(text, 40))
					} else {
						o.size = n
					}
				}
			case "BinaryDataObject":
				if f.obj == 0 {
					break
				}
				if o := m.obj(f); (o.uri != "" || o.attachment) && o.value == "" {
					structf(o.id, "object %s has a Uri or an Attachment but no MessageDigest", o.id)
				}
				keep := m.objects.len() // objects before the first still open are finished
				for _, g := range stack {
					if g.obj != 0 {
						keep = min(keep, g.obj-1)
					}
				}
				m.objects.finished(keep)
			}
			if cap(f.text) > 64<<10 {
				f.text = nil
			}
			free = append(free, f)
		}
	}
	if !rootSeen {
		r.add(SevError, CodeXMLMalformed, r.Manifest, "manifest is empty: no root element")
		return nil, nil
	}
	return m, nil
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t\r\n["); i > 0 {
		return s[:i]
	}
	return truncate(s, 20)
}

// resolve checks that every reference points to an element of the right kind.
func (m *manifest) resolve(r *Verification) {
	n := 0
	for _, rf := range m.refs {
		if m.refGood(rf.kind, rf.target) {
			continue
		}
		n++
		if n > 50 {
			continue
		}
		name := refNames[rf.kind]
		if kind, ok := m.kind(rf.target); !ok {
			r.add(SevError, CodeDanglingRef, rf.from, "%s %q (in %s) points to no element of the manifest", name, rf.target, rf.from)
		} else {
			r.add(SevError, CodeDanglingRef, rf.from, "%s %q (in %s) points to a <%s>, want %s", name, rf.target, rf.from, kind, strings.Join(refWant[rf.kind], " or "))
		}
	}
	if n > 50 {
		r.add(SevError, CodeDanglingRef, "", "%d more dangling references not listed", n-50)
	}
}

// unsupported names a root that is a known package of another kind, or "".
func unsupported(n xml.Name) string {
	switch {
	case n.Space == "fr:gouv:culture:archivesdefrance:seda:v1.0":
		return "SEDA 1.0 (versement verifies SEDA 2.1, 2.2 and 2.3)"
	case n.Space == "fr:gouv:ae:archive:draft:standard_echange_v0.2":
		return "SEDA 0.2 (versement verifies SEDA 2.1, 2.2 and 2.3)"
	case n.Space == "fr:gouv:culture:archivesdefrance:seda:v2.0":
		return "SEDA 2.0 (versement verifies SEDA 2.1, 2.2 and 2.3)"
	case strings.HasPrefix(n.Space, "org:afnor:medona"):
		return "a MEDONA message (versement verifies SEDA 2.1–2.3 transfers)"
	case n.Local == "ArchiveDeliveryRequestReply":
		return "a DIP (ArchiveDeliveryRequestReply): a package delivered by an archive, not a SIP"
	case n.Local == "ArchiveTransferReply":
		return "an ATR (ArchiveTransferReply), not a SIP"
	}
	return ""
}

// cycles finds units that are their own ancestors through nesting and ArchiveUnitRefId, and
// names the path of each cycle once. Iterative, so a deep or hostile graph cannot exhaust the
// stack; memory is a few bytes per unit (the graph as arrays of node numbers).
func (m *manifest) cycles(r *Verification) {
	var refEdges []edge
	for _, rf := range m.refs {
		if rf.kind == refUnit && rf.from != "" {
			if k, _ := m.kind(rf.target); k == "ArchiveUnit" {
				refEdges = append(refEdges, edge{m.node(rf.from), m.node(rf.target)})
			}
		}
	}
	if m.children.len()+len(refEdges) == 0 {
		return
	}
	n := len(m.nodes)
	edges := func(yield func(edge) bool) {
		for i := range m.children.len() {
			if !yield(*m.children.at(i)) {
				return
			}
		}
		for _, e := range refEdges {
			if !yield(e) {
				return
			}
		}
	}
	// Each node's successors, children first then references, in document order.
	first := make([]uint32, n+1)
	for e := range edges {
		first[e.from+1]++
	}
	for i := 1; i <= n; i++ {
		first[i] += first[i-1]
	}
	next := make([]uint32, m.children.len()+len(refEdges))
	fill := append([]uint32(nil), first[:n]...)
	for e := range edges {
		next[fill[e.from]] = e.to
		fill[e.from]++
	}
	succ := func(id uint32) []uint32 { return next[first[id]:first[id+1]] }
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, n)
	found := 0
	var starts []uint32
	for id := 1; id < n; id++ {
		if first[id+1] > first[id] {
			starts = append(starts, uint32(id))
		}
	}
	sort.Slice(starts, func(i, j int) bool { return m.nodeID(starts[i]) < m.nodeID(starts[j]) })
	type step struct{ id, i uint32 }
	for _, start := range starts {
		if state[start] != unseen {
			continue
		}
		path := []step{{start, 0}}
		state[start] = onPath
		for len(path) > 0 {
			top := &path[len(path)-1]
			if s := succ(top.id); int(top.i) >= len(s) {
				state[top.id] = done
				path = path[:len(path)-1]
				continue
			}
			to := succ(top.id)[top.i]
			top.i++
			switch state[to] {
			case unseen:
				state[to] = onPath
				path = append(path, step{to, 0})
			case onPath:
				found++
				if found <= 20 {
					var ids []string
					for j := range path {
						if path[j].id == to || len(ids) > 0 {
							ids = append(ids, m.nodeID(path[j].id))
						}
					}
					ids = append(ids, m.nodeID(to))
					r.add(SevError, CodeCycle, m.nodeID(to), "ArchiveUnit %s is its own ancestor: %s (VITAM refuses a cycle)", m.nodeID(to), strings.Join(ids, " → "))
				}
			}
		}
	}
}

// nodeID is the id of node n of the nesting graph.
func (m *manifest) nodeID(n uint32) string { return m.ids.key(m.nodes[n]) }

// obj is the object a BinaryDataObject frame describes. The pointer is good until the next object.
func (m *manifest) obj(f *frame) *object { return m.objects.at(f.obj - 1) }

func (m *manifest) intern(s string) string {
	if v, ok := m.names[s]; ok {
		return v
	}
	if m.names == nil {
		m.names = map[string]string{}
	}
	if len(m.names) < 1000 { // a hostile manifest with a new name per element gets no table
		s = strings.Clone(s)
		m.names[s] = s
	}
	return s
}
