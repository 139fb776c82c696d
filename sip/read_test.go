package sip

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

func openFile(t *testing.T, path string) *Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	r, err := Open(context.Background(), f, fi.Size())
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	return r
}

// readObject reads one object to its end through the checks.
func readObject(t *testing.T, r *Reader, o Object) ([]byte, error) {
	t.Helper()
	rc, err := r.Object(context.Background(), o)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// writerSIP writes, with seda.Writer, a series and three dossiers, the second with a photo and
// every field the reader reads, and returns the path and each dossier's objects' bytes by name.
func writerSIP(t *testing.T, algo seda.DigestAlgorithm) (string, map[string][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := seda.NewWriter(f, seda.Header{Version: seda.V22, MessageIdentifier: "SIP-READ-1", Date: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-1", ArchivalAgency: "FRAD000", TransferringAgency: "ETAB-SCOL", DigestAlgorithm: algo}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "Dossiers étudiants"}}); err != nil {
		t.Fatal(err)
	}
	bytesOf := map[string][]byte{}
	for i := 1; i <= 3; i++ {
		doc := []byte(fmt.Sprintf(`{"COD_ETU":%d,"NOM":"Étienne & <Zoé>"}`, 20000000+i))
		name := fmt.Sprintf("D%06d.json", i)
		bytesOf[name] = doc
		ow, err := w.AddObject(seda.Object{Name: name, MimeType: "application/json", FormatID: "fmt/817"}, bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 3000)...)
			bytesOf["D000002.jpg"] = photo
			if _, err := w.AddObject(seda.Object{Group: ow.Group(), Name: "D000002.jpg", Version: "BinaryMaster_2", MimeType: "image/jpeg", FormatID: "fmt/43"}, bytes.NewReader(photo)); err != nil {
				t.Fatal(err)
			}
		}
		u := seda.Unit{
			Management: seda.Management{
				Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-APO-IA", StartDate: day("2005-08-31")}}}, FinalAction: seda.AppraisalKeep},
				Access:    &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "ACC-PERS-50", StartDate: day("2002-08-31")}}},
			},
			Content: seda.Content{DescriptionLevel: "File", Title: fmt.Sprintf("Dossier étudiant %d", i),
				OriginatingSystemID: []string{fmt.Sprint(3000 + i)}, Description: "Dossier de l'étudiant",
				Keywords:  []seda.Keyword{{Content: "ÉTIENNE Zoé", Type: "persname"}, {Content: "Scolarité", Reference: "REF-1", Type: "subject"}},
				StartDate: day("1999-09-28"), EndDate: day("2002-08-31")},
			Groups: []seda.GroupID{ow.Group()},
		}
		if _, err := w.AddUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.CloseUnit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, bytesOf
}

// What seda.Writer writes reads back: the header, every unit (dossiers before the series they
// sit in), one dossier by key with its rules, keywords and objects, whose bytes pass the checks.
func TestReadWriterSIP(t *testing.T) {
	for _, algo := range []seda.DigestAlgorithm{seda.SHA256, seda.SHA512} {
		t.Run(string(algo), func(t *testing.T) {
			path, bytesOf := writerSIP(t, algo)
			r := openFile(t, path)
			want := TransferHeader{Version: seda.V22, MessageIdentifier: "SIP-READ-1", Date: "2026-12-04T00:00:00Z", ArchivalAgreement: "IC-1", ArchivalAgency: "FRAD000", TransferringAgency: "ETAB-SCOL"}
			if h, err := r.Header(context.Background()); err != nil || h != want {
				t.Errorf("Header %+v\nwant %+v", h, want)
			}
			var order []string
			if err := r.Units(context.Background(), func(u Unit) error { order = append(order, u.ID+"<"+u.ParentID+":"+u.Title); return nil }); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(order, " | "); got != "AU-2<AU-1:Dossier étudiant 1 | AU-3<AU-1:Dossier étudiant 2 | AU-4<AU-1:Dossier étudiant 3 | AU-1<:Dossiers étudiants" {
				t.Errorf("Units: %s", got)
			}
			u, err := r.Unit(context.Background(), "3002")
			if err != nil {
				t.Fatal(err)
			}
			if u.DescriptionLevel != "File" || u.Title != "Dossier étudiant 2" || u.Description != "Dossier de l'étudiant" ||
				u.StartDate != "1999-09-28" || u.EndDate != "2002-08-31" ||
				fmt.Sprint(u.Keywords) != "[{ÉTIENNE Zoé  persname} {Scolarité REF-1 subject}]" ||
				*u.Management.Appraisal != (AppraisalRule{"APP-APO-IA", "2005-08-31", "Keep"}) ||
				*u.Management.Access != (AccessRule{"ACC-PERS-50", "2002-08-31"}) {
				t.Errorf("Unit 3002: %+v", u)
			}
			if len(u.Objects) != 2 {
				t.Fatalf("Unit 3002 objects: %+v", u.Objects)
			}
			o := u.Objects[1]
			if o.URI != "Content/D000002.jpg" || o.Version != "BinaryMaster_2" || o.Algorithm != string(algo) || o.Size != 3004 ||
				o.MIME != "image/jpeg" || o.FormatID != "fmt/43" || o.Filename != "D000002.jpg" || o.Group != u.Objects[0].Group {
				t.Errorf("photo: %+v", o)
			}
			for _, o := range u.Objects {
				got, err := readObject(t, r, o)
				if err != nil || !bytes.Equal(got, bytesOf[o.Filename]) {
					t.Errorf("object %s: %d bytes, %v", o.URI, len(got), err)
				}
			}
			_, err = r.Unit(context.Background(), "9999")
			if !errors.Is(err, ErrNoUnit) || err.Error() != `SIP SIP-READ-1: no such unit in the SIP: no unit has OriginatingSystemId "9999"` {
				t.Errorf("unknown key: %v", err)
			}
		})
	}
}

// An object whose bytes differ from what the manifest declares fails at its end with ErrDigest,
// and never hands over a byte past the declared size.
func TestReadObjectMismatch(t *testing.T) {
	path, bytesOf := writerSIP(t, seda.SHA256)
	r := openFile(t, path)
	u, err := r.Unit(context.Background(), "3002")
	if err != nil {
		t.Fatal(err)
	}
	o := u.Objects[1]
	doc := bytesOf["D000002.jpg"]
	for _, c := range []struct {
		what    string
		edit    func(*Object)
		wantLen int
		msg     string
	}{
		{"digest", func(o *Object) { o.Digest = strings.Repeat("0", 64) }, len(doc),
			"SIP SIP-READ-1: object BDO-3 (Content/D000002.jpg): object does not match the manifest: digest " + o.Digest + ", the manifest declares " + strings.Repeat("0", 64)},
		{"shorter Size", func(o *Object) { o.Size-- }, len(doc) - 1,
			"SIP SIP-READ-1: object BDO-3 (Content/D000002.jpg): object does not match the manifest: longer than the 3003 bytes the manifest declares"},
		{"longer Size", func(o *Object) { o.Size++ }, len(doc),
			"SIP SIP-READ-1: object BDO-3 (Content/D000002.jpg): object does not match the manifest: 3004 bytes, the manifest declares 3005"},
		{"uppercase hex is the same digest", func(o *Object) { o.Digest = strings.ToUpper(o.Digest) }, len(doc), ""},
	} {
		bad := o
		c.edit(&bad)
		got, err := readObject(t, r, bad)
		if len(got) != c.wantLen || !bytes.Equal(got, doc[:len(got)]) {
			t.Errorf("%s: %d bytes handed over, want %d", c.what, len(got), c.wantLen)
		}
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.what, err)
			}
			continue
		}
		if !errors.Is(err, ErrDigest) || err.Error() != c.msg {
			t.Errorf("%s: %v\nwant %s", c.what, err, c.msg)
		}
	}
	if _, err := r.Header(context.Background()); err != nil { // errors name the SIP once its header is read
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Object)
		msg  string
	}{
		{func(o *Object) { o.Algorithm = "CRC32" }, `SIP SIP-READ-1: object BDO-3: digest algorithm "CRC32" is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512`},
		{func(o *Object) { o.Digest = "abc" }, `SIP SIP-READ-1: object BDO-3: digest "abc" is neither hex nor base64 of a 32-byte digest`},
		{func(o *Object) { o.URI = "Content/../manifest.xml" }, `SIP SIP-READ-1: object BDO-3: its Uri "Content/../manifest.xml" names no file under Content/ in the zip`},
		{func(o *Object) { o.URI = "manifest.xml" }, `SIP SIP-READ-1: object BDO-3: its Uri "manifest.xml" names no file under Content/ in the zip`},
	} {
		bad := o
		c.edit(&bad)
		if _, err := r.Object(context.Background(), bad); err == nil || err.Error() != c.msg {
			t.Errorf("%v\nwant %s", err, c.msg)
		}
	}
}

// What sip.Builder writes for a pipeline's dossiers reads back by the dossier's key.
func TestReadBuilderSIP(t *testing.T) {
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 600)...)
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(f, Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Intermediate, AsOf: day("2026-06-30"), Dictionary: []byte("{}"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []int64{41, 42} {
		d := &extract.Dossier{Class: "etudiant", Key: key, Tables: []extract.TableRows{{
			Table:   "INDIVIDU",
			Columns: []extract.Column{{Name: "COD_IND"}, {Name: "PHOTO"}},
			Rows:    [][]extract.Value{{key, lob("INDIVIDU", "PHOTO", jpeg)}},
		}}}
		dd := Dossier{Data: d, Key: fmt.Sprint(key), Decision: retention.Decision{Tier: retention.Intermediate}, Description: profiles.Description{Title: fmt.Sprint("Dossier ", key)}}
		if _, err := b.Cost(ctx, dd); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ctx, dd); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := openFile(t, path)
	if h, err := r.Header(ctx); err != nil || h.MessageIdentifier != rec.MessageID {
		t.Errorf("MessageIdentifier %q (%v), the builder's %q", h.MessageIdentifier, err, rec.MessageID)
	}
	u, err := r.Unit(ctx, "42")
	if err != nil {
		t.Fatal(err)
	}
	if u.Title != "Dossier 42" || len(u.Objects) != 2 {
		t.Fatalf("unit 42: %+v", u)
	}
	for _, o := range u.Objects {
		got, err := readObject(t, r, o)
		if err != nil || int64(len(got)) != o.Size {
			t.Errorf("%s: %d bytes, %v", o.URI, len(got), err)
		}
		if o.MIME == "image/jpeg" && !bytes.Equal(got, jpeg) {
			t.Errorf("%s: not the photo's bytes", o.URI)
		}
	}
}

// VITAM's own test SIPs: the flat form (objects outside groups, SHA-512, ArchiveUnitRefId), the
// 2.2 mail SIP (Agent, MD5) and the 2.1 SIP with hold rules.
func TestReadVITAMSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "samples", "vitam")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("VITAM samples not found at %s (they live in the shared folder beside the checkout): %v", dir, err)
	}
	t.Run("flat", func(t *testing.T) {
		r := openFile(t, filepath.Join(dir, "vitam-2.1-3_UNITS_2_GOTS", "sip.zip"))
		if h, _ := r.Header(context.Background()); h.Version != seda.V21 || h.MessageIdentifier != "SIP passant contenant 2 groupes d'objets" || h.ArchivalAgency != "Identifier4" || h.TransferringAgency != "Identifier5" || h.Comment != "2eme SIP" {
			t.Errorf("header %+v", h)
		}
		var units []Unit
		if err := r.Units(context.Background(), func(u Unit) error { units = append(units, u); return nil }); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range units {
			got = append(got, u.ID+">"+u.RefID+fmt.Sprint(len(u.Objects)))
		}
		if strings.Join(got, " ") != "ID19>ID180 ID23>ID220 ID14>0 ID18>1 ID22>1" {
			t.Errorf("units: %v", got)
		}
		o := units[3].Objects[0]
		if o.Group != "ID16" || o.URI != "Content/ID13.txt" || o.Algorithm != "SHA-512" || o.Filename != "Montparnasse.txt" || o.Size != 6 {
			t.Errorf("object %+v", o)
		}
		if b, err := readObject(t, r, o); err != nil || len(b) != 6 {
			t.Errorf("read %s: %q %v", o.URI, b, err)
		}
	})
	t.Run("mail 2.2", func(t *testing.T) {
		r := openFile(t, filepath.Join(dir, "vitam-2.2-WARNING_SIP_mail_Seda2.2", "sip.zip"))
		u, err := r.Unit(context.Background(), "<566E7D90.5020504@culture.gouv.fr>")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != "ID3" || fmt.Sprint(u.Agents) != `[{"catherine JABLASY-Telem@c"   }]` || u.Management.Appraisal.Rule != "APP-00001" || u.Management.Access.StartDate != "2018-02-02" {
			t.Errorf("unit %+v", u)
		}
		var id8 Unit
		r.Units(context.Background(), func(u Unit) error {
			if u.ID == "ID8" {
				id8 = u
			}
			return nil
		})
		if len(id8.Objects) != 1 || id8.Objects[0].Algorithm != "MD5" {
			t.Fatalf("ID8: %+v", id8)
		}
		if b, err := readObject(t, r, id8.Objects[0]); err != nil || len(b) != 12 {
			t.Errorf("read: %q %v", b, err)
		}
	})
	t.Run("hold rules", func(t *testing.T) {
		r := openFile(t, filepath.Join(dir, "vitam-2.1ext-SIP_OK_HoldRules", "sip.zip"))
		n := 0
		if err := r.Units(context.Background(), func(Unit) error { n++; return nil }); err != nil || n < 8 {
			t.Errorf("%d units, %v", n, err)
		}
	})
}

// zipOf writes a zip of the given entries (name, content), in order.
func zipOf(t *testing.T, entries ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bad.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := 0; i+1 < len(entries); i += 2 {
		w, err := zw.Create(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(entries[i+1]))
	}
	zw.Close()
	f.Close()
	return path
}

const miniManifest = `<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><MessageIdentifier>M</MessageIdentifier>`

// Damaged or hostile packages are refused with a message saying why.
func TestReadRefuses(t *testing.T) {
	deep := miniManifest + strings.Repeat("<a>", 250) + strings.Repeat("</a>", 250) + "</ArchiveTransfer>"
	for _, c := range []struct {
		what    string
		entries []string
		msg     string
	}{
		{"no manifest", []string{"Content/a.txt", "x"}, "SIP: no manifest.xml at the root of the zip"},
		{"two manifests", []string{"manifest.xml", "x", "a_manifest.xml", "y"}, "SIP: more than one manifest at the root: manifest.xml, a_manifest.xml"},
		{"manifest twice", []string{"manifest.xml", "x", "manifest.xml", "y"}, "SIP: the zip holds manifest.xml twice"},
		{"wrong root", []string{"manifest.xml", `<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"/>`},
			"SIP: manifest.xml: root element is <ArchiveTransferReply>, not <ArchiveTransfer>: not a SEDA SIP"},
		{"SEDA 1.0", []string{"manifest.xml", `<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v1.0"/>`},
			`SIP: manifest.xml: root namespace "fr:gouv:culture:archivesdefrance:seda:v1.0" is not SEDA 2.1, 2.2 or 2.3`},
		{"doctype", []string{"manifest.xml", `<!DOCTYPE x [<!ENTITY a "aaaa">]>` + miniManifest + `</ArchiveTransfer>`},
			"SIP: manifest.xml: manifest has a <!…> declaration: DOCTYPEs and entities are refused"},
		{"too deep", []string{"manifest.xml", deep}, "SIP M: manifest.xml: elements nested more than 200 deep: refused"},
		{"truncated", []string{"manifest.xml", miniManifest}, "SIP M: manifest.xml: not well-formed XML: XML syntax error on line 1: unexpected EOF"},
	} {
		f, err := os.Open(zipOf(t, c.entries...))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		r, err := Open(context.Background(), f, fi.Size())
		if err == nil { // the manifest is read by the first pass
			_, err = r.Header(context.Background())
		}
		f.Close()
		if err == nil || err.Error() != c.msg {
			t.Errorf("%s: %v\nwant %s", c.what, err, c.msg)
		}
	}
	if _, err := Open(context.Background(), strings.NewReader("not a zip"), 9); err == nil || err.Error() != "SIP: not a readable zip: zip: not a valid zip file" {
		t.Errorf("not a zip: %v", err)
	}
}

// Entries with unsafe names are never opened, even when a Uri names them.
func TestReadUnsafeNames(t *testing.T) {
	for _, n := range []string{"/etc/passwd", "Content/../x", "Content\\x", "C:/x", "Content//x", "Content/./x", ""} {
		if safeEntryName(n) {
			t.Errorf("%q accepted", n)
		}
	}
	for _, n := range []string{"Content/x", "manifest.xml", "Content/a/b.json"} {
		if !safeEntryName(n) {
			t.Errorf("%q refused", n)
		}
	}
}

// Units stops at its callback's first error and returns it; a cancelled context stops a pass.
func TestReadUnitsStops(t *testing.T) {
	path, _ := writerSIP(t, seda.SHA256)
	r := openFile(t, path)
	stop := errors.New("enough")
	n := 0
	if err := r.Units(context.Background(), func(Unit) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Units with a failing callback: %d calls, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Unit(ctx, "3001"); !errors.Is(err, context.Canceled) {
		t.Errorf("Unit with a cancelled context: %v", err)
	}
	u, err := r.Unit(context.Background(), "3001")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := r.Object(ctx, u.Objects[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, context.Canceled) {
		t.Errorf("Object read with a cancelled context: %v", err)
	}
}

// A huge text node in an untrusted manifest is cut before encoding/xml holds it: the unit reads,
// with its title shortened to the reader's bound.
func TestReadCapsHugeText(t *testing.T) {
	huge := strings.Repeat("é", 3<<20)
	doc := `<?xml version="1.0"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><DataObjectPackage><DescriptiveMetadata>` +
		`<ArchiveUnit id="AU-1"><Content><DescriptionLevel>File</DescriptionLevel><Title>` + huge + `</Title><OriginatingSystemId>7</OriginatingSystemId></Content></ArchiveUnit>` +
		`</DescriptiveMetadata></DataObjectPackage></ArchiveTransfer>`
	var h TransferHeader
	var got []Unit
	if err := parseManifest(context.Background(), strings.NewReader(doc), &h, func(u Unit) error { got = append(got, u); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].OriginatingSystemIDs) != 1 || got[0].OriginatingSystemIDs[0] != "7" {
		t.Fatalf("units: %+v", len(got))
	}
	if n := len(got[0].Title); n > maxText || n == 0 || !utf8.ValidString(got[0].Title) {
		t.Errorf("title of %d bytes (valid UTF-8: %v), want at most %d", n, utf8.ValidString(got[0].Title), maxText)
	}
}
