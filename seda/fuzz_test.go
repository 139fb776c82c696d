package seda

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// The manifest reader takes untrusted bytes: whatever they are, it must return (no panic, no hang)
// and either a manifest or a finding that says why not.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><Date>2025-01-01T00:00:00</Date></ArchiveTransfer>`))
	for _, sip := range seedSIPs(f) {
		f.Add(manifestOf(f, sip))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &Verification{Manifest: "manifest.xml"}
		m, err := parseManifest(bytes.NewReader(data), r)
		if err != nil {
			t.Fatalf("parseManifest returned an error instead of a finding: %v", err)
		}
		if m == nil && len(r.Findings) == 0 {
			t.Fatal("no manifest and no finding saying why")
		}
		if m != nil {
			m.resolve(r)
		}
	})
}

// The layout checks and the whole verifier read untrusted zips: any bytes must give a report (or
// a could-not-read error), never a panic.
func FuzzVerifyZip(f *testing.F) {
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	for _, sip := range seedSIPs(f) {
		f.Add(sip)
	}
	f.Fuzz(func(t *testing.T, data []byte) { verifyZipInMemory(t, data) })
}

// fuzzOptions bound what one input may expand: a mutated deflate stream can grow to the default
// budget (gigabytes), and one such input took seconds.
var fuzzOptions = VerifyOptions{MaxManifestBytes: 1 << 20, MaxExpanded: 4 << 20, Workers: 1}.withDefaults()

// verifyZipInMemory is one input of FuzzVerifyZip. In memory, as Verify reads a file after its
// checks: a file per input made the fuzzer spend its time in the file system.
func verifyZipInMemory(t testing.TB, data []byte) {
	r := &Verification{Path: "fuzz.zip", Container: "zip", XSD: "not checked", Findings: []Finding{}}
	if zc := readZip(bytes.NewReader(data), int64(len(data)), r, fuzzOptions); zc != nil {
		if _, err := verifyContainer(context.Background(), r, zc, fuzzOptions); err != nil {
			t.Fatalf("a readable zip gave an error instead of findings: %v", err)
		}
	} else {
		r.finish()
	}
	if len(data) < 22 && r.OK() {
		t.Fatal("a file too short to be a zip verified OK")
	}
}

// BenchmarkFuzzVerifyZipInput is the cost of one of FuzzVerifyZip's inputs (the writer's seed):
// what bounds how many the fuzzer tries a second.
func BenchmarkFuzzVerifyZipInput(b *testing.B) {
	seed := seedSIPs(b)[1]
	for b.Loop() {
		verifyZipInMemory(b, seed)
	}
}

// seedSIPs are small seeds made at run time, so that the fuzzer mutates what matters (a few
// hundred bytes of headers and manifest, not kilobytes of payload) and runs thousands of inputs
// a second: the smallest SIP that verifies, stored so that its bytes are not hidden behind Deflate,
// and the same from the writer. VITAM's samples are exercised by the ordinary tests.
func seedSIPs(f testing.TB) [][]byte {
	var tiny bytes.Buffer
	zw := zip.NewWriter(&tiny)
	for _, e := range []struct{ name, data string }{
		{"manifest.xml", `<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><Date>2025-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier><CodeListVersions/><DataObjectPackage><DataObjectGroup id="G"><BinaryDataObject id="B"><DataObjectVersion>BinaryMaster_1</DataObjectVersion><Uri>Content/a</Uri><MessageDigest algorithm="SHA-256">2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824</MessageDigest><Size>5</Size></BinaryDataObject></DataObjectGroup><DescriptiveMetadata><ArchiveUnit id="U"><Content><DescriptionLevel>Item</DescriptionLevel><Title>t</Title></Content><DataObjectReference><DataObjectGroupReferenceId>G</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit></DescriptiveMetadata><ManagementMetadata/></DataObjectPackage><ArchivalAgency><Identifier>A</Identifier></ArchivalAgency><TransferringAgency><Identifier>T</Identifier></TransferringAgency></ArchiveTransfer>`},
		{"Content/a", "hello"},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			f.Fatal(err)
		}
		io.WriteString(w, e.data)
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{MessageIdentifier: "S", Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ArchivalAgency: "A", TransferringAgency: "T"}, WithTempDir(f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	ow, _ := w.AddObject(Object{Name: "a.jpg", MimeType: "image/jpeg"}, strings.NewReader("hello"))
	if _, err := w.AddUnit(Unit{Content: Content{DescriptionLevel: "File", Title: "t"}, Groups: []GroupID{ow.Group()}}); err != nil {
		f.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		f.Fatal(err)
	}
	return [][]byte{tiny.Bytes(), b.Bytes()}
}

func manifestOf(f *testing.F, sip []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(sip), int64(len(sip)))
	if err != nil {
		f.Fatal(err)
	}
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		f.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return data
}
