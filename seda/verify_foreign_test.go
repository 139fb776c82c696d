package seda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

const ns22 = `xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"`

// transfer wraps a DataObjectPackage body in the smallest ArchiveTransfer the verifier reads.
func transfer(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><ArchiveTransfer ` + ns22 + `><Date>2025-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier><CodeListVersions/>` +
		`<DataObjectPackage>` + body + `</DataObjectPackage><ArchivalAgency><Identifier>A</Identifier></ArchivalAgency><TransferringAgency><Identifier>T</Identifier></TransferringAgency></ArchiveTransfer>`)
}

func zipOf(t *testing.T, files map[string][]byte) string {
	return zipWith(t, func(zw *zip.Writer) {
		for name, data := range files {
			add(t, zw, &zip.FileHeader{Name: name, Method: zip.Deflate}, data)
		}
	})
}

// A BinaryDataObject with an empty, blank or missing Uri (and no Attachment) is an error: the
// package cannot be OK with "0/1 objects verified".
func TestVerifyObjectWithoutUri(t *testing.T) {
	for name, uri := range map[string]string{"empty": "<Uri></Uri>", "blank": "<Uri>  </Uri>", "missing": ""} {
		t.Run(name, func(t *testing.T) {
			p := zipOf(t, map[string][]byte{"manifest.xml": transfer(`<DataObjectGroup id="G"><BinaryDataObject id="B1"><DataObjectVersion>BinaryMaster_1</DataObjectVersion>` + uri +
				`<MessageDigest algorithm="SHA-256">` + strings.Repeat("0", 64) + `</MessageDigest></BinaryDataObject></DataObjectGroup>` +
				`<DescriptiveMetadata><ArchiveUnit id="U"><Content><DescriptionLevel>Item</DescriptionLevel><Title>t</Title></Content><DataObjectReference><DataObjectGroupReferenceId>G</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit></DescriptiveMetadata><ManagementMetadata/>`)})
			wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeMissingFile, "B1", "object B1 has no Uri (empty or missing) and no Attachment: nothing says which file it is")
		})
	}
}

// Nesting plus ArchiveUnitRefId pointing back up makes a unit its own ancestor: VITAM refuses it.
func TestVerifyArchiveUnitCycle(t *testing.T) {
	unit := func(id, inner string) string {
		return `<ArchiveUnit id="` + id + `"><Content><DescriptionLevel>File</DescriptionLevel><Title>` + id + `</Title></Content>` + inner + `</ArchiveUnit>`
	}
	body := `<DescriptiveMetadata>` + unit("AU-1", unit("AU-2", `<ArchiveUnit id="REF-1"><ArchiveUnitRefId>AU-1</ArchiveUnitRefId></ArchiveUnit>`)) + `</DescriptiveMetadata><ManagementMetadata/>`
	p := zipOf(t, map[string][]byte{"manifest.xml": transfer(body)})
	wantFinding(t, verify(t, p, seda.VerifyOptions{}), seda.CodeCycle, "AU-1", "ArchiveUnit AU-1 is its own ancestor: AU-1 → AU-2 → REF-1 → AU-1 (VITAM refuses a cycle)")
	// A reference to a sibling is no cycle.
	ok := `<DescriptiveMetadata>` + unit("AU-1", "") + unit("AU-2", `<ArchiveUnit id="REF-1"><ArchiveUnitRefId>AU-1</ArchiveUnitRefId></ArchiveUnit>`) + `</DescriptiveMetadata><ManagementMetadata/>`
	for _, f := range verify(t, zipOf(t, map[string][]byte{"manifest.xml": transfer(ok)}), seda.VerifyOptions{}).Findings {
		if f.Code == seda.CodeCycle {
			t.Errorf("sibling reference called a cycle: %+v", f)
		}
	}
}

// SEDA 1.0 transfers, DIPs and MEDONA messages get their own status and nothing else: no
// NAMESPACE line, no UNREFERENCED_FILE per file.
func TestVerifyUnsupportedPackages(t *testing.T) {
	for root, want := range map[string]string{
		`<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v1.0"/>`:                          "SEDA 1.0 (versement verifies SEDA 2.1, 2.2 and 2.3): not verified",
		`<ArchiveDeliveryRequestReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"/>`:              "a DIP (ArchiveDeliveryRequestReply): a package delivered by an archive, not a SIP: not verified",
		`<ArchiveTransfer xmlns="org:afnor:medona:1.0"/>`:                                                "a MEDONA message (versement verifies SEDA 2.1–2.3 transfers): not verified",
		`<ArchiveTransfer xmlns="fr:gouv:ae:archive:draft:standard_echange_v0.2"><x/></ArchiveTransfer>`: "SEDA 0.2 (versement verifies SEDA 2.1, 2.2 and 2.3): not verified",
	} {
		p := zipOf(t, map[string][]byte{"manifest.xml": []byte(root), "Content/a.pdf": []byte("a"), "Content/b.pdf": []byte("b")})
		r := verify(t, p, seda.VerifyOptions{})
		if len(r.Findings) != 1 || r.Findings[0].Code != seda.CodeUnsupported || r.Findings[0].Message != want || r.Complete() || !r.OK() {
			t.Errorf("%s: complete=%v ok=%v findings %+v", root, r.Complete(), r.OK(), r.Findings)
		}
	}
}

// A package zipped with its folder says where the manifest is, in one line.
func TestVerifyPackageWrappedInAFolder(t *testing.T) {
	ours, _ := writeSIP(t, seda.V22, 1)
	m := readManifest(t, ours)
	p := zipOf(t, map[string][]byte{"sip-1/manifest.xml": m, "sip-1/Content/ETU-00000001.json": []byte("{}")})
	r := verify(t, p, seda.VerifyOptions{})
	if len(r.Findings) != 1 {
		t.Fatalf("findings %+v", r.Findings)
	}
	wantFinding(t, r, seda.CodeNoManifest, "", "no manifest at the root, but sip-1/manifest.xml is there: the package was zipped with its folder sip-1/; zip what is inside it")
}

// verify on a named pipe would block in open until a writer comes: it is refused first.
func TestVerifyRefusesNamedPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := seda.Verify(context.Background(), p, seda.VerifyOptions{})
	if err == nil || err.Error() != "verify "+p+": a named pipe, not a SIP file or folder" {
		t.Fatalf("named pipe: %v", err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

// XSD findings name the unexpected element (the engine says "?") and report a broken sequence
// once, not once per later sibling.
func TestVerifyXSDFindingsNameTheElement(t *testing.T) {
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	p, _ := writeSIP(t, seda.V22, 1)
	edit := func(old, new string) *seda.Verification {
		out := rewriteZip(t, p, func(name string, data []byte) []byte {
			if name == "manifest.xml" {
				return bytes.Replace(data, []byte(old), []byte(new), 1)
			}
			return data
		}, nil)
		return verify(t, out, seda.VerifyOptions{XSDDir: xsdDir})
	}
	r := edit("</Description>", "</Description><Bogus/>")
	wantFinding(t, r, seda.CodeXSD, "manifest.xml:", "SEDA 2.2 XSD: cvc-complex-type.2.4.d no content model match: found <Bogus>, expected AcquiredDate | Addressee | Agent | AuthorizedAgent | Coverage | CreatedDate | CustodialHistory | DateLitteral | … (32 in all) (at /ArchiveTransfer/DataObjectPackage/DescriptiveMetadata/ArchiveUnit/Content)")
	r = edit("<DescriptionLevel>Series</DescriptionLevel>", "<Bogus/><DescriptionLevel>Series</DescriptionLevel>")
	n := 0
	for _, f := range r.Findings {
		if f.Code == seda.CodeXSD {
			n++
			if strings.Contains(f.Message, "found ?") || strings.Contains(f.Message, "expected *") {
				t.Errorf("unnamed element: %s", f.Message)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d XSD findings for one misplaced element: %+v", n, r.Findings)
	}
}

func objectManifest(uri, digest, size string) []byte {
	sz := ""
	if size != "" {
		sz = "<Size>" + size + "</Size>"
	}
	return transfer(`<DataObjectGroup id="G"><BinaryDataObject id="B1"><DataObjectVersion>BinaryMaster_1</DataObjectVersion><Uri>` + uri + `</Uri>` +
		`<MessageDigest algorithm="SHA-256">` + digest + `</MessageDigest>` + sz + `</BinaryDataObject></DataObjectGroup>` +
		`<DescriptiveMetadata><ArchiveUnit id="U"><Content><DescriptionLevel>Item</DescriptionLevel><Title>t</Title></Content><DataObjectReference><DataObjectGroupReferenceId>G</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit></DescriptiveMetadata><ManagementMetadata/>`)
}

// sha256 of "hello"
const helloSHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

func TestVerifySmallerFindings(t *testing.T) {
	t.Run("empty MessageDigest: one finding", func(t *testing.T) {
		r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": objectManifest("Content/a.txt", "", ""), "Content/a.txt": []byte("hello")}), seda.VerifyOptions{})
		wantFinding(t, r, seda.CodeStructure, "B1", "object B1 has a Uri or an Attachment but no MessageDigest")
		if len(r.Findings) != 1 {
			t.Errorf("findings %+v", r.Findings)
		}
	})
	t.Run("size mismatch says the digest matched", func(t *testing.T) {
		r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": objectManifest("Content/a.txt", helloSHA, "6"), "Content/a.txt": []byte("hello")}), seda.VerifyOptions{})
		wantFinding(t, r, seda.CodeSizeMismatch, "Content/a.txt", "object B1: file is 5 bytes, the manifest says 6 (its digest matches: the manifest's Size is what is wrong)")
		r = verify(t, zipOf(t, map[string][]byte{"manifest.xml": objectManifest("Content/a.txt", helloSHA, "6"), "Content/a.txt": []byte("hellp")}), seda.VerifyOptions{})
		wantFinding(t, r, seda.CodeSizeMismatch, "Content/a.txt", "(its digest does not match either)")
	})
	t.Run("NFD file name", func(t *testing.T) {
		nfc, nfd := "Content/relev\u00e9.txt", "Content/releve\u0301.txt"
		r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": objectManifest(nfc, helloSHA, "5"), nfd: []byte("hello")}), seda.VerifyOptions{})
		wantFinding(t, r, seda.CodeMissingFile, nfc, `object B1: its Uri names no file in the package; "Content/releve\u0301.txt" is there, the same name in another Unicode normalisation (NFD, as macOS writes names): Uri and file name must be the same bytes`)
	})
	t.Run("case", func(t *testing.T) {
		r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": objectManifest("Content/A.txt", helloSHA, "5"), "Content/a.txt": []byte("hello")}), seda.VerifyOptions{})
		wantFinding(t, r, seda.CodeMissingFile, "Content/A.txt", `object B1: its Uri names no file in the package; "Content/a.txt" is there, differing only by case: names are compared exactly`)
	})
}

// A warning repeated on every object is listed ten times, then counted.
func TestVerifyRepeatedWarningIsCounted(t *testing.T) {
	files := map[string][]byte{}
	var groups, refs strings.Builder
	for i := 0; i < 30; i++ {
		id := fmt.Sprint(i)
		files["Content/f"+id+".txt"] = []byte("hello")
		groups.WriteString(`<DataObjectGroup id="G` + id + `"><BinaryDataObject id="B` + id + `"><DataObjectVersion>BinaryMaster_1</DataObjectVersion><Uri>Content/f` + id + `.txt</Uri><MessageDigest algorithm="SHA-256">` + strings.ToUpper(helloSHA) + `</MessageDigest></BinaryDataObject></DataObjectGroup>`)
		refs.WriteString(`<DataObjectReference><DataObjectGroupReferenceId>G` + id + `</DataObjectGroupReferenceId></DataObjectReference>`)
	}
	files["manifest.xml"] = transfer(groups.String() + `<DescriptiveMetadata><ArchiveUnit id="U"><Content><DescriptionLevel>Item</DescriptionLevel><Title>t</Title></Content>` + refs.String() + `</ArchiveUnit></DescriptiveMetadata><ManagementMetadata/>`)
	r := verify(t, zipOf(t, files), seda.VerifyOptions{})
	n := 0
	for _, f := range r.Findings {
		if f.Code == seda.CodeVitam {
			n++
		}
	}
	last := r.Findings[len(r.Findings)-1]
	if n != 11 || last.Message != "20 more VITAM findings not listed (30 in all)" || !r.OK() || r.ObjectsVerified != 30 {
		t.Fatalf("%d VITAM lines, last %+v, verified %d", n, last, r.ObjectsVerified)
	}
}

// A well-formed ISO-8859-1 or UTF-16 manifest is decoded and named, not malformed.
func TestVerifyManifestInOtherEncodings(t *testing.T) {
	utf8 := string(objectManifest("Content/a.txt", helloSHA, "5"))
	utf8 = strings.Replace(utf8, "<Title>t</Title>", "<Title>Relevé d'éléments</Title>", 1)
	latin1 := []byte(strings.Replace(utf8, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1))
	latin1, _ = charmap.ISO8859_1.NewEncoder().Bytes(latin1)
	u16 := strings.Replace(utf8, `encoding="UTF-8"`, `encoding="UTF-16"`, 1)
	be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(u16))
	le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(u16))
	for name, m := range map[string][]byte{"ISO-8859-1": latin1, "UTF-16BE": be, "UTF-16LE": le} {
		r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": m, "Content/a.txt": []byte("hello")}), seda.VerifyOptions{})
		if !r.OK() || r.ObjectsVerified != 1 || len(r.Findings) != 1 || r.Findings[0].Code != seda.CodeEncoding {
			t.Errorf("%s: ok=%v verified=%d %+v", name, r.OK(), r.ObjectsVerified, r.Findings)
		}
	}
}

// Two objects whose Uri names one file: a warning naming both.
func TestVerifyTwoObjectsOneFile(t *testing.T) {
	m := string(objectManifest("Content/a.txt", helloSHA, "5"))
	m = strings.Replace(m, `</BinaryDataObject>`, `</BinaryDataObject><BinaryDataObject id="B2"><DataObjectVersion>BinaryMaster_2</DataObjectVersion><Uri>Content/a.txt</Uri><MessageDigest algorithm="SHA-256">`+helloSHA+`</MessageDigest></BinaryDataObject>`, 1)
	r := verify(t, zipOf(t, map[string][]byte{"manifest.xml": []byte(m), "Content/a.txt": []byte("hello")}), seda.VerifyOptions{})
	wantWarning(t, r, seda.CodeDuplicateName, "Content/a.txt", "object B2: its Uri names the same file as object B1: one file described twice")
}
