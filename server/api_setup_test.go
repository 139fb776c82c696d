package server_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/server"
)

func TestAPISettingsFromEnv(t *testing.T) {
	certFile, _, _ := certFiles(t)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if tok, err := server.APITokensFromEnv(get, nil); tok != nil || err != nil {
		t.Fatalf("nothing set: %v %v", tok, err)
	}
	env[server.EnvAPIIssuer] = "https://idp.univ-a.example/"
	if _, err := server.APITokensFromEnv(get, nil); err == nil || err.Error() != "VERSEMENT_API_ISSUER is set: VERSEMENT_API_AUDIENCE is needed too (the aud of the API's tokens)" {
		t.Fatalf("no audience: %v", err)
	}
	env[server.EnvAPIAudience] = "versement-api"
	env[server.EnvAPIIssuerCAFile] = notPEM
	if _, err := server.APITokensFromEnv(get, nil); err == nil || err.Error() != "VERSEMENT_API_ISSUER_CA_FILE: no PEM certificate in "+notPEM {
		t.Fatalf("a CA file without PEM: %v", err)
	}
	env[server.EnvAPIIssuerCAFile] = certFile
	tok, err := server.APITokensFromEnv(get, map[string]string{"app-a": "univ-a"})
	if err != nil || tok.Audience != "versement-api" || tok.HTTPClient == nil {
		t.Fatalf("tokens: %+v %v", tok, err)
	}
	if est, ok := tok.ClientEstablishment("app-a"); !ok || est != "univ-a" {
		t.Errorf("app-a: %q %v", est, ok)
	}
	if _, ok := tok.ClientEstablishment("app-b"); ok {
		t.Error("app-b is nobody's")
	}

	if m, err := server.APIMTLSFromEnv(get, nil); m != nil || err != nil {
		t.Fatalf("no client CA: %v %v", m, err)
	}
	env[server.EnvAPIClientCAFile] = certFile
	m, err := server.APIMTLSFromEnv(get, map[string]string{"scolarite.univ-a.example": "univ-a"})
	if err != nil {
		t.Fatal(err)
	}
	if est, ok := m.CertificateEstablishment(&x509.Certificate{Subject: pkix.Name{CommonName: "scolarite.univ-a.example"}}); !ok || est != "univ-a" {
		t.Errorf("certificate: %q %v", est, ok)
	}
	if _, ok := m.CertificateEstablishment(&x509.Certificate{}); ok {
		t.Error("a certificate without a common name is nobody's")
	}
}
