package seda_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

// VITAM reads an upload as a stream (commons-compress's ZipArchiveInputStream, default settings),
// which refuses STORED entries with a data descriptor: every SIP the writer makes, with stored
// photos, deflated JSON, an empty object and a stored object bigger than the in-memory buffer,
// must stream through it with the bytes the manifest declares.
func TestWriterSIPsStreamLikeVITAM(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, v := range []seda.Version{seda.V21, seda.V22, seda.V23} {
		p, _ := writeSIP(t, v, 5)
		q := filepath.Join(dir, string(v)+".zip")
		if err := os.Rename(p, q); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q)
	}
	big := filepath.Join(dir, "big.zip")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := seda.NewWriter(f, testHeader(seda.V22), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	pdf := bytes.Repeat([]byte("%PDF-1.4 not really compressible? "), 200_000) // 6.8 MB, past the memory buffer
	photo, err := sw.AddObject(seda.Object{Name: "scan.pdf", MimeType: "application/pdf"}, bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	empty, err := sw.AddObject(seda.Object{Name: "empty.jpg", MimeType: "image/jpeg"}, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "t"}, Groups: []seda.GroupID{photo.Group(), empty.Group()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, big)

	for i, s := range testsvc.StreamLikeVITAM(t, paths...) {
		if s.Err != "" {
			t.Errorf("%s: VITAM's reader refuses it: %s", filepath.Base(paths[i]), s.Err)
			continue
		}
		if s.Manifest != "manifest.xml" {
			t.Errorf("%s: manifest %q", paths[i], s.Manifest)
		}
		want := zipDigests(t, paths[i])
		if len(s.Entries) != len(want) {
			t.Errorf("%s: streamed %d entries, the central directory lists %d", paths[i], len(s.Entries), len(want))
		}
		for _, e := range s.Entries {
			if want[e.Name] != e.SHA256 {
				t.Errorf("%s: %s streamed with SHA-256 %s, want %s", paths[i], e.Name, e.SHA256, want[e.Name])
			}
		}
	}
	zr, err := zip.OpenReader(big)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Method == zip.Store && f.Flags&0x8 != 0 {
			t.Errorf("%s: STORED with a data descriptor", f.Name)
		}
	}
}

func zipDigests(t testing.TB, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	m := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		m[f.Name] = hex.EncodeToString(h.Sum(nil))
	}
	return m
}

// Legacy comment columns hold megabytes of repeated text, which Deflate shrinks far beyond 200:1:
// what the writer makes of them must pass Verify, whole.
func TestHighlyCompressibleDossierVerifies(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := seda.NewWriter(f, testHeader(seda.V22), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	js := `{"comment":"` + strings.Repeat("RAS ", 3<<20) + `"}` // 12 MiB
	o, err := sw.AddObject(seda.Object{Name: "D1.json", MimeType: "application/json"}, strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "D1"}, Groups: []seda.GroupID{o.Group()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(zr.File[0].UncompressedSize64) / float64(zr.File[0].CompressedSize64)
	zr.Close()
	if ratio < 200 {
		t.Fatalf("test data compresses only %.0f:1; it must exceed the 200:1 mark", ratio)
	}
	r := verify(t, p, seda.VerifyOptions{})
	if !r.OK() || !r.Complete() || r.ObjectsVerified != 1 {
		t.Fatalf("a %.0f:1 dossier the writer made: ok=%v complete=%v verified=%d findings=%+v", ratio, r.OK(), r.Complete(), r.ObjectsVerified, r.Findings)
	}
}

// SIPs written before the writer held STORED objects back (or by other software) carry STORED
// entries with data descriptors: verify names each one as a VITAM finding.
func TestVerifyNamesStoredEntriesVITAMCannotStream(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 1)
	zr, err := zip.OpenReader(ours)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	p := filepath.Join(t.TempDir(), "old.zip")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method}) // what versement did before
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	r := verify(t, p, seda.VerifyOptions{})
	wantWarning(t, r, seda.CodeVitam, "Content/ETU-00000001-photo0.jpg", `STORED entry with a data descriptor: VITAM reads uploads as a stream (commons-compress ZipArchiveInputStream) and fails its first ingest step on it ("Unsupported feature data descriptor used in entry"); write the SIP again with this version of versement`)
	if s := testsvc.StreamLikeVITAM(t, p); s[0].Err == "" || !strings.Contains(s[0].Err, "data descriptor") {
		t.Errorf("VITAM's reader accepted the old layout: %+v", s[0].Err)
	}
	for _, f := range verify(t, ours, seda.VerifyOptions{}).Findings {
		if f.Code == seda.CodeVitam {
			t.Errorf("the writer's own SIP: %+v", f)
		}
	}
}

// The writer never puts an EndDate before its StartDate in a manifest.
func TestWriterRefusesEndBeforeStart(t *testing.T) {
	sw, err := seda.NewWriter(io.Discard, testHeader(seda.V22), seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "D1", StartDate: day(2020, 1, 2), EndDate: day(2019, 12, 31)}})
	if err == nil || err.Error() != `unit AU-1 ("D1"): EndDate 2019-12-31 is before StartDate 2020-01-02` {
		t.Fatalf("end before start: %v", err)
	}
}
