package transfer_test

import (
	"archive/zip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
)

func writeZip(t *testing.T, files map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, _ := os.Create(p)
	zw := zip.NewWriter(f)
	for name, content := range files {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	zw.Close()
	f.Close()
	return p
}

const manifest = `<?xml version="1.0"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><Comment><MessageIdentifier>nested, not this one</MessageIdentifier></Comment><Date>2025-01-01T00:00:00</Date><MessageIdentifier> APOGEE-7 </MessageIdentifier></ArchiveTransfer>`

func TestInspectZip(t *testing.T) {
	p := writeZip(t, map[string]string{"SIP_manifest.xml": manifest, "Content/a.json": "{}"})
	sip, err := transfer.InspectZip(context.Background(), p, "sha-512")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte(manifest))
	if sip.MessageID != "APOGEE-7" || sip.ManifestDigest.Algo != "SHA-512" || sip.ManifestDigest.Value != hex.EncodeToString(sum[:]) {
		t.Fatalf("%+v", sip)
	}
	if sip.SHA256 != "" || sip.Name != "sip.zip" || sip.Size == 0 {
		t.Fatalf("InspectZip should leave the SHA-256 to the target: %+v", sip)
	}
	if err := sip.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if whole, _ := transfer.FileSHA256(p); sip.SHA256 != whole {
		t.Fatalf("Prepare: %+v", sip)
	}
}

func TestInspectZipErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"no manifest":   {map[string]string{"Content/a": "x"}, "no manifest.xml at the root"},
		"nested only":   {map[string]string{"Content/manifest.xml": manifest}, "no manifest.xml at the root"},
		"two manifests": {map[string]string{"manifest.xml": manifest, "a_manifest.xml": manifest}, "two manifests"},
		"no id":         {map[string]string{"manifest.xml": "<ArchiveTransfer/>"}, "no MessageIdentifier"},
		"bad xml":       {map[string]string{"manifest.xml": "<ArchiveTransfer><MessageIdentifier>"}, "not well-formed"},
	} {
		_, err := transfer.InspectZip(context.Background(), writeZip(t, tc.files), "SHA-256")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := transfer.InspectZip(context.Background(), "x.zip", "MD5"); err == nil || !strings.Contains(err.Error(), "want SHA-256 or SHA-512") {
		t.Errorf("MD5: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"s3://b/p?region=x&endpoint=https://h:9000":               "s3://b/p?endpoint=https://h:9000&region=x",
		"s3://ak:sk@b/p?secret_key=zzz":                           "s3://ak:xxxxx@b/p?secret_key=xxxxx",
		"s3://AK:SE/CRET@bucket":                                  "s3://AK:xxxxx@bucket",
		"s3://b?path-style=true&endpoint=http://AK:SECRET@h:9000": "s3://b?endpoint=http://AK:xxxxx@h:9000&path-style=true",
	} {
		if got := transfer.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrepareChecksSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(p, []byte("abc"), 0o644)
	s := transfer.SIP{Name: "a.zip", Path: p, Size: 4}
	if err := s.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "is 3 bytes, the caller said 4") {
		t.Fatal(err)
	}
	s = transfer.SIP{Name: "a.zip", Path: p, SHA256: "ABC"}
	if err := s.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "not 64 lowercase hex digits") {
		t.Fatal(err)
	}
}

// A cancelled run must not wait out a backoff: Sleep returns at once with the context's error.
func TestSleepStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := transfer.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Sleep took %v after its context ended", d)
	}
	if err := transfer.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// Hashing a SIP of many gigabytes must stop when the run is cancelled.
func TestPrepareStopsWithTheContext(t *testing.T) {
	p := writeZip(t, map[string]string{"manifest.xml": "<x/>"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sip := transfer.SIP{Name: "sip.zip", Path: p}
	if err := sip.Prepare(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Prepare: got %v, want context.Canceled", err)
	}
}
