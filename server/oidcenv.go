package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// The environment variables of OIDCFromEnv. Each may instead be given as NAME_FILE, the path
// of a file holding the value (a container secret), which is how the client secret should come.
const (
	EnvOIDCIssuer       = "VERSEMENT_OIDC_ISSUER"
	EnvOIDCClientID     = "VERSEMENT_OIDC_CLIENT_ID"
	EnvOIDCClientSecret = "VERSEMENT_OIDC_CLIENT_SECRET"
	EnvOIDCUserClaim    = "VERSEMENT_OIDC_USER_CLAIM"
	EnvOIDCGroupsClaim  = "VERSEMENT_OIDC_GROUPS_CLAIM"
	EnvOIDCScopes       = "VERSEMENT_OIDC_SCOPES"  // space-separated, besides openid
	EnvOIDCCAFile       = "VERSEMENT_OIDC_CA_FILE" // PEM CA of the provider, when not a public one
)

// OIDCFromEnv reads the OIDC configuration from the environment (getenv is os.Getenv outside
// tests): nil, nil when VERSEMENT_OIDC_ISSUER is not set. Secrets never come from flags.
func OIDCFromEnv(getenv func(string) string) (*OIDCConfig, error) {
	get := func(name string) (string, error) {
		if f := getenv(name + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: %w", name, err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		return strings.TrimSpace(getenv(name)), nil
	}
	issuer, err := get(EnvOIDCIssuer)
	if err != nil || issuer == "" {
		return nil, err
	}
	c := &OIDCConfig{Issuer: issuer}
	for _, v := range []struct {
		name string
		dst  *string
	}{{EnvOIDCClientID, &c.ClientID}, {EnvOIDCClientSecret, &c.ClientSecret}, {EnvOIDCUserClaim, &c.UserClaim}, {EnvOIDCGroupsClaim, &c.GroupsClaim}} {
		if *v.dst, err = get(v.name); err != nil {
			return nil, err
		}
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, errors.New(EnvOIDCIssuer + " is set: " + EnvOIDCClientID + " and " + EnvOIDCClientSecret + " (or " + EnvOIDCClientSecret + "_FILE) are needed too")
	}
	if sc := getenv(EnvOIDCScopes); sc != "" {
		c.Scopes = strings.Fields(sc)
	}
	if ca := getenv(EnvOIDCCAFile); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvOIDCCAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", EnvOIDCCAFile, ca)
		}
		c.HTTPClient = &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		}
	}
	return c, nil
}
