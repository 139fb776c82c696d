// Package vitamtest is an in-process VITAM ingest-external for tests: the documented exchange
// (POST → 202 + X-Request-Id; HEAD → 202 while running, then 200 with X-Global-Execution-State
// and -Status; GET of the ATR: 200 for OK/WARNING, 400 for KO) behind TLS that requires a client
// certificate. It serves whatever ATR it is given, e.g. VITAM's own samples in ../shared.
package vitamtest

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer/vitam"
)

// Server is the fake. Set the exported fields before the first request.
type Server struct {
	*httptest.Server
	ATR     []byte // the reply served
	ATRCode int    // 200 (OK/WARNING) or 400 (KO)
	Op      string // operation id = the ATR's MessageIdentifier
	Running int    // HEAD answers 202 this many times before 200; -1: forever
	Final   string // X-Global-Execution-Status once completed

	mu      sync.Mutex
	posts   []http.Header
	bodySHA []string
	heads   int
}

// Start serves the ATR in atrFile to clients whose certificate chains to clientCA.
func Start(t testing.TB, atrFile string, clientCA *x509.CertPool) *Server {
	t.Helper()
	atr, err := os.ReadFile(atrFile)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ATR: atr, ATRCode: http.StatusOK, Running: 2, Final: "OK"}
	if reply, err := vitam.ParseATR(strings.NewReader(string(atr))); err == nil {
		s.Op = reply.MessageIdentifier
		if !reply.Accepted() {
			s.ATRCode, s.Final = http.StatusBadRequest, reply.ReplyCode
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ingest-external/v1/ingests", s.post)
	mux.HandleFunc("HEAD /admin-external/v1/operations/{id}", s.head)
	mux.HandleFunc("GET /ingest-external/v1/ingests/{id}/archivetransferreply", s.getATR)
	s.Server = httptest.NewUnstartedServer(mux)
	s.Server.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA, MinVersion: tls.VersionTLS12}
	s.Server.StartTLS()
	t.Cleanup(s.Server.Close)
	return s
}

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

// Host is host:port, for a vitam+https:// URL.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "https://") }

// CAFile writes the server certificate as a PEM CA bundle and returns its path.
func (s *Server) CAFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "vitam-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	io.Copy(h, r.Body)
	s.mu.Lock()
	s.posts = append(s.posts, r.Header.Clone())
	s.bodySHA = append(s.bodySHA, hex.EncodeToString(h.Sum(nil)))
	s.mu.Unlock()
	if r.Header.Get("X-Tenant-Id") == "" || r.Header.Get("X-Action") != "RESUME" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Request-Id", s.Op)
	w.Header().Set("X-Global-Execution-State", "PAUSE")
	w.Header().Set("X-Global-Execution-Status", "UNKNOWN")
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) head(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.heads++
	n := s.heads
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", r.PathValue("id"))
	if r.PathValue("id") != s.Op || r.Header.Get("X-Tenant-Id") == "" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if s.Running < 0 || n <= s.Running {
		w.Header().Set("X-Global-Execution-State", "RUNNING")
		w.Header().Set("X-Global-Execution-Status", "STARTED")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("X-Global-Execution-State", "COMPLETED")
	w.Header().Set("X-Global-Execution-Status", s.Final)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getATR(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != s.Op || r.Header.Get("X-Tenant-Id") == "" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(s.ATRCode)
	w.Write(s.ATR)
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
