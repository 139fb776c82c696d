package seda

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// fastCases are the shapes of XML fastTokens reads itself or gives up on: each must give the
// same tokens as encoding/xml, or errBail.
var fastCases = []string{
	`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<a xmlns="u:1"><b id="x">t</b><c/></a>`,
	`<?xml version='1.0' encoding='utf-8' standalone="yes"?><a/>`,
	`<?xml version="1.1"?><a/>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
	`<?other data?><a><?pi x?></a>`,
	"\ufeff<a>\r\nx\ry\r\r\nz</a>",
	`<a b = "1" c='2'd="3"></a >`,
	`<a b="&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;&#13;&#10;"/>`,
	`<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#X42;&#0;&#xD800;&#65</a>`,
	`<a>&nbsp;</a>`, `<a>&lt</a>`, `<a>&;</a>`, `<a>&#;</a>`, `<a>&#x;</a>`, `<a>&#99999999999;</a>`,
	`<a>]]></a>`, `<a b="]]>"/>`, `<a>]]</a>`, `<a>]</a>`,
	`<a><!-- c --><!----><!-- a-b --></a>`, `<a><!-- a--b --></a>`, `<a><!--- --></a>`, `<a><!-- x ---></a>`,
	`<a><![CDATA[x]]></a>`, `<!DOCTYPE a><a/>`, `<a><!x></a>`,
	`<p:a xmlns:p="u:p" p:b="1" xml:id="i" xmlns:q="u:q"><q:c q:d="2" e="3"/><p:e xmlns:p="u:p2"/></p:a>`,
	`<u:a x:b="1"/>`, `<a xmlns="u:1"><b xmlns=""/></a>`, `<xmlns/>`, `<a xmlns:xmlns="z"/>`,
	`<a:b:c/>`, `<:a/>`, `<a:/>`, `<a :b="1"/>`, `<a b:="1"/>`, `<1a/>`, `<a.b-c_d1/>`, `<é/>`, `<a é="1"/>`,
	`<a></b>`, `<a></a:a>`, `<p:a xmlns:p="u"></q:a>`, `</a>`, `<a>`, `<a`, `<a b`, `<a b=`, `<a b="1`, `<a/`, `<a/ >`,
	`<a b></a>`, `<a b=1></a>`, `<a b="<"/>`, `<a b="x` + "\x00" + `"/>`, "<a>\x01</a>", "<a>\xff</a>", "<a>\xc3\xa9</a>",
	"<a>\xef\xbf\xbe</a>", "<a>\U0001F600</a>", "<a b=\"\t\n\r\n\"/>",
	`text before<a/>text after<b/>`, ``, `   `, `<a/><a/>`, `<a>` + strings.Repeat("x", 200000) + `</a>`,
	`<a ` + strings.Repeat(`b="1" `, 20000) + `/>`,
}

// tokenTrace is a readable line per token (text runs merged): what the two readers must agree on.
func tokenTrace(src tokenSource) ([]string, error) {
	var out []string
	var text []byte
	flush := func() {
		if text != nil {
			out = append(out, fmt.Sprintf("text %q", text))
			text = nil
		}
	}
	var t xmlToken
	for {
		err := src.next(&t)
		if err == io.EOF {
			flush()
			return out, nil
		}
		if err != nil {
			flush()
			return out, err
		}
		if t.kind == tokChars {
			text = append(append([]byte{}, text...), t.data...)
			if text == nil {
				text = []byte{}
			}
			continue
		}
		flush()
		switch t.kind {
		case tokStart:
			s := fmt.Sprintf("start {%s}%s", t.start.Name.Space, t.start.Name.Local)
			for _, a := range t.start.Attr {
				s += fmt.Sprintf(" {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			out = append(out, s)
		case tokEnd:
			out = append(out, "end")
		case tokDirective:
			out = append(out, "directive")
		default:
			out = append(out, "other")
		}
	}
}

// checkFastTokens: where fastTokens reads data to its end, encoding/xml reads it without error
// and gives the same tokens. A read one byte at a time must not change that.
func checkFastTokens(t *testing.T, data []byte) {
	t.Helper()
	got, err := tokenTrace(newFastTokens(bytes.NewReader(data)))
	got1, err1 := tokenTrace(newFastTokens(iotest.OneByteReader(bytes.NewReader(data))))
	if (err == errBail) != (err1 == errBail) || err == nil && strings.Join(got, "\n") != strings.Join(got1, "\n") {
		t.Fatalf("%q: whole %v, byte by byte %v", data, err, err1)
	}
	if err == errBail {
		return
	}
	if err != nil {
		t.Fatalf("%q: fastTokens returned %v, not errBail", data, err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	want, werr := tokenTrace(stdTokens{d})
	if werr != nil {
		t.Fatalf("%q: fastTokens read it, encoding/xml says %v", data, werr)
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("%q: tokens differ\nfast:\n%s\nencoding/xml:\n%s", data, g, w)
	}
}

func fastSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, c := range fastCases {
		seeds = append(seeds, []byte(c))
	}
	for _, dir := range []string{"testdata/fuzz/FuzzParseManifest"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The corpus format: go test fuzz v1, then []byte("…").
			if _, v, ok := strings.Cut(string(b), "[]byte("); ok {
				var s string
				if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimSpace(v), ")"), "%q", &s); err == nil {
					seeds = append(seeds, []byte(s))
				}
			}
		}
	}
	return seeds
}

func TestFastTokensMatchEncodingXML(t *testing.T) {
	seeds := fastSeeds(t)
	seeds = append(seeds, manifestOfSIP(t, seedSIPs(t)[1]))
	for _, s := range seeds {
		checkFastTokens(t, s)
	}
	// Mutations of the seeds: a byte replaced, inserted or removed, from the characters that
	// matter to XML.
	const alphabet = "<>/?!-=\"'&;#x:[]\r\n\t \x00\xc3\xa9\xffabAZ09_."
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		s := append([]byte{}, seeds[rng.IntN(len(seeds))]...)
		if len(s) > 4096 {
			continue
		}
		for range 1 + rng.IntN(3) {
			c := alphabet[rng.IntN(len(alphabet))]
			i := rng.IntN(len(s) + 1)
			switch rng.IntN(3) {
			case 0:
				if i < len(s) {
					s[i] = c
				}
			case 1:
				s = append(s[:i], append([]byte{c}, s[i:]...)...)
			default:
				if i < len(s) {
					s = append(s[:i], s[i+1:]...)
				}
			}
		}
		checkFastTokens(t, s)
	}
}

func FuzzFastTokens(f *testing.F) {
	for _, s := range fastSeeds(f) {
		if len(s) <= 8<<10 { // the large seeds make the fuzzer crawl; the test has them
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastTokens(t, data) })
}

func manifestOfSIP(t testing.TB, sip []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(sip), int64(len(sip)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
