package seda

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encoding/xml's Decoder reads a byte at a time through an interface and allocates every token
// (its names, its attributes, an interface value): on a 2 MB manifest of a thousand dossiers that
// was three quarters of what verify did (issue 13). fastTokens reads the same tokens from the same
// bytes, a buffer at a time, for the XML that producers write: ASCII names, the five predefined
// entities and character references, comments, the <?xml?> declaration in UTF-8. It never reports
// an error: wherever encoding/xml could fail, or the input leaves that subset (a DOCTYPE, CDATA,
// another encoding, a name outside ASCII, a read error, an unexpected end), it gives up with
// errBail and the verifier reads the manifest again with encoding/xml, whose findings (message,
// line) are then the ones reported. What it accepts, encoding/xml accepts with the same tokens
// (TestFastTokensMatchEncodingXML, FuzzFastTokens).
type fastTokens struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool

	stack      []string // raw names (prefix:local) of the open elements
	nsMarks    []int    // per open element: len(nsUndo) before its bindings
	nsUndo     []nsBinding
	ns         map[string]string
	pendingEnd bool // a self-closing element's end is next
	names      map[string]string
	attrs      []xml.Attr
	scratch    []byte
}

type nsBinding struct {
	prefix, old string
	had         bool
}

// maxFastRun is the longest text or comment fastTokens reads. textCap, which the verifier puts
// before encoding/xml, shortens only runs of text, comment or CDATA of maxLeafBytes and more: with
// shorter runs (and no CDATA, no directive) it changes nothing, and fastTokens reads the manifest
// without it. A longer run goes to textCap and encoding/xml.
const maxFastRun = maxLeafBytes / 2

// errBail: the fast reader stopped where encoding/xml must read the manifest.
var errBail = errors.New("seda: the manifest is read by encoding/xml")

const xmlNamespaceURL = "http://www.w3.org/XML/1998/namespace"

func newFastTokens(r io.Reader) *fastTokens {
	return &fastTokens{r: r, buf: make([]byte, 64<<10), ns: map[string]string{}, names: map[string]string{}}
}

// fill reads more input after what is left from pos: at least as much again (or to the end), so
// that a token read again from its start after each fill costs time in proportion to its length,
// however little each Read gives.
func (s *fastTokens) fill() error {
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	want := max(2*s.end, 4096)
	if want > len(s.buf) {
		nb := make([]byte, max(want, 2*len(s.buf)))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for zero := 0; s.end < want; {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return errBail // encoding/xml reports it
		}
		if n > 0 {
			zero = 0
		} else if zero++; zero > 100 {
			return errBail
		}
	}
	return nil
}

// next reads the next token into t, as encoding/xml's Decoder.Token would give it (names
// translated by namespace, a self-closing element as a start and an end). t's bytes are good
// until the next call.
func (s *fastTokens) next(t *xmlToken) error {
	if s.pendingEnd {
		s.pendingEnd = false
		s.pop()
		t.kind = tokEnd
		return nil
	}
	for {
		if s.pos == s.end {
			if s.eof {
				if len(s.stack) > 0 {
					return errBail // "unexpected EOF"
				}
				return io.EOF
			}
			if err := s.fill(); err != nil {
				return err
			}
			continue
		}
		n, more, err := s.scan(t, s.buf[s.pos:s.end])
		if err != nil {
			return err
		}
		if more {
			if s.eof {
				return errBail
			}
			if err := s.fill(); err != nil {
				return err
			}
			continue
		}
		s.pos += n
		return nil
	}
}

// scan reads one token at the start of p: the bytes it took, or more when p ends first.
func (s *fastTokens) scan(t *xmlToken, p []byte) (n int, more bool, err error) {
	if p[0] != '<' {
		i := bytes.IndexByte(p, '<')
		if i < 0 {
			if len(p) >= maxFastRun {
				return 0, false, errBail
			}
			if !s.eof {
				return 0, true, nil
			}
			i = len(p)
		}
		if i >= maxFastRun {
			return 0, false, errBail
		}
		data, ok := s.decode(p[:i], false)
		if !ok {
			return 0, false, errBail
		}
		t.kind, t.data = tokChars, data
		return i, false, nil
	}
	if len(p) < 2 {
		return 0, true, nil
	}
	switch p[1] {
	case '/':
		k, _, more, ok := scanName(p[2:])
		if more {
			return 0, true, nil
		}
		if !ok {
			return 0, false, errBail
		}
		raw := p[2 : 2+k]
		j := skipSpace(p, 2+k)
		if j == len(p) {
			return 0, true, nil
		}
		if p[j] != '>' || len(s.stack) == 0 || s.stack[len(s.stack)-1] != string(raw) {
			return 0, false, errBail
		}
		s.pop()
		t.kind = tokEnd
		return j + 1, false, nil
	case '?':
		k, colon, more, ok := scanName(p[2:])
		if more {
			return 0, true, nil
		}
		if !ok || colon >= 0 {
			return 0, false, errBail
		}
		target := p[2 : 2+k]
		j := skipSpace(p, 2+k)
		if j == len(p) {
			return 0, true, nil
		}
		e := bytes.Index(p[j:], []byte("?>"))
		if e < 0 {
			return 0, true, nil
		}
		if string(target) == "xml" {
			content := string(p[j : j+e])
			if ver := procInst("version", content); ver != "" && ver != "1.0" {
				return 0, false, errBail
			}
			if enc := procInst("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return 0, false, errBail // the CharsetReader's business, and its warning
			}
		}
		t.kind = tokOther
		return j + e + 2, false, nil
	case '!':
		if len(p) < 4 {
			return 0, true, nil
		}
		if p[2] != '-' || p[3] != '-' {
			return 0, false, errBail // CDATA, DOCTYPE and other directives
		}
		e := bytes.Index(p[4:], []byte("--"))
		if e >= maxFastRun || e < 0 && len(p) >= maxFastRun {
			return 0, false, errBail
		}
		if e < 0 || 4+e+2 >= len(p) {
			return 0, true, nil
		}
		if p[4+e+2] != '>' {
			return 0, false, errBail // "--" inside a comment
		}
		t.kind = tokOther
		return 4 + e + 3, false, nil
	}
	return s.startElement(t, p)
}

func (s *fastTokens) startElement(t *xmlToken, p []byte) (n int, more bool, err error) {
	k, colon, more, ok := scanName(p[1:])
	if more {
		return 0, true, nil
	}
	if !ok {
		return 0, false, errBail
	}
	raw := p[1 : 1+k]
	name := s.splitName(raw, colon)
	attrs := s.attrs[:0]
	empty := false
	j := 1 + k
	for {
		j = skipSpace(p, j)
		if j == len(p) {
			return 0, true, nil
		}
		if p[j] == '/' {
			if j+1 == len(p) {
				return 0, true, nil
			}
			if p[j+1] != '>' {
				return 0, false, errBail
			}
			empty = true
			j += 2
			break
		}
		if p[j] == '>' {
			j++
			break
		}
		k, colon, more, ok := scanName(p[j:])
		if more {
			return 0, true, nil
		}
		if !ok {
			return 0, false, errBail
		}
		an := s.splitName(p[j:j+k], colon)
		j = skipSpace(p, j+k)
		if j == len(p) {
			return 0, true, nil
		}
		if p[j] != '=' {
			return 0, false, errBail
		}
		j = skipSpace(p, j+1)
		if j == len(p) {
			return 0, true, nil
		}
		q := p[j]
		if q != '"' && q != '\'' {
			return 0, false, errBail
		}
		e := bytes.IndexByte(p[j+1:], q)
		if e < 0 {
			return 0, true, nil
		}
		rawVal := p[j+1 : j+1+e]
		if bytes.IndexByte(rawVal, '<') >= 0 {
			return 0, false, errBail
		}
		val, ok := s.decode(rawVal, true)
		if !ok {
			return 0, false, errBail
		}
		attrs = append(attrs, xml.Attr{Name: an, Value: string(val)})
		j += 1 + e + 1
	}
	s.attrs = attrs
	// As Decoder.Token: the element's own bindings first, then its name and its attributes'.
	s.nsMarks = append(s.nsMarks, len(s.nsUndo))
	for _, a := range attrs {
		if a.Name.Space == "xmlns" {
			s.bind(a.Name.Local, a.Value)
		}
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			s.bind("", a.Value)
		}
	}
	rawName := name.Local // interned: raw itself when it has no prefix
	if colon >= 0 {
		rawName = s.intern(raw)
	}
	s.stack = append(s.stack, rawName)
	s.translate(&name, true)
	for i := range attrs {
		s.translate(&attrs[i].Name, false)
	}
	t.kind = tokStart
	t.start = xml.StartElement{Name: name, Attr: attrs}
	s.pendingEnd = empty
	return j, false, nil
}

func (s *fastTokens) bind(prefix, uri string) {
	old, had := s.ns[prefix]
	s.nsUndo = append(s.nsUndo, nsBinding{prefix, old, had})
	s.ns[prefix] = uri
}

// pop closes the innermost element and undoes its bindings.
func (s *fastTokens) pop() {
	s.stack = s.stack[:len(s.stack)-1]
	mark := s.nsMarks[len(s.nsMarks)-1]
	s.nsMarks = s.nsMarks[:len(s.nsMarks)-1]
	for i := len(s.nsUndo) - 1; i >= mark; i-- {
		b := s.nsUndo[i]
		if b.had {
			s.ns[b.prefix] = b.old
		} else {
			delete(s.ns, b.prefix)
		}
	}
	s.nsUndo = s.nsUndo[:mark]
}

// translate is Decoder.translate.
func (s *fastTokens) translate(n *xml.Name, isElementName bool) {
	switch {
	case n.Space == "xmlns":
		return
	case n.Space == "" && !isElementName:
		return
	case n.Space == "xml":
		n.Space = xmlNamespaceURL
	case n.Space == "" && n.Local == "xmlns":
		return
	}
	if v, ok := s.ns[n.Space]; ok {
		n.Space = v
	}
}

func (s *fastTokens) splitName(raw []byte, colon int) xml.Name {
	if colon < 0 {
		return xml.Name{Local: s.intern(raw)}
	}
	return xml.Name{Space: s.intern(raw[:colon]), Local: s.intern(raw[colon+1:])}
}

// intern keeps the few names a manifest uses once each; a hostile one with a new name per
// element gets new strings past 4096 of them.
func (s *fastTokens) intern(b []byte) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(s.names) < 4096 {
		s.names[v] = v
	}
	return v
}

// scanName reads an XML name in ASCII at the start of p: its length and the position of its
// colon (-1: none). Not ok where encoding/xml would refuse the name or read it otherwise (a
// non-ASCII byte, two colons, an empty prefix or local part).
func scanName(p []byte) (n, colon int, more, ok bool) {
	colon = -1
	if len(p) == 0 {
		return 0, colon, true, false
	}
	if c := p[0]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_') {
		return 0, colon, false, false
	}
	for n = 1; n < len(p); n++ {
		c := p[n]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' {
			continue
		}
		if c == ':' {
			if colon >= 0 {
				return 0, colon, false, false
			}
			colon = n
			continue
		}
		if c >= utf8.RuneSelf {
			return 0, colon, false, false
		}
		if colon == n-1 { // "a:" : encoding/xml keeps it whole, as a local name
			return 0, colon, false, false
		}
		return n, colon, false, true
	}
	return 0, colon, true, false
}

func skipSpace(p []byte, j int) int {
	for j < len(p) && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r') {
		j++
	}
	return j
}

// decode is raw's text as encoding/xml's Decoder.text gives it (entities replaced, "\r\n" and "\r"
// made "\n", every character checked), in raw itself when nothing changes, else in s.scratch.
// Not ok where encoding/xml would fail, or for a character reference to a code point it would
// replace.
func (s *fastTokens) decode(raw []byte, attr bool) ([]byte, bool) {
	plain := true
	for _, c := range raw {
		if c < 0x20 && c != '\n' && c != '\t' || c >= utf8.RuneSelf || c == '&' || c == ']' {
			plain = false
			break
		}
	}
	if plain {
		return raw, true
	}
	if !attr && bytes.Contains(raw, []byte("]]>")) {
		return nil, false
	}
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw, validXMLText(raw)
	}
	out := s.scratch[:0]
	var prev byte
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '&':
			e := bytes.IndexByte(raw[i:], ';')
			if e < 0 {
				return nil, false
			}
			ref := raw[i+1 : i+e]
			switch string(ref) {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "apos":
				out = append(out, '\'')
			case "quot":
				out = append(out, '"')
			default:
				r, ok := charRef(ref)
				if !ok {
					return nil, false
				}
				out = utf8.AppendRune(out, r)
			}
			i += e
			prev = 0
			continue
		case c == '\r':
			out = append(out, '\n')
		case c == '\n' && prev == '\r':
		default:
			out = append(out, c)
		}
		prev = c
	}
	s.scratch = out
	return out, validXMLText(out)
}

// charRef reads "#65" or "#x41"; not ok for what encoding/xml refuses or replaces.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	for _, c := range digits {
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || !isXMLChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// validXMLText is encoding/xml's check of a text's characters: valid UTF-8, XML characters only.
func validXMLText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// procInst is encoding/xml's reading of a parameter of the <?xml?> declaration.
func procInst(param, s string) string {
	param = param + "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
