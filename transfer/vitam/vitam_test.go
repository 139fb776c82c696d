package vitam_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
)

// fakeVITAM implements the ingest-external exchange as documented (seda-vitam.md §3), serving
// VITAM's own ATR samples, behind TLS that requires a client certificate.
type fakeVITAM struct {
	t       *testing.T
	srv     *httptest.Server
	atr     []byte // the reply to serve
	atrCode int    // 200 (OK/WARNING) or 400 (KO)
	op      string // operation id = the ATR's MessageIdentifier
	running int    // HEAD answers 202 this many times before 200; -1: forever
	final   string // X-Global-Execution-Status when completed

	mu      sync.Mutex
	posts   []http.Header
	bodySHA string
	heads   int
}

func newFake(t *testing.T, atrFile string, clientCA *x509.CertPool) *fakeVITAM {
	atr, err := os.ReadFile(testsvc.SharedDir(t, "samples", "vitam", "vitam-atr", atrFile))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVITAM{t: t, atr: atr, atrCode: 200, running: 2, final: "OK"}
	if reply, err := vitam.ParseATR(strings.NewReader(string(atr))); err == nil {
		f.op = reply.MessageIdentifier
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ingest-external/v1/ingests", f.post)
	mux.HandleFunc("HEAD /admin-external/v1/operations/{id}", f.head)
	mux.HandleFunc("GET /ingest-external/v1/ingests/{id}/archivetransferreply", f.getATR)
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA, MinVersion: tls.VersionTLS12}
	f.srv.Config.ErrorLog = nil
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVITAM) post(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	io.Copy(h, r.Body)
	f.mu.Lock()
	f.posts = append(f.posts, r.Header.Clone())
	f.bodySHA = hex.EncodeToString(h.Sum(nil))
	f.mu.Unlock()
	if r.Header.Get("X-Tenant-Id") == "" || r.Header.Get("X-Action") != "RESUME" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Request-Id", f.op)
	w.Header().Set("X-Global-Execution-State", "PAUSE")
	w.Header().Set("X-Global-Execution-Status", "UNKNOWN")
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeVITAM) head(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.heads++
	n := f.heads
	f.mu.Unlock()
	w.Header().Set("X-Request-Id", r.PathValue("id"))
	if r.PathValue("id") != f.op {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if f.running < 0 || n <= f.running {
		w.Header().Set("X-Global-Execution-State", "RUNNING")
		w.Header().Set("X-Global-Execution-Status", "STARTED")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("X-Global-Execution-State", "COMPLETED")
	w.Header().Set("X-Global-Execution-Status", f.final)
	w.WriteHeader(http.StatusOK)
}

func (f *fakeVITAM) getATR(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != f.op || r.Header.Get("X-Tenant-Id") == "" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(f.atrCode)
	w.Write(f.atr)
}

type pki struct {
	clientCert tls.Certificate
	certPEM    []byte
	keyPEM     []byte
	pool       *x509.CertPool // the client's CA, for the server
}

func newPKI(t *testing.T, cn string) pki {
	certPEM, keyPEM := testsvc.SelfSignedPEM(t, cn, nil, nil)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pki{clientCert: cert, certPEM: certPEM, keyPEM: keyPEM, pool: pool}
}

func target(t *testing.T, f *fakeVITAM, client pki, query string, opts transfer.Options) *vitam.Target {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(f.srv.Certificate())
	cfg := &tls.Config{Certificates: []tls.Certificate{client.clientCert}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	host := strings.TrimPrefix(f.srv.URL, "https://")
	if opts.PollInterval == 0 {
		opts.PollInterval = 5 * time.Millisecond
	}
	tg, err := vitam.New("vitam+https://"+host+"?tenant=2"+query, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func sip(t *testing.T, msgID string) transfer.SIP {
	p := filepath.Join(t.TempDir(), "sip.zip")
	os.WriteFile(p, []byte("PK\x03\x04 a SIP"), 0o644)
	return transfer.SIP{Name: "sip.zip", Path: p, MessageID: msgID, ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: strings.Repeat("ab", 64)}}
}

func TestIngestOK(t *testing.T) {
	client := newPKI(t, "versement client")
	f := newFake(t, "sedaArchiveTransferReply.xml", client.pool)
	tg := target(t, f, client, "&application-id=nightly-42", transfer.Options{})
	s := sip(t, "OK_texte_14BinaryMaster_fmts")
	r, err := tg.Put(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReplyCode != "OK" || r.Operation != "aeeaaaaaace2txtzabdlkaltyrxo4siaaaaq" || len(r.ATR) == 0 {
		t.Fatalf("receipt %+v", r)
	}
	h := f.posts[0]
	for k, want := range map[string]string{
		"X-Tenant-Id": "2", "X-Action": "RESUME", "X-Context-Id": "DEFAULT_WORKFLOW", "X-Application-Id": "nightly-42",
		"X-Manifest-Digest-Algo": "SHA-512", "X-Manifest-Digest-Value": strings.Repeat("ab", 64), "Content-Type": "application/octet-stream",
	} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if f.bodySHA != r.SHA256 {
		t.Errorf("VITAM received sha256 %s, SIP is %s", f.bodySHA, r.SHA256)
	}
	if f.heads != 3 {
		t.Errorf("%d status polls, want 3 (202, 202, 200)", f.heads)
	}
}

func TestBlankTestForDryRun(t *testing.T) {
	client := newPKI(t, "versement client")
	f := newFake(t, "sedaArchiveTransferReply.xml", client.pool)
	tg := target(t, f, client, "", transfer.Options{DryRun: true})
	if _, err := tg.Put(context.Background(), sip(t, "")); err != nil {
		t.Fatal(err)
	}
	if got := f.posts[0].Get("X-Context-Id"); got != "BLANK_TEST" {
		t.Errorf("X-Context-Id %q, want BLANK_TEST", got)
	}
}

func TestIngestKO(t *testing.T) {
	client := newPKI(t, "versement client")
	f := newFake(t, "sedaArchiveTransferReplyKO.xml", client.pool)
	f.atrCode, f.final = http.StatusBadRequest, "KO"
	tg := target(t, f, client, "", transfer.Options{})
	r, err := tg.Put(context.Background(), sip(t, "APOGEE-1"))
	if !errors.Is(err, transfer.ErrRejected) {
		t.Fatalf("want a rejection, got %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Error("a KO must not be retried")
	}
	if r.ReplyCode != "KO" || r.Operation != "aeeaaaaaachk7bs6abo3walwa3jx6vyaaaaq" || len(r.ATR) == 0 {
		t.Fatalf("receipt %+v", r)
	}
	for _, want := range []string{"ReplyCode KO", "CHECK_HEADER.CHECK_AGENT KO", "services agents inconnus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPollingTimeout(t *testing.T) {
	client := newPKI(t, "versement client")
	f := newFake(t, "sedaArchiveTransferReply.xml", client.pool)
	f.running = -1
	tg := target(t, f, client, "&poll=2ms&timeout=50ms", transfer.Options{})
	start := time.Now()
	r, err := tg.Put(context.Background(), sip(t, ""))
	if err == nil || !strings.Contains(err.Error(), "still RUNNING/STARTED after 50ms of polling") {
		t.Fatalf("want a polling timeout, got %v", err)
	}
	if r.Operation == "" || !strings.Contains(err.Error(), r.Operation) {
		t.Errorf("the error must name the operation to look up later: %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Error("a polling timeout must not resend the SIP")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("polling was not bounded")
	}
	if f.heads < 5 {
		t.Errorf("only %d polls", f.heads)
	}
}

func TestRefusedCertificate(t *testing.T) {
	trusted := newPKI(t, "registered client")
	intruder := newPKI(t, "unknown client")
	f := newFake(t, "sedaArchiveTransferReply.xml", trusted.pool)
	tg := target(t, f, intruder, "", transfer.Options{})
	_, err := tg.Put(context.Background(), sip(t, ""))
	if err == nil || !strings.Contains(err.Error(), "TLS handshake refused") {
		t.Fatalf("want a refused handshake, got %v", err)
	}
	if len(f.posts) != 0 {
		t.Error("the server handled a request from an unknown certificate")
	}
}

// The files named by the environment are loaded; missing ones give a message naming the variables.
func TestOpenFromEnvironment(t *testing.T) {
	client := newPKI(t, "versement client")
	f := newFake(t, "sedaArchiveTransferReply.xml", client.pool)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(filepath.Join(dir, "c.pem"), client.certPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "k.pem"), client.keyPEM, 0o600)
	os.WriteFile(ca, pemOf(f.srv.Certificate()), 0o644)
	t.Setenv(vitam.EnvCert, "")
	t.Setenv(vitam.EnvKey, "")
	host := strings.TrimPrefix(f.srv.URL, "https://")
	_, err := vitam.Open(context.Background(), "vitam+https://"+host+"?tenant=0", transfer.Options{})
	if err == nil || !strings.Contains(err.Error(), "set VERSEMENT_VITAM_CERT and VERSEMENT_VITAM_KEY") {
		t.Fatalf("without env: %v", err)
	}
	t.Setenv(vitam.EnvCert, filepath.Join(dir, "c.pem"))
	t.Setenv(vitam.EnvKey, filepath.Join(dir, "k.pem"))
	t.Setenv(vitam.EnvCA, ca)
	tg, err := vitam.Open(context.Background(), "vitam+https://"+host+"?tenant=0&poll=1ms", transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := tg.Put(context.Background(), sip(t, "")); err != nil || r.ReplyCode != "OK" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestURLErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"vitam+https://h:1":                    `tenant="": want a tenant number`,
		"vitam+https://h:1?tenant=0&x=1":       `unknown parameter "x"`,
		"vitam+https://h:1?tenant=0&poll=soon": `poll="soon": want a duration`,
		"vitam+https://u:pw@h:1?tenant=0":      "no credentials in the URL",
	} {
		_, err := vitam.New(raw, transfer.Options{}, &tls.Config{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("secret in error: %v", err)
		}
	}
}

func TestParseATRSamples(t *testing.T) {
	dir := testsvc.SharedDir(t, "samples", "vitam", "vitam-atr")
	ok, _ := os.Open(filepath.Join(dir, "sedaArchiveTransferReply.xml"))
	defer ok.Close()
	r, err := vitam.ParseATR(ok)
	if err != nil || r.ReplyCode != "OK" || r.MessageRequestIdentifier != "OK_texte_14BinaryMaster_fmts" || !r.Accepted() || len(r.Events) != 0 {
		t.Fatalf("OK sample: %+v %v", r, err)
	}
	ko, _ := os.Open(filepath.Join(dir, "sedaArchiveTransferReplyKO.xml"))
	defer ko.Close()
	r, err = vitam.ParseATR(ko)
	if err != nil || r.ReplyCode != "KO" || r.Accepted() || len(r.Events) != 3 || r.Events[2].TypeCode != "CHECK_HEADER.CHECK_AGENT" {
		t.Fatalf("KO sample: %+v %v", r, err)
	}
	for doc, want := range map[string]string{
		"":                        "empty document",
		"<a/>":                    "root element is a",
		"<ArchiveTransferReply>":  "not well-formed",
		"<ArchiveTransferReply/>": "no ReplyCode",
	} {
		if _, err := vitam.ParseATR(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
