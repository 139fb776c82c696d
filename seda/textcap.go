package seda

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// encoding/xml hands out a text node, a comment or a CDATA section whole, so one 200 MB text
// node in an untrusted manifest would cost 200 MB while it is read. The verifier keeps no text
// longer than maxLeafBytes, so textCap shortens any such run to maxLeafBytes before the parser
// sees it: what it keeps stays well-formed (cut on a character boundary, never inside an entity
// reference or before a comment's closing "--"), and markup is passed through untouched. The
// manifest's digests are computed on the bytes before this reader.
type textCap struct {
	r       io.Reader
	limit   int
	state   int
	run     int       // bytes of the current text, comment or CDATA run passed on
	quote   byte      // inside a tag: the quote of the attribute value being read, or 0
	pi      bool      // the tag is a processing instruction: it ends at "?>", and a '>' or a quote in it is text
	dir     directive // the tag is a directive (<!DOCTYPE …>): it ends where encoding/xml ends it
	tail    []byte    // the last bytes of markup seen: "<!--", "<![CDATA[", "-->", "]]>" span reads
	pending []byte    // text held back so that a cut can be made on a clean boundary
	out     []byte    // ready to be read, from off on
	off     int
	dropped bool // the current run was cut: bytes are skipped until it ends
	buf     []byte
	err     error
}

const (
	capText = iota
	capTag
	capComment
	capCDATA
)

// holdback is how many bytes of a run wait before they are passed on: enough for the longest
// entity reference or UTF-8 sequence a cut must not split.
const holdback = 16

func newTextCap(r io.Reader, limit int) *textCap {
	return &textCap{r: r, limit: limit, buf: make([]byte, 64<<10)}
}

func (c *textCap) Read(p []byte) (int, error) {
	if c.off == len(c.out) { // all handed out: the buffer is reused, not reallocated
		c.out, c.off = c.out[:0], 0
	}
	for len(c.out) == 0 {
		if c.err != nil {
			c.out = append(c.out, c.pending...)
			c.pending = c.pending[:0]
			if len(c.out) == 0 {
				return 0, c.err
			}
			break
		}
		n, err := c.r.Read(c.buf)
		c.process(c.buf[:n])
		c.err = err
	}
	n := copy(p, c.out[c.off:])
	c.off += n
	return n, nil
}

func (c *textCap) emit(b byte) { c.out = append(c.out, b) }

// process feeds p, taking the common cases in bulk: a short text run up to the next '<', and
// an ordinary tag up to its next quote or '>'. Everything else goes byte by byte through feed.
func (c *textCap) process(p []byte) {
	for len(p) > 0 {
		switch {
		case c.state == capText && !c.dropped && len(c.pending) == 0:
			room := c.limit - holdback - c.run
			i := bytes.IndexByte(p, '<')
			n := len(p)
			if i >= 0 {
				n = i
			}
			if n > room {
				n = max(room, 0)
			}
			c.out = append(c.out, p[:n]...)
			c.run += n
			p = p[n:]
			if len(p) > 0 {
				c.feed(p[0])
				p = p[1:]
			}
		case c.state == capText && c.dropped:
			i := bytes.IndexByte(p, '<') // the rest of a cut text run goes nowhere
			if i < 0 {
				return
			}
			p = p[i:]
			c.feed(p[0])
			p = p[1:]
		case c.state == capTag && c.quote == 0 && !c.pi && !c.dir.on && !bytes.HasPrefix(c.tail, []byte("<!")) && !bytes.HasPrefix(c.tail, []byte("<?")) && len(c.tail) > 1:
			// Inside an element's tag (not a comment, CDATA or declaration): up to a quote or '>'.
			i := bytes.IndexAny(p, "\"'>")
			if i < 0 {
				c.out = append(c.out, p...)
				return
			}
			c.out = append(c.out, p[:i]...)
			c.feed(p[i])
			p = p[i+1:]
		case c.state == capTag && c.quote != 0:
			i := bytes.IndexByte(p, c.quote)
			if i < 0 {
				c.out = append(c.out, p...)
				return
			}
			c.out = append(c.out, p[:i]...)
			c.feed(p[i])
			p = p[i+1:]
		default:
			c.feed(p[0])
			p = p[1:]
		}
	}
}

// markup remembers the last bytes of markup, to recognise the starts and ends of comments and
// CDATA sections across reads.
func (c *textCap) markup(b byte) {
	c.tail = append(c.tail, b)
	if len(c.tail) > 9 {
		c.tail = c.tail[len(c.tail)-9:]
	}
}

func (c *textCap) feed(b byte) {
	switch c.state {
	case capTag:
		c.emit(b)
		c.markup(b)
		switch {
		case c.pi:
			if bytes.HasSuffix(c.tail, []byte("?>")) {
				c.startRun(capText)
			}
		case c.dir.on:
			if c.dir.end(b) {
				c.startRun(capText)
			}
		case len(c.tail) == 2 && c.tail[0] == '<' && b == '?':
			c.pi = true
		case len(c.tail) == 3 && c.tail[0] == '<' && c.tail[1] == '!' && b != '-' && b != '[':
			// A directive; its first byte is content whatever it is, as encoding/xml reads it.
			c.dir = directive{on: true, lt: -1}
		case c.quote != 0:
			if b == c.quote {
				c.quote = 0
			}
		case b == '"' || b == '\'':
			c.quote = b
		case bytes.HasSuffix(c.tail, []byte("<!--")):
			c.startRun(capComment)
		case bytes.HasSuffix(c.tail, []byte("<![CDATA[")):
			c.startRun(capCDATA)
		case b == '>':
			c.startRun(capText)
		}
	default:
		c.inRun(b)
	}
}

func (c *textCap) startRun(state int) {
	c.state, c.run, c.dropped, c.quote, c.pi, c.dir = state, 0, false, 0, false, directive{}
	c.tail = c.tail[:0]
}

// inRun handles a byte of text, of a comment or of a CDATA section. Bytes are passed on as they
// come while the run is short; the last holdback bytes before the limit wait in pending, so that
// the cut can be made on a clean boundary.
func (c *textCap) inRun(b byte) {
	end := false
	switch c.state {
	case capText:
		end = b == '<'
	case capComment:
		c.markup(b)
		end = bytes.HasSuffix(c.tail, []byte("-->"))
	case capCDATA:
		c.markup(b)
		end = bytes.HasSuffix(c.tail, []byte("]]>"))
	}
	if end {
		if !c.dropped {
			c.out = append(c.out, c.pending...)
		}
		c.pending = c.pending[:0]
		switch {
		case c.state == capText:
			c.state, c.tail = capTag, append(c.tail[:0], '<')
			c.emit('<')
			return
		case c.dropped && c.state == capComment:
			c.out = append(c.out, "-->"...)
		case c.dropped:
			c.out = append(c.out, "]]>"...)
		default:
			c.emit('>') // the terminator's first two bytes went with the run
		}
		c.state, c.tail, c.run, c.dropped = capText, c.tail[:0], 0, false
		return
	}
	if c.dropped {
		return
	}
	if c.run < c.limit-holdback {
		c.emit(b)
		c.run++
		return
	}
	c.pending = append(c.pending, b)
	if c.run+len(c.pending) >= c.limit {
		c.cut()
	}
}

// cut stops passing the run on, keeping what was held back up to a clean boundary: a whole
// character, no half entity reference, no dash or bracket that the terminator would extend into
// "--" or "]]>".
func (c *textCap) cut() {
	p := c.pending
	// An incomplete UTF-8 sequence at the end: back to its first byte.
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if p[i]&0xC0 != 0x80 { // the start of the last character
			if !utf8.FullRune(p[i:]) {
				p = p[:i]
			}
			break
		}
	}
	switch c.state {
	case capText:
		if i := bytes.LastIndexByte(p, '&'); i >= 0 && bytes.IndexByte(p[i:], ';') < 0 {
			p = p[:i]
		}
	case capComment:
		p = bytes.TrimRight(p, "-")
	case capCDATA:
		p = bytes.TrimRight(p, "]")
	}
	c.out = append(c.out, p...)
	c.pending = c.pending[:0]
	c.dropped = true
}

// directive follows a directive's bytes as encoding/xml's Decoder does, to know where it ends: at a
// '>' outside quotes and outside nested '<' … '>', a comment inside skipped whole.
type directive struct {
	on      bool
	quote   byte
	depth   int
	lt      int  // after a '<' outside quotes: how much of "!--" followed (0..2); -1 otherwise
	comment bool // inside <!-- … --> within the directive
	b0, b1  byte // the comment's last two bytes
}

// end takes one byte of the directive (after its first) and says whether it ends it.
func (d *directive) end(b byte) bool {
	if d.comment {
		if d.b0 == '-' && d.b1 == '-' && b == '>' {
			d.comment = false
		}
		d.b0, d.b1 = d.b1, b
		return false
	}
	if d.lt >= 0 {
		if b == "!--"[d.lt] {
			if d.lt++; d.lt == 3 {
				d.lt, d.comment, d.b0, d.b1 = -1, true, 0, 0
			}
			return false
		}
		// Not a comment: the '<' nests, and b is read as any other byte, end test aside.
		d.lt = -1
		d.depth++
	} else if d.quote == 0 && b == '>' && d.depth == 0 {
		return true
	}
	switch {
	case b == d.quote:
		d.quote = 0
	case d.quote != 0:
	case b == '\'' || b == '"':
		d.quote = b
	case b == '>':
		d.depth--
	case b == '<':
		d.lt = 0
	}
	return false
}

// CapText returns a reader of r that shortens every text node, comment and CDATA section of an
// XML document to limit bytes, keeping the document well-formed: what a reader of untrusted
// manifests other than the verifier (sip's) wraps its input in, so that one huge text node does
// not become one huge string inside encoding/xml.
func CapText(r io.Reader, limit int) io.Reader { return newTextCap(r, limit) }
