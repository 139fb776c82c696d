package vitam_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// Against the server that behaves as VITAM's code: the ATR is built from the SIP, so the
// operation id, the SIP's message id and the contract all travel through.
func TestFaithfulIngestBuildsATRFromManifest(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 5000)
	r, err := tg.Put(context.Background(), sipWith(t, "APOGEE-ETU-final-1", "IC-000001", photo))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := vitam.ParseATR(bytes.NewReader(r.ATR))
	if err != nil || reply.MessageIdentifier != r.Operation || reply.MessageRequestIdentifier != "APOGEE-ETU-final-1" || r.ReplyCode != "OK" {
		t.Fatalf("ATR %+v, receipt op %s: %v", reply, r.Operation, err)
	}
}

func TestFaithfulContractNotInManifest(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	_, err := tg.Put(context.Background(), sipWith(t, "M-1", "", nil))
	if !errors.Is(err, transfer.ErrRejected) || !strings.Contains(err.Error(), "ReplyCode KO; CHECK_HEADER.CHECK_CONTRACT_INGEST KO (no ArchivalAgreement in the manifest)") {
		t.Fatalf("want KO CONTRACT_NOT_IN_MANIFEST, got %v", err)
	}
}

// Point 2: the status service is access-external, not ingest-external.
func TestPollingGoesToAccessExternal(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	cfg := &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots}
	// admin= pointing at ingest-external, as the old default did: VITAM answers 404 there.
	tg, err := vitam.New("vitam+https://"+s.Host()+"?tenant=1&poll=1ms&timeout=50ms&admin=https://"+s.Host(), vitam.Options{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	_, err = tg.Put(context.Background(), sip(t, "M-1"))
	if err == nil || !strings.Contains(err.Error(), "VITAM's status service does not know the operation (404 Not Found)") {
		t.Fatalf("polling ingest-external: %v", err)
	}
	// The default for VITAM's ingest port is the same host on 8444.
	tg2, err := vitam.New("vitam+https://127.0.0.1:8443?tenant=0&poll=1ms&timeout=20ms", vitam.Options{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tg2.Close()
	if r, _ := tg2.Resume(context.Background(), sip(t, "M-1"), "x"); r.Location != "https://127.0.0.1:8444/admin-external/v1/operations/x" {
		t.Errorf("default status location %q", r.Location)
	}
}

// Point 1 seen from the server: a SIP VITAM's streaming reader refuses pauses the process FATAL,
// and the client says an administrator is needed, without waiting six hours.
func TestPausedFatalNeedsAdministrator(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.Fail = vitamtest.FailPauseFatal
	tg := target(t, s, client, "&timeout=1h", vitam.Options{})
	start := time.Now()
	r, err := tg.Put(context.Background(), sip(t, "M-1"))
	if err == nil || !strings.Contains(err.Error(), "VITAM paused the operation on a FATAL step (PAUSE/FATAL): nothing more happens until VITAM's administrator resumes or cancels it; no ATR yet, and the SIP must not be sent again meanwhile") {
		t.Fatalf("PAUSE/FATAL: %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) || r.Operation == "" || time.Since(start) > 10*time.Second {
		t.Errorf("must be permanent, name the operation (%q) and end at once", r.Operation)
	}
}

// Point 3: VITAM purges finished operations (status 500) but keeps their ATR: a resume fetches it.
func TestResumeAfterPurgeFetchesATR(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.Running = -1
	tg := target(t, s, client, "&timeout=30ms", vitam.Options{})
	r, err := tg.Put(context.Background(), sip(t, "M-1"))
	if err == nil || r.Operation == "" {
		t.Fatalf("first Put should time out with an operation: %v", err)
	}
	s.Finish()
	s.Purge()
	heads := s.Heads()
	r2, err := target(t, s, client, "&timeout=1h", vitam.Options{}).Resume(context.Background(), sip(t, "M-1"), r.Operation)
	if err != nil || r2.ReplyCode != "OK" {
		t.Fatalf("resume after purge: %q %v", r2.ReplyCode, err)
	}
	if n := s.Heads() - heads; n != 1 {
		t.Errorf("%d status requests after the purge, want 1 then the ATR", n)
	}
	if len(s.Posts()) != 1 {
		t.Errorf("%d POSTs", len(s.Posts()))
	}
}

// Point 4: only VITAM's own early failure is retried; a proxy's 502/504 may hide an ingest.
func TestUploadFailuresRetryOnlyWhatVITAMMarksNotStarted(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.Fail, s.FailTimes = vitamtest.FailEarly500, 1
	tg := target(t, s, client, "", vitam.Options{})
	_, err := tg.Put(context.Background(), sip(t, "M-1"))
	var tr *transfer.TransientError
	if !errors.As(err, &tr) || !strings.Contains(err.Error(), `500 Internal Server Error before the ingest started`) || !strings.Contains(err.Error(), `VITAM says "workspace unavailable: the ingest did not start" (code 500, context INGEST_EXTERNAL, state FATAL, message Internal Server Error)`) {
		t.Fatalf("early 500: %v", err)
	}
	if _, err := tg.Put(context.Background(), sip(t, "M-1")); err != nil {
		t.Fatalf("retry after VITAM's early 500: %v", err)
	}
	for _, mode := range []string{vitamtest.FailProxy502, vitamtest.FailProxy504} {
		p := vitamtest.Start(t, "", client.Pool)
		p.Fail = mode
		tg := target(t, p, client, "", vitam.Options{})
		r, err := tg.Put(context.Background(), sip(t, "M-2"))
		var perm *transfer.PermanentError
		if !errors.As(err, &perm) || r.Operation != vitam.OperationUnknown || !strings.Contains(err.Error(), `from something in front of VITAM, after the SIP may have reached it (look for an ingest of message "M-2" by application "versement" in VITAM before resending)`) {
			t.Fatalf("%s: operation %q, %v", mode, r.Operation, err)
		}
		_, err = tg.Resume(context.Background(), sip(t, "M-2"), r.Operation)
		if err == nil || !strings.Contains(err.Error(), `was sent to VITAM at `) || len(p.Posts()) != 1 {
			t.Fatalf("%s: resume must not resend (%d POSTs): %v", mode, len(p.Posts()), err)
		}
	}
}

// Point 5: a certificate for another name is reported as such; server-name= fixes it.
func TestServerNameMismatch(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	cfg := &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots}
	host := strings.Replace(s.Host(), "127.0.0.1", "localhost", 1) // httptest's certificate names example.com and IPs
	names := strings.Join(s.Certificate().DNSNames, ", ")
	tg, err := vitam.New("vitam+https://"+host+"?tenant=1&poll=1ms&admin="+s.AdminURL(), vitam.Options{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), sip(t, "M-1"))
	if err == nil || !strings.Contains(err.Error(), `VITAM's certificate names `+names+`, not "localhost": set server-name= to the name it carries`) {
		t.Fatalf("name mismatch: %v", err)
	}
	tg.Close()
	tg, err = vitam.New("vitam+https://"+host+"?tenant=1&poll=1ms&server-name=example.com&admin="+strings.Replace(s.AdminURL(), "127.0.0.1", "localhost", 1), vitam.Options{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Put(context.Background(), sip(t, "M-1")); err != nil {
		t.Fatalf("with server-name=: %v", err)
	}
}

// The server refuses another Content-Type with 415, as VITAM does; the client sends octet-stream.
func TestWrongContentTypeIs415(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	if _, err := tg.Put(context.Background(), sip(t, "M-1")); err != nil {
		t.Fatal(err)
	}
	if ct := s.Posts()[0].Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
}

// A SIP as versement wrote it before (STORED photos with data descriptors) is what VITAM's
// streaming reader refuses: the faithful server pauses the process FATAL, as VITAM did.
func TestFaithfulServerRefusesWhatCommonsCompressRefuses(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	good := sipWith(t, "M-1", "IC-000001", bytes.Repeat([]byte{0xff, 0xd8}, 3000))
	zr, err := zip.OpenReader(good.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	old := filepath.Join(t.TempDir(), "old.zip")
	f, _ := os.Create(old)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, _ := e.Open()
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: e.Method})
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	f.Close()
	bad := good
	bad.Path = old
	tg := target(t, s, client, "", vitam.Options{})
	if _, err := tg.Put(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "PAUSE/FATAL") {
		t.Fatalf("old layout: %v", err)
	}
	if _, err := tg.Put(context.Background(), good); err != nil {
		t.Fatalf("the writer's layout: %v", err)
	}
}

// VITAM hashes the streamed manifest and compares it with X-Manifest-Digest-Value.
func TestFaithfulManifestDigestChecked(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	bad := sip(t, "M-1")
	bad.ManifestDigest.Value = strings.Repeat("0", 128)
	_, err := tg.Put(context.Background(), bad)
	if !errors.Is(err, transfer.ErrRejected) || !strings.Contains(err.Error(), "MANIFEST_DIGEST_CHECK KO (the manifest's digest does not match X-Manifest-Digest-Value)") {
		t.Fatalf("wrong manifest digest: %v", err)
	}
}
