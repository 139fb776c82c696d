package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/server"
)

// testCA is a certificate authority of client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// client issues a client certificate to cn.
func (ca *testCA) client(t *testing.T, cn string, serial int64) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Client certificates on the server's own TLS listener (Serve): each certificate reaches its
// establishment only; none gets 401; a certificate of another CA does not get through TLS.
func TestAPIClientCertificates(t *testing.T) {
	certFile, keyFile, serverPool := certFiles(t)
	ca := newTestCA(t, "CA des applications")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	fakes := map[string]*fakeDeposits{"univ-a": newFakeDeposits("univ-a"), "univ-b": newFakeDeposits("univ-b")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	s, err := server.New(context.Background(), server.Config{Addr: ln.Addr().String(), CertFile: certFile, KeyFile: keyFile,
		API: &server.APIConfig{
			Establishments: map[string]server.Deposits{"univ-a": fakes["univ-a"], "univ-b": fakes["univ-b"]},
			MTLS: &server.APIMTLS{ClientCAs: pool, CertificateEstablishment: func(c *x509.Certificate) (string, bool) {
				est, ok := map[string]string{"scolarite.univ-a.example": "univ-a", "rh.univ-b.example": "univ-b"}[c.Subject.CommonName]
				return est, ok
			}},
		}}, nil, slog.New(slog.NewJSONHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	base := "https://" + ln.Addr().String()
	clientWith := func(certs ...tls.Certificate) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverPool, Certificates: certs}, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: newValidating(t, tr, base, len(certs) > 0), Timeout: 10 * time.Second}
	}
	a := clientWith(ca.client(t, "scolarite.univ-a.example", 2))
	c := doCall(t, a, base, "POST", "/api/v1/establishments/univ-a/transactions", []byte(`{"profile":"apogee","class":"etudiant"}`), "Content-Type", "application/json")
	if c.status != 201 || !strings.Contains(c.body, `"by":"cert:scolarite.univ-a.example"`) {
		t.Fatalf("A creates: %d %s", c.status, c.body)
	}
	if r := doCall(t, a, base, "GET", c.header.Get("Location"), nil); r.status != 200 {
		t.Fatalf("A reads: %d %s", r.status, r.body)
	}
	wantProblem(t, doCall(t, a, base, "GET", "/api/v1/establishments/univ-b/transactions/tx0001", nil), 403,
		problemJSON("forbidden", "Forbidden", 403, "this client does not deposit for this establishment", `,"field":"establishment"`))

	unknown := clientWith(ca.client(t, "someone.example", 3))
	wantProblem(t, doCall(t, unknown, base, "GET", "/api/v1/establishments/univ-a/transactions/tx0001", nil), 403,
		problemJSON("forbidden", "Forbidden", 403, "this client is not an API account of any establishment", ""))

	none := clientWith()
	r := doCall(t, none, base, "GET", "/api/v1/establishments/univ-a/transactions/tx0001", nil)
	wantProblem(t, r, 401, problemJSON("unauthorized", "Unauthorized", 401, "authentication is needed: a bearer token or a client certificate", ""))
	if r.header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
	wantProblem(t, doCall(t, none, base, "GET", "/api/v1/establishments/univ-a/transactions/tx0001", nil, bearer("whatever")...), 401,
		problemJSON("unauthorized", "Unauthorized", 401, "bearer tokens are not accepted here: present a client certificate", ""))

	other := newTestCA(t, "CA d'ailleurs")
	req, err := http.NewRequest("GET", base+"/api/v1/establishments/univ-a/transactions/tx0001", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Offered whatever the server's acceptable CAs (Go's client would otherwise hold it back).
	forged := other.client(t, "scolarite.univ-a.example", 4)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverPool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &forged, nil }}}
	defer tr.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a certificate of another CA got %d", resp.StatusCode)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate of another CA: %v", err)
	}
	if strings.Contains(log.String(), "scolarite") {
		t.Errorf("the log names the certificate:\n%s", log)
	}
}
