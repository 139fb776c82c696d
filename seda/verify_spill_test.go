package seda

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
)

// spillSIP writes a package of n objects with a bit of everything the object checks report:
// two objects naming one file, a missing file, a wrong digest, a wrong size, uppercase hex and
// base64 digests, an unknown algorithm, an inline Attachment, a BinaryDataObject inside another,
// a dangling reference, a cycle through ArchiveUnitRefId, a file no Uri names.
func spillSIP(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	var m strings.Builder
	m.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><Date>2025-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier><CodeListVersions/><DataObjectPackage>`)
	for i := range n {
		data := fmt.Sprintf("object %d", i)
		name := fmt.Sprintf("Content/o%d.txt", i)
		if i%97 == 5 {
			name = fmt.Sprintf("Content/o%d.txt", i-1) // the previous object's file
		} else {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(data))
		}
		sum := sha256.Sum256([]byte(data))
		digest, algo, size := hex.EncodeToString(sum[:]), "SHA-256", len(data)
		switch i % 89 {
		case 7:
			name = fmt.Sprintf("Content/missing%d.txt", i)
		case 11:
			digest = strings.Repeat("0", 64)
		case 13:
			size++
		case 17:
			digest = strings.ToUpper(digest)
		case 19:
			digest = base64.StdEncoding.EncodeToString(sum[:])
		case 23:
			algo = "SHA-999"
		}
		if i%97 == 5 {
			prev := sha256.Sum256([]byte(fmt.Sprintf("object %d", i-1)))
			digest, size = hex.EncodeToString(prev[:]), len(fmt.Sprintf("object %d", i-1))
		}
		fmt.Fprintf(&m, `<DataObjectGroup id="G%d"><BinaryDataObject id="B%d"><DataObjectVersion>BinaryMaster_1</DataObjectVersion>`, i, i)
		if i%101 == 3 {
			fmt.Fprintf(&m, `<BinaryDataObject id="N%d"><Attachment>aGVsbG8=</Attachment><MessageDigest algorithm="SHA-256">x</MessageDigest></BinaryDataObject>`, i)
		}
		fmt.Fprintf(&m, `<Uri>%s</Uri><MessageDigest algorithm="%s">%s</MessageDigest><Size>%d</Size></BinaryDataObject></DataObjectGroup>`, name, algo, digest, size)
	}
	if w, err := zw.Create("Content/stray.txt"); err == nil {
		w.Write([]byte("nobody names me"))
	}
	m.WriteString(`<DescriptiveMetadata><ArchiveUnit id="ROOT"><Content><DescriptionLevel>Series</DescriptionLevel><Title>t</Title></Content>`)
	for i := range n {
		ref := fmt.Sprintf("G%d", i)
		if i%71 == 9 {
			ref = fmt.Sprintf("B%d", i) // a reference to an object where a group is wanted
		}
		fmt.Fprintf(&m, `<ArchiveUnit id="U%d"><Content><DescriptionLevel>File</DescriptionLevel><Title>t</Title></Content><DataObjectReference><DataObjectGroupReferenceId>%s</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit>`, i, ref)
	}
	m.WriteString(`<ArchiveUnit id="C1"><ArchiveUnitRefId>ROOT</ArchiveUnitRefId></ArchiveUnit></ArchiveUnit><ArchiveUnit id="LATE"><ArchiveUnitRefId>NOWHERE</ArchiveUnitRefId></ArchiveUnit></DescriptiveMetadata><ManagementMetadata/></DataObjectPackage><ArchivalAgency><Identifier>A</Identifier></ArchivalAgency><TransferringAgency><Identifier>T</Identifier></TransferringAgency></ArchiveTransfer>`)
	w, err := zw.Create("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(m.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// Spilling objects to disk past objectsInMemory changes nothing in the report: every package
// verified with the usual threshold and with 2 objects in memory gives the same findings in the same
// order, and the temporary file is gone afterwards.
func TestVerifySpillGivesTheSameReport(t *testing.T) {
	// Ours, and VITAM's samples (../shared beside the checkout) as zips and as unpacked folders.
	paths := []string{spillSIP(t, 1000)}
	samples, _ := filepath.Glob(filepath.Join(filepath.Dir(testsvc.ModuleRoot(t)), "shared", "samples", "vitam", "*", "sip.zip"))
	for _, s := range samples {
		dir := filepath.Join(t.TempDir(), "sip")
		if err := unzipTo(s, dir); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, s, dir)
	}
	tmp := t.TempDir()
	usual := objectsInMemory
	defer func() { objectsInMemory = usual }()
	for _, p := range paths {
		objectsInMemory = usual
		want, err := Verify(context.Background(), p, VerifyOptions{Workers: 2, TempDir: tmp})
		if err != nil {
			t.Fatal(err)
		}
		objectsInMemory = 2
		got, err := Verify(context.Background(), p, VerifyOptions{Workers: 2, TempDir: tmp})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: spilled:\n%+v\nin memory:\n%+v", p, got, want)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("%s: %d files left in the temporary folder", p, len(left))
		}
		if p == paths[0] {
			codes := map[string]int{}
			for _, f := range want.Findings {
				codes[f.Code]++
			}
			for _, c := range []string{CodeDuplicateName, CodeMissingFile, CodeDigestMismatch, CodeSizeMismatch, CodeVitam, CodeUnknownAlgo, CodeNotChecked, CodeDanglingRef, CodeCycle, CodeUnreferenced} {
				if codes[c] == 0 {
					t.Errorf("no %s finding in the test package: %v", c, codes)
				}
			}
		}
	}
	t.Logf("%d packages", len(paths))
}

func unzipTo(zipPath, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
