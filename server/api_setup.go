package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// The environment variables of APITokensFromEnv and APIMTLSFromEnv, for `versement serve`:
// values that differ per deployment, and CA files, never flags.
const (
	EnvAPIIssuer       = "VERSEMENT_API_ISSUER"         // the token issuer, as its discovery says it
	EnvAPIAudience     = "VERSEMENT_API_AUDIENCE"       // the aud of the API's tokens
	EnvAPIIssuerCAFile = "VERSEMENT_API_ISSUER_CA_FILE" // PEM CA of the issuer, when not a public one
	EnvAPIClientCAFile = "VERSEMENT_API_CLIENT_CA_FILE" // PEM CA(s) of the client certificates
)

// APITokensFromEnv reads the token settings from the environment (getenv is os.Getenv outside
// tests): nil, nil when VERSEMENT_API_ISSUER is not set. clients maps a client id to its
// establishment (the platform configuration's API accounts).
func APITokensFromEnv(getenv func(string) string, clients map[string]string) (*APITokens, error) {
	issuer := strings.TrimSpace(getenv(EnvAPIIssuer))
	if issuer == "" {
		return nil, nil
	}
	t := &APITokens{Issuer: issuer, Audience: strings.TrimSpace(getenv(EnvAPIAudience)), ClientEstablishment: lookup(clients)}
	if t.Audience == "" {
		return nil, fmt.Errorf("%s is set: %s is needed too (the aud of the API's tokens)", EnvAPIIssuer, EnvAPIAudience)
	}
	if ca := getenv(EnvAPIIssuerCAFile); ca != "" {
		pool, err := pemPool(EnvAPIIssuerCAFile, ca)
		if err != nil {
			return nil, err
		}
		t.HTTPClient = &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		}
	}
	return t, nil
}

// APIMTLSFromEnv reads the client certificates' CA from the environment: nil, nil when
// VERSEMENT_API_CLIENT_CA_FILE is not set. commonNames maps a certificate's subject common name
// to its establishment.
func APIMTLSFromEnv(getenv func(string) string, commonNames map[string]string) (*APIMTLS, error) {
	ca := getenv(EnvAPIClientCAFile)
	if ca == "" {
		return nil, nil
	}
	pool, err := pemPool(EnvAPIClientCAFile, ca)
	if err != nil {
		return nil, err
	}
	byCN := lookup(commonNames)
	return &APIMTLS{ClientCAs: pool, CertificateEstablishment: func(c *x509.Certificate) (string, bool) {
		return byCN(c.Subject.CommonName)
	}}, nil
}

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok && k != ""
	}
}

func pemPool(env, file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", env, file)
	}
	return pool, nil
}
