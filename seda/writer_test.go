package seda_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

var testDate = time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func day(y int, m time.Month, d int) civil.Date { return civil.Date{Year: y, Month: m, Day: d} }

func testHeader(v seda.Version) seda.Header {
	h := seda.Header{
		Version:           v,
		MessageIdentifier: "APOGEE-ETU-intermediate-000001-000003",
		Date:              testDate,
		Comment:           "Apogée – dossiers étudiants\x01 (test)",
		ArchivalAgreement: "IC-000001",
		CodeListVersions:  seda.CodeListVersions{Reply: "ReplyCodeListVersion0", MessageDigestAlgorithm: "MessageDigestAlgorithmCodeListVersion0", FileFormat: "FileFormatCodeListVersion0"},
		ArchivalAgency:    "UNIV-ARCHIVES", TransferringAgency: "UNIV-DSI",
		ArchivalProfile: "PR-000001", LegalStatus: "Public Archive",
		OriginatingAgencyIdentifier: "UNIV-SCOLARITE", SubmissionAgencyIdentifier: "UNIV-DSI",
		Management: seda.Management{Access: &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "ACC-00003", StartDate: day(2019, 9, 1)}}}},
	}
	if v != seda.V21 {
		h.CodeListVersions.HoldRule = "HoldRuleCodeListVersion0"
	}
	return h
}

// writeSample writes the package shape the pipeline makes: a root Series unit, dossiers each with a
// JSON object and photos, a data dictionary, and text with bytes XML forbids.
func writeSample(t testing.TB, w io.Writer, v seda.Version, dossiers int) seda.Summary {
	t.Helper()
	sw, err := seda.NewWriter(w, testHeader(v), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	dict, err := sw.AddObject(seda.Object{Name: "dictionary.json", MimeType: "application/json", FormatID: "fmt/817"}, strings.NewReader(`{"tables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := seda.Management{
		Storage:       &seda.StorageRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "STO-00001", StartDate: day(2019, 9, 1)}}}, FinalAction: seda.StorageRestrictAccess},
		Appraisal:     &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-00001", StartDate: day(2020, 7, 10)}}, PreventInheritance: true}, FinalAction: seda.AppraisalDestroy},
		Access:        &seda.RuleGroup{RefNonRuleID: []string{"ACC-00001"}},
		Dissemination: &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "DIS-00001"}}},
		Reuse:         &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "REU-00001"}}},
		Classification: &seda.ClassificationRule{Level: "Non protégé", Owner: "UNIV", Audience: "interne",
			ReassessingDate: day(2030, 1, 1), NeedReassessingAuthorization: ptr(false)},
		NeedAuthorization: ptr(true),
	}
	if v.HasHoldRule() {
		m.Hold = []seda.HoldRule{{Rule: "HOL-00002", StartDate: day(2024, 1, 1), EndDate: day(2026, 1, 1), Owner: "DAJ", Reason: "contentieux", PreventRearrangement: ptr(true)}}
	}
	if _, err := sw.OpenUnit(seda.Unit{Management: m, Content: seda.Content{
		DescriptionLevel: "Series", Title: "Dossiers étudiants (Apogée)", Description: "line1\r\nline2 \x00\x1f\xff end",
		Language: []string{"fr"}, DescriptionLanguage: "fr", OriginatingAgency: "UNIV-SCOLARITE",
		Keywords: []seda.Keyword{{Content: "scolarité", Type: "subject"}}, StartDate: day(1995, 9, 1), EndDate: day(2020, 7, 10),
	}, Groups: []seda.GroupID{dict.Group()}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= dossiers; i++ {
		js, err := sw.AddObject(seda.Object{Name: fmt.Sprintf("ETU-%08d.json", i), MimeType: "application/json", FormatID: "fmt/817"},
			strings.NewReader(strings.Repeat(fmt.Sprintf(`{"cod_etu":%d,"nom":"Dupont\u0001"}`, i), 50)))
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < i%3; p++ {
			if _, err := sw.AddObject(seda.Object{Group: js.Group(), Version: fmt.Sprintf("BinaryMaster_%d", p+2), Name: fmt.Sprintf("ETU-%08d-photo%d.jpg", i, p), MimeType: "image/jpeg", FormatID: "fmt/43"},
				bytes.NewReader(bytes.Repeat([]byte{0xff, 0xd8, byte(i), byte(p)}, 1000))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sw.AddUnit(seda.Unit{
			Management: seda.Management{Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-00001", StartDate: day(2020, 7, 10)}}}, FinalAction: seda.AppraisalKeep}},
			Content: seda.Content{DescriptionLevel: "File", Title: fmt.Sprintf("Dossier étudiant %d \xc3\x28", i),
				OriginatingSystemID: []string{fmt.Sprint(i)}, StartDate: day(2015, 9, 1), EndDate: day(2020, 7, 10)},
			Groups: []seda.GroupID{js.Group()},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.CloseUnit(); err != nil {
		t.Fatal(err)
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func writeSIP(t testing.TB, v seda.Version, dossiers int) (string, seda.Summary) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := writeSample(t, f, v, dossiers)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, sum
}

func readManifest(t testing.TB, zipPath string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every manifest the writer makes must pass the official XSD of its version, checked by xmllint.
func TestWriterManifestValidatesWithXmllint(t *testing.T) {
	for _, v := range []seda.Version{seda.V21, seda.V22, seda.V23} {
		t.Run(string(v), func(t *testing.T) {
			p, sum := writeSIP(t, v, 5)
			m := readManifest(t, p)
			mf := filepath.Join(t.TempDir(), "manifest.xml")
			if err := os.WriteFile(mf, m, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := testsvc.XSD(t, string(v), mf); err != nil {
				t.Fatalf("manifest not valid SEDA %s: %v\n%s", v, err, m)
			}
			s512 := sha512.Sum512(m)
			s256 := sha256.Sum256(m)
			if sum.ManifestSHA512 != hex.EncodeToString(s512[:]) || sum.ManifestSHA256 != hex.EncodeToString(s256[:]) {
				t.Errorf("summary manifest digests do not match manifest.xml")
			}
			if sum.ManifestSize != int64(len(m)) {
				t.Errorf("ManifestSize %d, manifest is %d bytes", sum.ManifestSize, len(m))
			}
			zb, _ := os.ReadFile(p)
			zs := sha256.Sum256(zb)
			if sum.ZipSHA256 != hex.EncodeToString(zs[:]) || sum.ZipSize != int64(len(zb)) {
				t.Errorf("summary zip digest/size do not match the file")
			}
			// 1 dictionary + 5 JSON + photos (i%3 for i=1..5: 1+2+0+1+2).
			if sum.Objects != 12 || sum.Groups != 6 || sum.Units != 6 {
				t.Errorf("summary counts: %+v", sum)
			}
			s := string(m)
			if !strings.Contains(s, "line1\nline2 \uFFFD\uFFFD\uFFFD end") {
				t.Errorf("control characters and bad UTF-8 not replaced as documented:\n%s", s)
			}
			if v == seda.V21 && strings.Contains(s, "HoldRule") {
				t.Errorf("2.1 manifest mentions HoldRule")
			}
			if v != seda.V21 && !strings.Contains(s, "<HoldRule>\n  <Rule>HOL-00002</Rule>") {
				t.Errorf("%s manifest lacks the HoldRule", v)
			}
		})
	}
}

func TestWriterIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	sa := writeSample(t, &a, seda.V22, 4)
	sb := writeSample(t, &b, seda.V22, 4)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || sa != sb {
		t.Fatal("two runs over the same input gave different bytes")
	}
}

func TestWriterStoresCompressedFormatsAndDeflatesText(t *testing.T) {
	p, _ := writeSIP(t, seda.V22, 2)
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		want := zip.Deflate
		if strings.HasSuffix(f.Name, ".jpg") {
			want = zip.Store
		}
		if f.Method != want {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, want)
		}
		if !f.Modified.Equal(testDate) {
			t.Errorf("%s: time %v, want the message date", f.Name, f.Modified)
		}
	}
	if last := zr.File[len(zr.File)-1].Name; last != "manifest.xml" {
		t.Errorf("last entry %s", last)
	}
}

func TestWriterRefusals(t *testing.T) {
	newW := func(t *testing.T, v seda.Version) *seda.Writer {
		sw, err := seda.NewWriter(io.Discard, testHeader(v), seda.WithTempDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sw.Abort)
		return sw
	}
	t.Run("HoldRule in 2.1", func(t *testing.T) {
		sw := newW(t, seda.V21)
		_, err := sw.AddUnit(seda.Unit{Management: seda.Management{Hold: []seda.HoldRule{{Rule: "HOL-1"}}}, Content: seda.Content{DescriptionLevel: "File", Title: "x"}})
		if err == nil || !strings.Contains(err.Error(), "HoldRule exists only from SEDA 2.2 on") {
			t.Fatalf("got %v", err)
		}
		h := testHeader(seda.V21)
		h.Management.Hold = []seda.HoldRule{{Rule: "HOL-1"}}
		if _, err := seda.NewWriter(io.Discard, h); err == nil || !strings.Contains(err.Error(), "HoldRule exists only from SEDA 2.2 on") {
			t.Fatalf("header hold in 2.1: got %v", err)
		}
	})
	cases := []struct {
		name string
		do   func(*seda.Writer) error
		want string
	}{
		{"bad file name", func(w *seda.Writer) error {
			_, err := w.CreateObject(seda.Object{Name: "../../etc/passwd"})
			return err
		}, `file name "../../etc/passwd": only A-Z a-z 0-9 . _ - are allowed`},
		{"accented name", func(w *seda.Writer) error {
			_, err := w.CreateObject(seda.Object{Name: "relevé.pdf"})
			return err
		}, `only A-Z a-z 0-9 . _ - are allowed`},
		{"duplicate name", func(w *seda.Writer) error {
			if _, err := w.AddObject(seda.Object{Name: "a.txt"}, strings.NewReader("x")); err != nil {
				return err
			}
			_, err := w.CreateObject(seda.Object{Name: "a.txt"})
			return err
		}, `file name "a.txt" is already in the package`},
		{"group not contiguous", func(w *seda.Writer) error {
			a, _ := w.AddObject(seda.Object{Name: "a.txt"}, strings.NewReader("x"))
			w.AddObject(seda.Object{Name: "b.txt"}, strings.NewReader("x"))
			_, err := w.CreateObject(seda.Object{Name: "c.txt", Group: a.Group()})
			return err
		}, "group GOT-1 is not the group being written (GOT-2)"},
		{"same version twice in a group", func(w *seda.Writer) error {
			a, _ := w.AddObject(seda.Object{Name: "a.json"}, strings.NewReader("x"))
			_, err := w.CreateObject(seda.Object{Name: "a.jpg", Group: a.Group()})
			return err
		}, "object a.jpg: group GOT-1 already has a BinaryMaster_1 object"},
		{"unknown group", func(w *seda.Writer) error {
			_, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "t"}, Groups: []seda.GroupID{"GOT-7"}})
			return err
		}, `DataObjectGroup "GOT-7" does not exist`},
		{"no title", func(w *seda.Writer) error {
			_, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: " \t\n"}})
			return err
		}, "Title is empty"},
		{"bad level", func(w *seda.Writer) error {
			_, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Dossier", Title: "t"}})
			return err
		}, `DescriptionLevel "Dossier"`},
		{"bad final action", func(w *seda.Writer) error {
			_, err := w.AddUnit(seda.Unit{Management: seda.Management{Appraisal: &seda.AppraisalRule{FinalAction: "Keep forever"}}, Content: seda.Content{DescriptionLevel: "File", Title: "t"}})
			return err
		}, `AppraisalRule FinalAction "Keep forever"`},
		{"empty rule id", func(w *seda.Writer) error {
			_, err := w.AddUnit(seda.Unit{Management: seda.Management{Access: &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "  "}}}}, Content: seda.Content{DescriptionLevel: "File", Title: "t"}})
			return err
		}, "AccessRule: seda: Rule is empty"},
		{"unit left open", func(w *seda.Writer) error {
			w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "t"}})
			_, err := w.Close()
			return err
		}, "unit AU-1 is still open"},
		{"no unit", func(w *seda.Writer) error {
			_, err := w.Close()
			return err
		}, "the package has no archive unit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(newW(t, seda.V22))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	h := testHeader(seda.V22)
	h.MessageIdentifier = " \t "
	if _, err := seda.NewWriter(io.Discard, h); err == nil || err.Error() != "seda: MessageIdentifier is empty (the XSD wants a non-empty token)" {
		t.Fatalf("empty message id: %v", err)
	}
}

func TestWriterEmptyObjectHasNoSize(t *testing.T) {
	var buf bytes.Buffer
	sw, err := seda.NewWriter(&buf, testHeader(seda.V23), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ow, err := sw.AddObject(seda.Object{Name: "empty.txt", MimeType: "text/plain"}, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Item", Title: "vide"}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sip.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	m := readManifest(t, p)
	if strings.Contains(string(m), "<Size>") {
		t.Errorf("empty object declares a Size:\n%s", m)
	}
	mf := filepath.Join(t.TempDir(), "manifest.xml")
	os.WriteFile(mf, m, 0o644)
	if err := testsvc.XSD(t, "2.3", mf); err != nil {
		t.Fatal(err)
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"a\x00b":          "a\uFFFDb",
		"tab\tnl\n":       "tab\tnl\n",
		"cr\r\nlf\rx":     "cr\nlf\nx",
		"bad\xff\xfe":     "bad\uFFFD\uFFFD",
		"\uFFFE\uFFFF ok": "\uFFFD\uFFFD ok",
		"é€😀":             "é€😀",
	} {
		if got, _ := seda.CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}
