package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

func smallSIP(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := seda.NewWriter(f, seda.Header{Version: seda.V23, MessageIdentifier: "TEST-1", Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-1", ArchivalAgency: "ARCH", TransferringAgency: "DSI"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ow, err := w.AddObject(seda.Object{Name: "d1.json", MimeType: "application/json", FormatID: "fmt/817"}, strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "d1"}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func flipContent(t *testing.T, src string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	p := filepath.Join(t.TempDir(), "damaged.zip")
	f, _ := os.Create(p)
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.HasPrefix(zf.Name, "Content/") {
			b[0] ^= 1
		}
		w, _ := zw.Create(zf.Name)
		w.Write(b)
	}
	zw.Close()
	f.Close()
	return p
}

func TestVerifyCommand(t *testing.T) {
	good := smallSIP(t)
	bad := flipContent(t, good)
	xsdDir := testsvc.SharedDir(t, "seda-xsd")

	out, code := run(t, "verify", "--xsd-dir", xsdDir, good)
	if code != 0 || !strings.Contains(out, good+": OK") || !strings.Contains(out, "SEDA 2.3, message TEST-1, 1/1 objects verified (7 B), 1 units, XSD valid") {
		t.Fatalf("good package: exit %d\n%s", code, out)
	}
	out, code = run(t, "verify", good, bad)
	if code != 1 || !strings.Contains(out, bad+": DAMAGED (1 error)") || !strings.Contains(out, "error   DIGEST_MISMATCH Content/d1.json: object BDO-1: SHA-256 is") {
		t.Fatalf("damaged package: exit %d\n%s", code, out)
	}
	out, code = run(t, "verify", "--json", good, bad, filepath.Join(t.TempDir(), "missing.zip"))
	if code != 2 {
		t.Fatalf("unreadable path: exit %d, want 2\n%s", code, out)
	}
	var doc struct {
		OK       bool
		Packages []struct {
			Path   string
			Error  string
			Report *seda.Verification
		}
	}
	// run appends the command's error after what it printed; stdout alone must be one JSON document.
	stdout, _, _ := strings.Cut(out, "ERR: ")
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if doc.OK || len(doc.Packages) != 3 || !doc.Packages[0].Report.OK() || doc.Packages[1].Report.Findings[0].Code != seda.CodeDigestMismatch ||
		!strings.Contains(doc.Packages[2].Error, "no such file or directory") {
		t.Fatalf("json: %s", out)
	}
	if _, code := run(t, "verify"); code != 2 {
		t.Fatalf("no PATH: exit %d, want 2", code)
	}
	if _, code := run(t, "verify", "--xsd-dir", t.TempDir(), good); code != 2 {
		t.Fatalf("xsd dir without schemas: exit %d, want 2", code)
	}
}

func TestVerifyCommandOnVitamSamples(t *testing.T) {
	samples := testsvc.SharedDir(t, "samples", "vitam")
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	ok21 := filepath.Join(samples, "vitam-2.1-3_UNITS_2_GOTS", "sip.zip")
	ok22 := filepath.Join(samples, "vitam-2.2-WARNING_SIP_mail_Seda2.2", "sip.zip")
	hold := filepath.Join(samples, "vitam-2.1ext-SIP_OK_HoldRules", "sip.zip")
	if out, code := run(t, "verify", "--xsd-dir", xsdDir, ok21, ok22); code != 0 {
		t.Fatalf("VITAM samples: exit %d\n%s", code, out)
	}
	if out, code := run(t, "verify", hold); code != 0 {
		t.Fatalf("HoldRules sample without XSD: exit %d\n%s", code, out)
	}
	out, code := run(t, "verify", "--xsd-dir", xsdDir, hold)
	if code != 1 || !strings.Contains(out, "XSD_INVALID") {
		t.Fatalf("HoldRules sample under the 2.1 XSD: exit %d\n%s", code, out)
	}
}

// A DIP is neither damaged nor a SIP: its own status, exit 1 (not verified), one line.
func TestVerifyUnsupportedPackageStatus(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("manifest.xml")
	w.Write([]byte(`<ArchiveDeliveryRequestReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"/>`))
	for _, n := range []string{"Content/a.pdf", "Content/b.pdf"} {
		w, _ := zw.Create(n)
		w.Write([]byte(n))
	}
	zw.Close()
	f.Close()
	out, code := run(t, "verify", p)
	if code != exitFindings || !strings.Contains(out, p+": UNSUPPORTED: a DIP (ArchiveDeliveryRequestReply): a package delivered by an archive, not a SIP\n") ||
		strings.Contains(out, "UNREFERENCED_FILE") || !strings.Contains(out, "verify: 1 of 1 packages not fully checked (unsupported, or entries past --max-expanded)") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
