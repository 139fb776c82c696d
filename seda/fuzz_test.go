package seda

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
		r := &Report{Manifest: "manifest.xml"}
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
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in.zip")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(context.Background(), p, VerifyOptions{MaxManifestBytes: 1 << 20, Workers: 1})
		if err != nil {
			t.Fatalf("a readable file gave an error instead of findings: %v", err)
		}
		if len(data) < 22 && r.OK() {
			t.Fatal("a file too short to be a zip verified OK")
		}
	})
}

// seedSIPs are seeds made at run time (reference data is read from ../shared, never copied into the
// repository): a package from our writer, and VITAM's samples when ../shared is there.
func seedSIPs(f *testing.F) [][]byte {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{MessageIdentifier: "SEED", Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ArchivalAgency: "A", TransferringAgency: "T"}, WithTempDir(f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	ow, _ := w.AddObject(Object{Name: "a.json", MimeType: "application/json"}, strings.NewReader(`{"a":1}`))
	if _, err := w.AddUnit(Unit{Content: Content{DescriptionLevel: "File", Title: "t"}, Groups: []GroupID{ow.Group()}}); err != nil {
		f.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		f.Fatal(err)
	}
	out := [][]byte{b.Bytes()}
	matches, _ := filepath.Glob("../../shared/samples/vitam/*/sip.zip")
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil {
			out = append(out, data)
		}
	}
	return out
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
