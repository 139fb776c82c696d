package seda

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed reads every token of doc, as the verifier's parser does.
func wellFormed(t *testing.T, doc []byte) error {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// A text node, a comment or a CDATA section longer than the limit is shortened on a clean
// boundary (whole characters, whole entity references, no "--" made before a comment's end), and
// the document stays well-formed; markup and short text pass untouched.
func TestTextCapKeepsDocumentsWellFormed(t *testing.T) {
	const limit = 64
	for name, long := range map[string]string{
		"ascii":    strings.Repeat("a", 200),
		"accents":  strings.Repeat("é", 100),              // two-byte characters across the cut
		"emoji":    strings.Repeat("😀", 60),               // four-byte characters
		"entities": strings.Repeat("x&amp;&#x1F600;", 20), // references across the cut
		"dashes":   strings.Repeat("-a", 100),
	} {
		for _, shape := range []string{"<r a=\"v>w\">%s</r>", "<r><!--%s--></r>", "<r><![CDATA[%s]]></r>"} {
			body := long
			if strings.Contains(shape, "CDATA") || strings.Contains(shape, "!--") {
				body = strings.ReplaceAll(body, "&", "+") // no references there
				body = strings.ReplaceAll(body, "-", "_")
				if name == "dashes" {
					body = strings.Repeat("a-", 100) + "a"
				}
			}
			doc := []byte(strings.Replace(shape, "%s", body, 1))
			if err := wellFormed(t, doc); err != nil {
				t.Fatalf("%s %q: the test document is not well-formed: %v", name, shape, err)
			}
			out, err := io.ReadAll(newTextCap(bytes.NewReader(doc), limit))
			if err != nil {
				t.Fatal(err)
			}
			if err := wellFormed(t, out); err != nil {
				t.Errorf("%s %q: shortened document not well-formed: %v\n%s", name, shape, err, out)
			}
			if len(out) >= len(doc) || len(out) > limit+40 {
				t.Errorf("%s %q: %d bytes out of %d: not shortened to about %d", name, shape, len(out), len(doc), limit)
			}
			if !bytes.HasPrefix(out, doc[:strings.Index(shape, "%s")]) {
				t.Errorf("%s %q: markup changed: %s", name, shape, out)
			}
		}
	}
	short := []byte(`<?xml version="1.0"?><!-- c --><r x='1>2'><a>text &lt; more</a><![CDATA[x]]></r>`)
	if out, _ := io.ReadAll(newTextCap(bytes.NewReader(short), limit)); !bytes.Equal(out, short) {
		t.Errorf("a short document changed:\n%s\n%s", short, out)
	}
}

// Verifying a manifest with a 20 MiB text node keeps at most maxLeafBytes of it: the parser never
// sees the rest, and the manifest's digest is still that of every byte.
func TestVerifyLongTextNodeIsCapped(t *testing.T) {
	long := bytes.Repeat([]byte("Observations. "), 1500000) // 21 MB
	doc := append([]byte(`<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><Comment>`), long...)
	doc = append(doc, []byte(`</Comment><Date>2025-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier></ArchiveTransfer>`)...)
	r := &Verification{Manifest: "manifest.xml"}
	cr := &countingReader{r: newTextCap(bytes.NewReader(doc), maxLeafBytes)}
	if _, err := parseManifest(cr, r); err != nil {
		t.Fatal(err)
	}
	if seen := int(cr.n); seen > maxLeafBytes+1024 || r.MessageIdentifier != "M" {
		t.Fatalf("the parser read %d bytes of a %d-byte manifest (message %q, findings %+v)", cr.n, len(doc), r.MessageIdentifier, r.Findings)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Whatever well-formed document comes in, what textCap lets through is well-formed too.
func FuzzTextCap(f *testing.F) {
	f.Add([]byte(`<r a="1">` + strings.Repeat("é&amp;", 20) + `<!--` + strings.Repeat("c", 40) + `--><![CDATA[` + strings.Repeat("]", 3) + strings.Repeat("d", 40) + `]]></r>`))
	f.Add([]byte(`<?xml version="1.0"?><r><a>x</a></r>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if wellFormed(t, doc) != nil {
			return
		}
		out, err := io.ReadAll(newTextCap(bytes.NewReader(doc), 24))
		if err != nil {
			t.Fatal(err)
		}
		if err := wellFormed(t, out); err != nil {
			t.Fatalf("in:  %q\nout: %q\n%v", doc, out, err)
		}
	})
}
