package seda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

func verify(t testing.TB, path string, opts seda.VerifyOptions) *seda.Verification {
	t.Helper()
	r, err := seda.Verify(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("verify %s: %v", path, err)
	}
	return r
}

func wantWarning(t testing.TB, r *seda.Verification, code, where, msg string) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code && f.Severity == seda.SevWarning && f.Where == where && f.Message == msg {
			return
		}
	}
	t.Fatalf("no warning %s at %q with %q; findings: %+v", code, where, msg, r.Findings)
}

func wantFinding(t testing.TB, r *seda.Verification, code, where, msg string) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code && f.Severity == seda.SevError && strings.Contains(f.Where, where) && strings.Contains(f.Message, msg) {
			if r.OK() {
				t.Errorf("report OK despite %v", f)
			}
			return
		}
	}
	t.Fatalf("no error %s at %q with %q; findings: %+v", code, where, msg, r.Findings)
}

func TestVerifyOurPackages(t *testing.T) {
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	for _, v := range []seda.Version{seda.V21, seda.V22, seda.V23} {
		p, sum := writeSIP(t, v, 6)
		r := verify(t, p, seda.VerifyOptions{XSDDir: xsdDir})
		if !r.OK() || len(r.Findings) != 0 {
			t.Fatalf("%s: findings on a package we wrote: %+v", v, r.Findings)
		}
		if r.Version != v || r.XSD != "valid" || r.Objects != sum.Objects || r.ObjectsVerified != sum.Objects ||
			r.Units != sum.Units || r.Groups != sum.Groups || r.PayloadBytes != sum.PayloadBytes ||
			r.ManifestSHA512 != sum.ManifestSHA512 || r.MessageIdentifier != "APOGEE-ETU-intermediate-000001-000003" {
			t.Errorf("%s: report %+v does not match summary %+v", v, r, sum)
		}
		// The same package unpacked in a folder verifies the same way.
		dir := unzipTo(t, p)
		rd := verify(t, dir, seda.VerifyOptions{XSDDir: xsdDir})
		if !rd.OK() || rd.ObjectsVerified != sum.Objects || rd.Container != "folder" {
			t.Fatalf("%s folder: %+v", v, rd)
		}
	}
}

func TestVerifyVitamSamples(t *testing.T) {
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	samples := testsvc.SharedDir(t, "samples", "vitam")
	cases := []struct {
		dir        string
		version    seda.Version
		objects    int
		xsd        string
		xsdInvalid bool
	}{
		{"vitam-2.1-3_UNITS_2_GOTS", seda.V21, 2, "valid", false},
		{"vitam-2.2-WARNING_SIP_mail_Seda2.2", seda.V22, 1, "valid", false},
		{"vitam-2.1ext-SIP_OK_HoldRules", seda.V21, 0, "invalid", true},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			p := filepath.Join(samples, c.dir, "sip.zip")
			r := verify(t, p, seda.VerifyOptions{})
			if !r.OK() || r.Version != c.version || r.ObjectsVerified != c.objects || r.Objects != c.objects {
				t.Fatalf("without XSD: %+v", r)
			}
			r = verify(t, p, seda.VerifyOptions{XSDDir: xsdDir})
			if r.XSD != c.xsd {
				t.Fatalf("XSD %s, want %s: %+v", r.XSD, c.xsd, r.Findings)
			}
			if c.xsdInvalid {
				wantFinding(t, r, seda.CodeXSD, "manifest.xml", "")
				// The cross-check: xmllint says the same.
				if err := testsvc.XSD(t, "2.1", filepath.Join(samples, c.dir, "manifest.xml")); err == nil {
					t.Fatal("xmllint finds the HoldRules sample valid under 2.1")
				}
			} else if !r.OK() {
				t.Fatalf("findings: %+v", r.Findings)
			}
		})
	}
}

// rewriteZip copies src to a new zip, passing each entry through edit (nil data drops it), then adds extra.
func rewriteZip(t testing.TB, src string, edit func(name string, data []byte) []byte, extra map[string][]byte) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dst := filepath.Join(t.TempDir(), "damaged.zip")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data = edit(zf.Name, data); data == nil {
			continue
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for name, data := range extra {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return dst
}

func unzipTo(t testing.TB, src string) string {
	t.Helper()
	dir := t.TempDir()
	rewriteZip(t, src, func(name string, data []byte) []byte {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if !strings.HasSuffix(name, "/") {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}, nil)
	return dir
}

func TestVerifyDamagedCopies(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 3)
	vitam := filepath.Join(testsvc.SharedDir(t, "samples", "vitam"), "vitam-2.1-3_UNITS_2_GOTS", "sip.zip")
	same := func(_ string, d []byte) []byte { return d }
	editManifest := func(old, new string) func(string, []byte) []byte {
		return func(name string, d []byte) []byte {
			if name == "manifest.xml" {
				if !bytes.Contains(d, []byte(old)) {
					t.Fatalf("manifest lacks %q", old)
				}
				return bytes.Replace(d, []byte(old), []byte(new), 1)
			}
			return d
		}
	}
	cases := []struct {
		name, src string
		edit      func(string, []byte) []byte
		extra     map[string][]byte
		code      string
		where     string
		msg       string
	}{
		{"flipped byte (ours, SHA-256)", ours, func(name string, d []byte) []byte {
			if name == "Content/ETU-00000002.json" {
				d[10] ^= 1
			}
			return d
		}, nil, seda.CodeDigestMismatch, "Content/ETU-00000002.json", "object BDO-4: SHA-256 is"},
		{"flipped byte (VITAM flat form, SHA-512)", vitam, func(name string, d []byte) []byte {
			if name == "Content/ID35.txt" {
				d[0] ^= 0x20
			}
			return d
		}, nil, seda.CodeDigestMismatch, "Content/ID35.txt", "SHA-512 is"},
		{"missing file", ours, func(name string, d []byte) []byte {
			if name == "Content/ETU-00000001-photo0.jpg" {
				return nil
			}
			return d
		}, nil, seda.CodeMissingFile, "Content/ETU-00000001-photo0.jpg", "its Uri names no file"},
		{"extra file", ours, same, map[string][]byte{"Content/extra.txt": []byte("x")}, seda.CodeUnreferenced, "Content/extra.txt", "no BinaryDataObject's Uri names it"},
		{"wrong size", ours, editManifest("<Size>4000</Size>", "<Size>4001</Size>"), nil, seda.CodeSizeMismatch, ".jpg", "file is 4000 bytes, the manifest says 4001"},
		{"wrong algorithm name", ours, editManifest(`algorithm="SHA-256"`, `algorithm="SHA-265"`), nil, seda.CodeUnknownAlgo, "Content/dictionary.json", `digest algorithm "SHA-265" is not one of`},
		{"dangling group reference", ours, editManifest("<DataObjectGroupReferenceId>GOT-2</DataObjectGroupReferenceId>", "<DataObjectGroupReferenceId>GOT-99</DataObjectGroupReferenceId>"), nil, seda.CodeDanglingRef, "AU-2", `DataObjectGroupReferenceId "GOT-99" (in AU-2) points to no element`},
		{"duplicate id", ours, editManifest(`<ArchiveUnit id="AU-3">`, `<ArchiveUnit id="AU-2">`), nil, seda.CodeDuplicateID, "AU-2", ""},
		{"element out of order", ours, editManifest("<ArchivalAgency>\n <Identifier>UNIV-ARCHIVES</Identifier>\n</ArchivalAgency>", ""), nil, seda.CodeStructure, "ArchiveTransfer", "<ArchivalAgency> is missing"},
		{"foreign root folder", ours, same, map[string][]byte{"Other/x.txt": []byte("x")}, seda.CodeLayout, "Other/x.txt", "everything but the manifest must be under Content/"},
		{"second manifest", ours, same, map[string][]byte{"old_manifest.xml": []byte("<x/>")}, seda.CodeManyManifests, "", "manifest.xml, old_manifest.xml"},
		{"wrong namespace", ours, editManifest("seda:v2.2", "seda:v2.9"), nil, seda.CodeNamespace, "", "is not SEDA 2.1, 2.2 or 2.3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := rewriteZip(t, c.src, c.edit, c.extra)
			r := verify(t, p, seda.VerifyOptions{})
			wantFinding(t, r, c.code, c.where, c.msg)
		})
	}
}

// zipWith builds a zip from raw entries, for hostile cases archive/zip would not produce by itself.
func zipWith(t testing.TB, build func(zw *zip.Writer)) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hostile.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, 9) })
	build(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func add(t testing.TB, zw *zip.Writer, fh *zip.FileHeader, data []byte) {
	t.Helper()
	w, err := zw.CreateHeader(fh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyHostileInput(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 1)
	manifest := readManifest(t, ours)
	t.Run("zip bomb", func(t *testing.T) {
		p := zipWith(t, func(zw *zip.Writer) {
			add(t, zw, &zip.FileHeader{Name: "manifest.xml", Method: zip.Deflate}, manifest)
			add(t, zw, &zip.FileHeader{Name: "Content/bomb.txt", Method: zip.Deflate}, make([]byte, 64<<20))
		})
		r := verify(t, p, seda.VerifyOptions{MaxExpanded: 32 << 20})
		wantWarning(t, r, seda.CodeNotExpanded, "Content/bomb.txt", "declares 67108864 bytes from 65058 compressed: not expanded, since highly compressed entries (above 200:1) would expand past 32 MiB in all; to check it, raise --max-expanded")
		if r.PayloadBytes != 0 {
			t.Errorf("the bomb was expanded: %d bytes read", r.PayloadBytes)
		}
		if r.Complete() {
			t.Error("a package with an entry left unexpanded is reported complete")
		}
		for _, f := range r.Findings {
			if f.Code == seda.CodeNotExpanded && f.Severity != seda.SevWarning {
				t.Errorf("an entry past the budget is %s, not a warning: an expansion verify refuses is not damage", f.Severity)
			}
		}
		// Within the default budget the same entry is expanded: the ratio alone proves nothing.
		r = verify(t, p, seda.VerifyOptions{})
		if !r.Complete() || r.PayloadBytes != 0 && r.PayloadBytes != 64<<20 {
			t.Errorf("default budget: complete=%v, %d bytes read", r.Complete(), r.PayloadBytes)
		}
		for _, f := range r.Findings {
			if f.Code == seda.CodeNotExpanded || f.Code == seda.CodeZipBomb {
				t.Errorf("default budget: %+v", f)
			}
		}
	})
	t.Run("DOCTYPE with entity expansion", func(t *testing.T) {
		lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2">&lol2;</ArchiveTransfer>`
		p := zipWith(t, func(zw *zip.Writer) { add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, []byte(lol)) })
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeDoctype, "manifest.xml", "DOCTYPEs and entities are refused")
	})
	t.Run("external entity", func(t *testing.T) {
		xxe := `<?xml version="1.0"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><Comment>&xxe;</Comment></ArchiveTransfer>`
		p := zipWith(t, func(zw *zip.Writer) { add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, []byte(xxe)) })
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeXMLMalformed, "manifest.xml", "invalid character entity &xxe;")
	})
	t.Run("manifest above the limit", func(t *testing.T) {
		big := append(bytes.Replace(manifest, []byte("</ArchiveTransfer>"), nil, 1), []byte("<!-- "+strings.Repeat("x", 3<<20)+" --></ArchiveTransfer>")...)
		p := zipWith(t, func(zw *zip.Writer) { add(t, zw, &zip.FileHeader{Name: "manifest.xml", Method: zip.Deflate}, big) })
		wantFinding(t, verify(t, p, seda.VerifyOptions{MaxManifestBytes: 1 << 20}), seda.CodeManifestSize, "manifest.xml", "above the limit of 1048576")
	})
	t.Run("2 GB manifest declared", func(t *testing.T) {
		// A central directory may claim anything: the verifier refuses before reading a byte.
		p := zipWith(t, func(zw *zip.Writer) {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: "manifest.xml", Method: zip.Store, CompressedSize64: 10, UncompressedSize64: 2 << 30})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("0123456789"))
		})
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeManifestSize, "manifest.xml", "manifest is 2147483648 bytes, above the limit of 268435456")
	})
	t.Run("truncated zip", func(t *testing.T) {
		b, _ := os.ReadFile(ours)
		p := filepath.Join(t.TempDir(), "truncated.zip")
		os.WriteFile(p, b[:len(b)/2], 0o644)
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeContainer, "", "not a readable zip")
	})
	t.Run("path traversal", func(t *testing.T) {
		p := zipWith(t, func(zw *zip.Writer) {
			add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, manifest)
			add(t, zw, &zip.FileHeader{Name: "../../etc/passwd"}, []byte("root:x:0:0"))
			add(t, zw, &zip.FileHeader{Name: "/etc/shadow"}, []byte("x"))
			add(t, zw, &zip.FileHeader{Name: `Content\win.txt`}, []byte("x"))
		})
		r := verify(t, p, seda.VerifyOptions{})
		wantFinding(t, r, seda.CodePath, "../../etc/passwd", `".." segment (path traversal)`)
		wantFinding(t, r, seda.CodePath, "/etc/shadow", "an absolute path")
		wantFinding(t, r, seda.CodePath, `win.txt`, "a backslash")
	})
	t.Run("symlink entry", func(t *testing.T) {
		p := zipWith(t, func(zw *zip.Writer) {
			add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, manifest)
			fh := &zip.FileHeader{Name: "Content/link"}
			fh.SetMode(os.ModeSymlink | 0o777)
			add(t, zw, fh, []byte("/etc/passwd"))
		})
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeLink, "Content/link", "symbolic link")
	})
	t.Run("duplicate names", func(t *testing.T) {
		p := zipWith(t, func(zw *zip.Writer) {
			add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, manifest)
			add(t, zw, &zip.FileHeader{Name: "Content/a.txt"}, []byte("1"))
			add(t, zw, &zip.FileHeader{Name: "content/A.txt"}, []byte("2"))
		})
		wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeDuplicateName, "content/A.txt", "twice")
	})
	t.Run("symlink in a folder", func(t *testing.T) {
		dir := unzipTo(t, ours)
		if err := os.Symlink("/etc/passwd", filepath.Join(dir, "Content", "passwd")); err != nil {
			t.Skip(err)
		}
		wantFinding(t, verify(t, dir, seda.VerifyOptions{}), seda.CodeLink, "Content/passwd", "never followed")
	})
	t.Run("not there", func(t *testing.T) {
		_, err := seda.Verify(context.Background(), filepath.Join(t.TempDir(), "nope.zip"), seda.VerifyOptions{})
		if err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Fatalf("got %v", err)
		}
	})
}

// Objects above the read-ahead threshold go through the pipelined reader: it must find the same
// mismatches and truncations as the simple one.
func TestVerifyLargeObjects(t *testing.T) {
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	p := filepath.Join(t.TempDir(), "big.zip")
	f, _ := os.Create(p)
	w, err := seda.NewWriter(f, testHeader(seda.V22), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ow, err := w.AddObject(seda.Object{Name: "scan.jpg", MimeType: "image/jpeg"}, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	w.AddObject(seda.Object{Name: "notes.json", MimeType: "application/json"}, bytes.NewReader(big))
	if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Item", Title: "scan"}, Groups: []seda.GroupID{ow.Group(), "GOT-2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := verify(t, p, seda.VerifyOptions{})
	if !r.OK() || r.ObjectsVerified != 2 || r.PayloadBytes != 40<<20 {
		t.Fatalf("%+v", r)
	}
	for _, name := range []string{"Content/scan.jpg", "Content/notes.json"} {
		damaged := rewriteZip(t, p, func(n string, d []byte) []byte {
			if n == name {
				d[len(d)-1] ^= 0x80
			}
			return d
		}, nil)
		wantFinding(t, verify(t, damaged, seda.VerifyOptions{}), seda.CodeDigestMismatch, name, "SHA-256 is")
	}
	// A deflated object cut short: its inflater says io.ErrUnexpectedEOF, which is a read error,
	// not the object's end (the read-ahead of big objects once took it for one and reported a
	// size or digest mismatch instead).
	truncated := truncateEntry(t, p, "Content/notes.json")
	wantFinding(t, verify(t, truncated, seda.VerifyOptions{}), seda.CodeReadError, "Content/notes.json", "unexpected EOF")
}

// truncateEntry copies a zip, keeping only the first half of name's compressed bytes while its
// headers still give the whole entry's sizes and CRC.
func truncateEntry(t testing.TB, src, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dst := filepath.Join(t.TempDir(), "truncated.zip")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	cut := false
	for _, zf := range zr.File {
		raw, err := zf.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(raw)
		if err != nil {
			t.Fatal(err)
		}
		fh := zf.FileHeader
		if zf.Name == name {
			if zf.Method != zip.Deflate {
				t.Fatalf("%s is not deflated", name)
			}
			data, cut = data[:len(data)/2], true
			fh.CompressedSize64 = uint64(len(data))
		}
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if !cut {
		t.Fatalf("no entry %s", name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// The "overlapping" zip bomb points many central-directory entries at the same compressed bytes.
func TestVerifyOverlappingEntries(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 1)
	manifest := readManifest(t, ours)
	p := zipWith(t, func(zw *zip.Writer) {
		add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, manifest)
		add(t, zw, &zip.FileHeader{Name: "Content/a.txt"}, []byte("same bytes"))
		add(t, zw, &zip.FileHeader{Name: "Content/b.txt"}, []byte("same bytes"))
	})
	b, _ := os.ReadFile(p)
	// Central directory headers: signature PK\x01\x02, local header offset at +42.
	var offA []byte
	for i := 0; i+46 < len(b); i++ {
		if string(b[i:i+4]) != "PK\x01\x02" {
			continue
		}
		nameLen := int(b[i+28]) | int(b[i+29])<<8
		switch string(b[i+46 : i+46+nameLen]) {
		case "Content/a.txt":
			offA = append([]byte(nil), b[i+42:i+46]...)
		case "Content/b.txt":
			copy(b[i+42:i+46], offA)
		}
	}
	os.WriteFile(p, b, 0o644)
	wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeZipBomb, "Content/", "overlaps")
}

// More than 65,535 entries need Zip64 records: archive/zip writes them, and both our reader and
// unzip must accept the result.
func TestZip64ManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 66,000 objects")
	}
	p := filepath.Join(t.TempDir(), "many.zip")
	f, _ := os.Create(p)
	w, err := seda.NewWriter(f, testHeader(seda.V22), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 66000
	for i := 0; i < n; i++ {
		if _, err := w.AddObject(seda.Object{Name: fmt.Sprintf("o%05d.txt", i)}, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "many"}, Groups: []seda.GroupID{"GOT-1"}}); err != nil {
		t.Fatal(err)
	}
	sum, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(p)
	if !bytes.Contains(b, []byte("PK\x06\x06")) {
		t.Fatal("no Zip64 end of central directory record")
	}
	r := verify(t, p, seda.VerifyOptions{})
	if !r.OK() || r.ObjectsVerified != n || sum.Objects != n {
		t.Fatalf("%d/%d verified, findings %v", r.ObjectsVerified, r.Objects, r.Findings[:min(3, len(r.Findings))])
	}
}

func TestVerifyCapsFindingFloods(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 1)
	manifest := readManifest(t, ours)
	p := zipWith(t, func(zw *zip.Writer) {
		add(t, zw, &zip.FileHeader{Name: "manifest.xml"}, manifest)
		for i := 0; i < 1500; i++ {
			add(t, zw, &zip.FileHeader{Name: fmt.Sprintf("../x%d", i)}, nil)
		}
	})
	r := verify(t, p, seda.VerifyOptions{})
	n := 0
	for _, f := range r.Findings {
		if f.Code == seda.CodePath {
			n++
		}
	}
	if n != 1001 {
		t.Fatalf("%d PATH findings, want 1000 and a summary", n)
	}
	wantFinding(t, r, seda.CodePath, "", "500 more PATH findings not listed")
}
