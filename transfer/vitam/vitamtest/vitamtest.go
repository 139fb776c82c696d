// Package vitamtest is an in-process VITAM for tests that behaves as VITAM 7.0.1's code does,
// not as its RAML says where the two differ (docs/transfer.md lists where):
//
//   - two services on two listeners, each answering 404 for the other's paths: ingest-external
//     (POST of the SIP, GET of the ATR) and access-external (HEAD /admin-external/v1/operations);
//   - TLS 1.2 with ECDHE suites only and a required client certificate, as VITAM's Jetty;
//   - the upload is read as a stream, as VITAM's workspace does with commons-compress: a SIP that
//     reader refuses (a STORED entry with a data descriptor) leaves the operation PAUSE/FATAL
//     with no ATR, waiting for an administrator;
//   - 415 for a Content-Type other than application/octet-stream; the manifest digest headers are
//     checked against the streamed manifest (KO MANIFEST_DIGEST_CHECK);
//   - the ATR is built from the manifest (MessageIdentifier = operation id,
//     MessageRequestIdentifier = the SIP's) and served with 200 even when KO; KO
//     CONTRACT_NOT_IN_MANIFEST without ArchivalAgreement;
//   - HEAD answers 202 PAUSE/UNKNOWN, then RUNNING/STARTED, then 200 COMPLETED/status, each
//     with a fresh X-Request-Id; 500 for an unknown operation, and for a finished one once purged
//     (its ATR stays downloadable);
//   - switches for VITAM's own early 500 (before the workflow starts: COMPLETED/FATAL headers
//     and a request id) and for a proxy's 502/504 in front of it (no VITAM header).
//
// A sample ATR (VITAM's own, from ../shared) can be served instead of a built one.
package vitamtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer/vitam"
)

// Upload failure modes (Server.Fail).
const (
	FailNone       = ""
	FailEarly500   = "early-500"   // VITAM's own 500 before the workflow starts: safe to retry
	FailProxy502   = "proxy-502"   // a proxy's 502: the SIP may have reached VITAM
	FailProxy504   = "proxy-504"   // a proxy's gateway timeout, same
	FailPauseFatal = "pause-fatal" // a step fails FATAL: PAUSE/FATAL until an administrator acts
)

// Server is the fake. Set the exported fields before the first request (or hold Lock).
type Server struct {
	// Ingest is ingest-external; Access is access-external (which serves /admin-external).
	Ingest, Access *httptest.Server

	ATR     []byte // a fixed reply to serve (VITAM's samples); nil: built from the manifest
	ATRCode int    // HTTP status of the ATR download (VITAM's code: 200, KO included)
	Op      string // operation id of the fixed ATR; otherwise one per POST
	Running int    // HEAD answers RUNNING this many times before COMPLETED; -1: forever
	Final   string // status once completed, for a fixed ATR
	Fail    string // upload failure mode: FailEarly500, FailProxy502…
	// FailTimes limits Fail to the first N POSTs (0: every POST).
	FailTimes int

	mu      sync.Mutex
	posts   []http.Header
	bodySHA []string
	heads   int
	ops     map[string]*operation
	seq     int
}

type operation struct {
	id     string
	heads  int    // HEADs answered
	fatal  string // why the process paused FATAL
	atr    []byte
	status string
	done   bool // the process ended: its ATR can be downloaded
	purged bool // and process management forgot it
}

// Start starts both services. atrFile, when not empty, is served as the ATR of every operation
// (its MessageIdentifier is the operation id); otherwise each ATR is built from the SIP.
func Start(t testing.TB, atrFile string, clientCA *x509.CertPool) *Server {
	t.Helper()
	s := &Server{ATRCode: http.StatusOK, Running: 2, Final: "OK", ops: map[string]*operation{}}
	if atrFile != "" {
		atr, err := os.ReadFile(atrFile)
		if err != nil {
			t.Fatal(err)
		}
		s.ATR = atr
		if reply, err := vitam.ParseATR(bytes.NewReader(atr)); err == nil {
			s.Op = reply.MessageIdentifier
			if !reply.Accepted() {
				s.Final = reply.ReplyCode
			}
		}
	}
	ingest := http.NewServeMux()
	ingest.HandleFunc("POST /ingest-external/v1/ingests", s.indexIngest(s.post))
	ingest.HandleFunc("GET /ingest-external/v1/ingests/{id}/archivetransferreply", s.getATR)
	access := http.NewServeMux()
	access.HandleFunc("HEAD /admin-external/v1/operations/{id}", s.headOperation(s.head))
	s.startAccess(t, access)
	s.startElimination(access)
	s.Ingest = startTLS(t, ingest, clientCA)
	s.Access = startTLS(t, access, clientCA)
	return s
}

// startTLS offers what VITAM's Jetty offers: TLS 1.2, ECDHE key exchange only.
func startTLS(t testing.TB, h http.Handler, clientCA *x509.CertPool) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA,
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Close stops both services.
func (s *Server) Close() {
	s.Ingest.Close()
	s.Access.Close()
}

// Host is ingest-external's host:port, for a vitam+https:// URL.
func (s *Server) Host() string { return strings.TrimPrefix(s.Ingest.URL, "https://") }

// AdminURL is access-external's base URL, for the target's admin= parameter.
func (s *Server) AdminURL() string { return s.Access.URL }

// TargetURL is a vitam+https URL naming both services, tenant 1, followed by extra parameters
// ("&poll=1ms").
func (s *Server) TargetURL(extra string) string {
	return "vitam+https://" + s.Host() + "?tenant=1&admin=" + s.AdminURL() + extra
}

// Certificate is the servers' certificate (both services share it).
func (s *Server) Certificate() *x509.Certificate { return s.Ingest.Certificate() }

// Posts returns the headers of each POST received, in order.
func (s *Server) Posts() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.posts...)
}

// BodySHA256 returns the SHA-256 of each POST body received, in order.
func (s *Server) BodySHA256() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodySHA...)
}

// Heads is the number of status requests received.
func (s *Server) Heads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heads
}

// Finish ends every operation that is not paused, as if VITAM had caught up meanwhile.
func (s *Server) Finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Running = 0
	for _, op := range s.ops {
		op.done = op.fatal == ""
	}
}

// Purge forgets every finished operation, as VITAM does 1–2 hours after it ends: status requests
// answer 500, the ATR stays downloadable.
func (s *Server) Purge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.ops {
		op.purged = op.done
	}
}

// CAFile writes the servers' certificate as a PEM CA bundle and returns its path.
func (s *Server) CAFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "vitam-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// requestID is a fresh GUID-like id, as VITAM makes one per request.
func (s *Server) requestID() string {
	s.seq++
	return fmt.Sprintf("aeeaaaaaac%026d", s.seq)
}

func vitamError(w http.ResponseWriter, code int, context, state, message, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"httpCode":%d,"code":"%d","context":%q,"state":%q,"message":%q,"description":%q}`, code, code, context, state, message, description)
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	body, _ := io.ReadAll(io.TeeReader(r.Body, h))
	s.mu.Lock()
	s.posts = append(s.posts, r.Header.Clone())
	s.bodySHA = append(s.bodySHA, hex.EncodeToString(h.Sum(nil)))
	n := len(s.posts)
	fail := s.Fail
	if s.FailTimes > 0 && n > s.FailTimes {
		fail = FailNone
	}
	id := s.Op
	if id == "" || s.ATR == nil {
		id = s.requestID()
	}
	s.mu.Unlock()
	switch fail {
	case FailEarly500:
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Global-Execution-State", "COMPLETED")
		w.Header().Set("X-Global-Execution-Status", "FATAL")
		vitamError(w, http.StatusInternalServerError, "INGEST_EXTERNAL", "FATAL", "Internal Server Error", "workspace unavailable: the ingest did not start")
		return
	case FailProxy502:
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		return
	case FailProxy504:
		w.WriteHeader(http.StatusGatewayTimeout)
		io.WriteString(w, "<html><body>504 Gateway Time-out</body></html>")
		return
	}
	if _, err := strconv.Atoi(r.Header.Get("X-Tenant-Id")); err != nil {
		vitamError(w, http.StatusPreconditionFailed, "INGEST_EXTERNAL", "PRECONDITION_FAILED", "Precondition Failed", "X-Tenant-Id is required")
		return
	}
	if r.Header.Get("X-Action") != "RESUME" && r.Header.Get("X-Action") != "NEXT" {
		vitamError(w, http.StatusPreconditionFailed, "INGEST_EXTERNAL", "PRECONDITION_FAILED", "Precondition Failed", "X-Action is required")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		vitamError(w, http.StatusUnsupportedMediaType, "INGEST_EXTERNAL", "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type", "Content-Type "+ct+" is not supported")
		return
	}
	op := &operation{id: id}
	if fail == FailPauseFatal {
		op.fatal = "STP_UPLOAD_SIP FATAL"
	} else {
		s.ingest(op, r.Header, body)
	}
	s.mu.Lock()
	s.ops[id] = op
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("X-Global-Execution-State", "PAUSE")
	w.Header().Set("X-Global-Execution-Status", "UNKNOWN")
	w.WriteHeader(http.StatusAccepted)
}

// ingest runs the workflow's checks that matter to a client: reading the container as a stream,
// the manifest digest, the contract.
func (s *Server) ingest(op *operation, h http.Header, body []byte) {
	sip, err := readStream(bytes.NewReader(body), 256<<20)
	if err != nil {
		// CHECK_CONTAINER cannot read the SIP: the step is FATAL and the process pauses.
		op.fatal = "CHECK_CONTAINER FATAL: " + err.Error()
		return
	}
	if s.ATR != nil {
		op.atr, op.status = s.ATR, s.Final
		return
	}
	var m struct {
		MessageIdentifier string `xml:"MessageIdentifier"`
		ArchivalAgreement string `xml:"ArchivalAgreement"`
	}
	if err := xml.Unmarshal(sip.manifest, &m); err != nil {
		op.status, op.atr = "KO", buildATR(op.id, "", "", "KO", "CHECK_SEDA", "KO", "manifest not well-formed: "+err.Error())
		return
	}
	if algo, want := h.Get("X-Manifest-Digest-Algo"), h.Get("X-Manifest-Digest-Value"); algo != "" || want != "" {
		var d hash.Hash
		switch algo {
		case "SHA-512":
			d = sha512.New()
		case "SHA-384":
			d = sha512.New384()
		case "SHA-256":
			d = sha256.New()
		}
		if d != nil {
			d.Write(sip.manifest)
		}
		if d == nil || want == "" || hex.EncodeToString(d.Sum(nil)) != want {
			op.status, op.atr = "KO", buildATR(op.id, m.MessageIdentifier, m.ArchivalAgreement, "KO", "MANIFEST_DIGEST_CHECK", "KO", "the manifest's digest does not match X-Manifest-Digest-Value")
			return
		}
	}
	if m.ArchivalAgreement == "" {
		op.status, op.atr = "KO", buildATR(op.id, m.MessageIdentifier, "", "KO", "CHECK_HEADER.CHECK_CONTRACT_INGEST", "KO.CONTRACT_NOT_IN_MANIFEST", "no ArchivalAgreement in the manifest")
		return
	}
	op.status, op.atr = "OK", buildATR(op.id, m.MessageIdentifier, m.ArchivalAgreement, "OK", "", "", "")
}

func buildATR(op, request, contract, code, event, outcome, message string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1">`)
	fmt.Fprintf(&b, "<Date>2026-12-03T10:00:00</Date><MessageIdentifier>%s</MessageIdentifier>", esc(op))
	if contract != "" {
		fmt.Fprintf(&b, "<ArchivalAgreement>%s</ArchivalAgreement>", esc(contract))
	}
	b.WriteString("<CodeListVersions/>")
	fmt.Fprintf(&b, "<ReplyCode>%s</ReplyCode>", code)
	if event != "" {
		fmt.Fprintf(&b, "<Operation><Event><EventTypeCode>%s</EventTypeCode><Outcome>%s</Outcome><OutcomeDetail>%s</OutcomeDetail><OutcomeDetailMessage>%s</OutcomeDetailMessage></Event></Operation>",
			esc(event), "KO", esc(outcome), esc(message))
	}
	fmt.Fprintf(&b, "<MessageRequestIdentifier>%s</MessageRequestIdentifier>", esc(request))
	b.WriteString("<ArchivalAgency><Identifier>VITAM</Identifier></ArchivalAgency><TransferringAgency><Identifier>versement</Identifier></TransferringAgency></ArchiveTransferReply>\n")
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) head(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heads++
	w.Header().Set("X-Request-Id", s.requestID()) // a fresh id per request, not the operation's
	op := s.ops[r.PathValue("id")]
	if _, err := strconv.Atoi(r.Header.Get("X-Tenant-Id")); err != nil {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	if op == nil || op.purged {
		// What VITAM's code answers for an id process management does not know (its RAML says 404).
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	op.heads++
	w.Header().Set("X-Context-Id", "INGEST")
	switch {
	case op.heads == 1:
		w.Header().Set("X-Global-Execution-State", "PAUSE")
		w.Header().Set("X-Global-Execution-Status", "UNKNOWN")
		w.WriteHeader(http.StatusAccepted)
	case op.fatal != "":
		w.Header().Set("X-Global-Execution-State", "PAUSE")
		w.Header().Set("X-Global-Execution-Status", "FATAL")
		w.WriteHeader(http.StatusAccepted)
	case s.Running < 0 || op.heads-1 <= s.Running:
		w.Header().Set("X-Global-Execution-State", "RUNNING")
		w.Header().Set("X-Global-Execution-Status", "STARTED")
		w.WriteHeader(http.StatusAccepted)
	default:
		op.done = true
		w.Header().Set("X-Global-Execution-State", "COMPLETED")
		w.Header().Set("X-Global-Execution-Status", op.status)
		w.WriteHeader(http.StatusOK)
	}
}

func (s *Server) getATR(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	op := s.ops[r.PathValue("id")]
	code := s.ATRCode
	ready := op != nil && op.done && op.atr != nil
	s.mu.Unlock()
	if _, err := strconv.Atoi(r.Header.Get("X-Tenant-Id")); err != nil {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	if !ready {
		vitamError(w, http.StatusNotFound, "INGEST_EXTERNAL", "NOT_FOUND", "Not Found", "no ArchiveTransferReply for this operation")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(code)
	w.Write(op.atr)
}

// Client is a client certificate and its key, and a pool holding it for the server side.
type Client struct {
	Cert            tls.Certificate
	CertPEM, KeyPEM []byte
	Pool            *x509.CertPool
}

// NewClient makes a self-signed client certificate.
func NewClient(t testing.TB, cn string) Client {
	t.Helper()
	certPEM, keyPEM := testsvc.SelfSignedPEM(t, cn, nil, nil)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return Client{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM, Pool: pool}
}

// SetEnv writes the client's files and points VERSEMENT_VITAM_CERT/KEY/CA at them (CA: the server's).
func (c Client) SetEnv(t *testing.T, s *Server) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	os.WriteFile(cert, c.CertPEM, 0o644)
	os.WriteFile(key, c.KeyPEM, 0o600)
	t.Setenv(vitam.EnvCert, cert)
	t.Setenv(vitam.EnvKey, key)
	t.Setenv(vitam.EnvCA, s.CAFile(t))
}
