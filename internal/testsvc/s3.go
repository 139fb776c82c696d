package testsvc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// S3 is a versitygw server started for one test, on its own port and folder.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT or https://…
	AccessKey string
	SecretKey string
	CAFile    string // PEM of the certificate the server presents (TLS only)
	Dir       string // the posix backend's root: buckets are folders here

	t    testing.TB
	args []string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// S3Options chooses how the server runs.
type S3Options struct {
	TLS bool
}

// StartS3 starts a versitygw for the test and stops it when the test ends.
func StartS3(t testing.TB, opt S3Options) *S3 {
	t.Helper()
	bin := os.Getenv(EnvVersitygw)
	if bin == "" {
		Unavailable(t, "%s is not set: no versitygw binary", EnvVersitygw)
	}
	if _, err := os.Stat(bin); err != nil {
		Unavailable(t, "versitygw binary: %v", err)
	}
	dir := t.TempDir()
	s := &S3{AccessKey: "testak", SecretKey: "testsk", Dir: filepath.Join(dir, "data"), t: t}
	for _, d := range []string{s.Dir, filepath.Join(dir, "versions")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	s.args = []string{"--port", addr, "--quiet"}
	scheme := "http"
	if opt.TLS {
		cert, key := selfSigned(t, dir)
		s.CAFile = cert
		s.args = append(s.args, "--cert", cert, "--key", key)
		scheme = "https"
	}
	s.args = append(s.args, "posix", "--versioning-dir", filepath.Join(dir, "versions"), s.Dir)
	s.Endpoint = scheme + "://" + addr
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on the same port and data, and waits until it answers.
func (s *S3) Start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(os.Getenv(EnvVersitygw), s.args...)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start versitygw: %v", err)
	}
	client := &http.Client{Timeout: time.Second}
	if s.CAFile != "" {
		client.Transport = &http.Transport{TLSClientConfig: tlsConfigFor(s.t, s.CAFile)}
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(s.Endpoint); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("versitygw did not answer at %s within 15 s; its log:\n%s", s.Endpoint, s.log)
}

// Kill stops the server abruptly (SIGKILL), as a crash would.
func (s *S3) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Stop stops the server gracefully.
func (s *S3) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		s.cmd = nil
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1/localhost and its key, and returns their absolute
// paths (versitygw wants absolute paths).
func selfSigned(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := SelfSignedPEM(t, "versement test S3", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(certFile)
	absKey, _ := filepath.Abs(keyFile)
	return abs, absKey
}

// SelfSignedPEM makes a self-signed CA-capable certificate and its ECDSA key, PEM-encoded.
func SelfSignedPEM(t testing.TB, cn string, dns []string, ips []net.IP) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func (s *S3) String() string { return fmt.Sprintf("versitygw at %s (data %s)", s.Endpoint, s.Dir) }
