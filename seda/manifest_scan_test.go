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
	"reflect"
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

// The verifier's report is the same whether fastTokens reads the manifest or gives up on it
// (long runs that textCap shortens, CDATA, DOCTYPE, another encoding, malformed XML): what
// encoding/xml alone reports.
func TestVerifyFastManifestSameReport(t *testing.T) {
	const head = `<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2">`
	body := `<Date>2025-01-01T00:00:00</Date><MessageIdentifier>M &amp; N</MessageIdentifier><CodeListVersions/><DataObjectPackage><DataObjectGroup id="G"><BinaryDataObject id="B"><DataObjectVersion>BinaryMaster_1</DataObjectVersion><Uri>Content/a</Uri><MessageDigest algorithm="SHA-256">2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824</MessageDigest><Size>5</Size></BinaryDataObject></DataObjectGroup><DescriptiveMetadata><ArchiveUnit id="U"><Content><DescriptionLevel>Item</DescriptionLevel><Title>t</Title></Content><DataObjectReference><DataObjectGroupReferenceId>G</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit></DescriptiveMetadata><ManagementMetadata/></DataObjectPackage><ArchivalAgency><Identifier>A</Identifier></ArchivalAgency><TransferringAgency><Identifier>T</Identifier></TransferringAgency></ArchiveTransfer>`
	long := strings.Repeat("Observations. ", 200000) // 2.8 MB: textCap shortens it
	manifests := map[string]string{
		"plain":         `<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" + head + body,
		"long text":     head + `<Comment>` + long + `</Comment>` + body,
		"long comment":  head + `<!--` + long + `-->` + body,
		"half limit":    head + `<Comment>` + strings.Repeat("x", maxFastRun) + `</Comment>` + body,
		"cdata":         head + `<Comment><![CDATA[a <b>]]></Comment>` + body,
		"doctype":       `<!DOCTYPE ArchiveTransfer>` + head + body,
		"latin1":        `<?xml version="1.0" encoding="ISO-8859-1"?>` + head + `<Comment>caf` + "\xe9" + `</Comment>` + body,
		"malformed":     head + `<Comment>a</Comment` + body,
		"bad entity":    head + `<Comment>&nbsp;</Comment>` + body,
		"late error":    head + body + `<x>`,
		"dangling":      strings.Replace(head+body, `>G</DataObjectGroupReferenceId>`, `>H</DataObjectGroupReferenceId>`, 1),
		"wrong digest":  strings.Replace(head+body, "2cf24d", "2cf24e", 1),
		"upper digest":  strings.Replace(head+body, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824", 1),
		"base64 digest": strings.Replace(head+body, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", 1),
		"bad size":      strings.Replace(head+body, "<Size>5<", "<Size>6<", 1),
		"duplicate id":  strings.Replace(head+body, `ArchiveUnit id="U"`, `ArchiveUnit id="G"`, 1),
		"namespaces":    strings.Replace(head+body, `<Uri>`, `<Uri xmlns:p="u:p" p:x="1" xml:id="X">`, 1),
		"sha512 digest": strings.Replace(head+body, `algorithm="SHA-256">2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824`, `algorithm="SHA-512">`+strings.Repeat("ab", 43), 1),
	}
	defer func() { readManifestFast = true }()
	opts := VerifyOptions{Workers: 1}.withDefaults()
	for name, man := range manifests {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, e := range []struct{ name, data string }{{"manifest.xml", man}, {"Content/a", "hello"}} {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, e.data)
		}
		zw.Close()
		zb := b.Bytes()
		if name == "plain" || name == "long text" { // also: a manifest shorter than declared, a wrong CRC
			for _, patch := range []int{24, 16, 42, 45} { // usize, CRC, local header offset (low, high byte)
				c := bytes.Clone(zb)
				i := bytes.Index(c, []byte("PK\x01\x02")) // manifest.xml's, the first
				c[i+patch]++
				checkSameReport(t, fmt.Sprintf("%s, patched at %d", name, patch), c, opts)
			}
		}
		checkSameReport(t, name, zb, opts)
	}
}

func checkSameReport(t *testing.T, name string, zb []byte, opts VerifyOptions) {
	t.Helper()
	{
		var reports [2]*Verification
		for i, fast := range []bool{true, false} {
			readManifestFast = fast
			r := &Verification{Path: "p.zip", Container: "zip", XSD: "not checked", Findings: []Finding{}}
			zc := readZip(bytes.NewReader(zb), int64(len(zb)), r, opts)
			if _, err := verifyContainer(t.Context(), r, zc, opts); err != nil {
				t.Fatal(err)
			}
			reports[i] = r
		}
		// And read from the file rather than from memory (packages above wholeZipMax).
		p := filepath.Join(t.TempDir(), "p.zip")
		if err := os.WriteFile(p, zb, 0o644); err != nil {
			t.Fatal(err)
		}
		var files [2]*Verification
		for i, max := range []int64{wholeZipMax, 0} {
			saved := wholeZipMax
			wholeZipMax = max
			r, err := Verify(t.Context(), p, opts)
			wholeZipMax = saved
			if err != nil {
				t.Fatal(err)
			}
			files[i] = r
		}
		if !reflect.DeepEqual(files[0], files[1]) {
			t.Errorf("%s: in memory\n%+v\nfrom the file\n%+v", name, files[0], files[1])
		}
		if testing.Verbose() {
			t.Logf("%s: OK %v, %d verified, findings %v", name, reports[0].OK(), reports[0].ObjectsVerified, reports[0].Findings)
		}
		if !reflect.DeepEqual(reports[0], reports[1]) {
			t.Errorf("%s: fast reader\n%+v\nencoding/xml\n%+v", name, reports[0], reports[1])
		}
	}
}
