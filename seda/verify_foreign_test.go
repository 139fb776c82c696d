package seda_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

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
