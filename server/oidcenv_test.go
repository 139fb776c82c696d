package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/server"
)

func TestOIDCFromEnvReadsTheSecretFromAFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		server.EnvOIDCIssuer:                 "https://idp.univ.example/",
		server.EnvOIDCClientID:               "versement",
		server.EnvOIDCClientSecret + "_FILE": secret,
		server.EnvOIDCGroupsClaim:            "memberOf",
		server.EnvOIDCScopes:                 "profile email groups",
	}
	c, err := server.OIDCFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://idp.univ.example/" || c.ClientID != "versement" || c.ClientSecret != "s3cr3t" || c.GroupsClaim != "memberOf" || len(c.Scopes) != 3 {
		t.Fatalf("%+v", c)
	}
	if c.HTTPClient != nil {
		t.Fatal("a client without a CA file")
	}

	delete(env, server.EnvOIDCClientSecret+"_FILE")
	if _, err := server.OIDCFromEnv(func(k string) string { return env[k] }); err == nil ||
		err.Error() != "VERSEMENT_OIDC_ISSUER is set: VERSEMENT_OIDC_CLIENT_ID and VERSEMENT_OIDC_CLIENT_SECRET (or VERSEMENT_OIDC_CLIENT_SECRET_FILE) are needed too" {
		t.Fatalf("no secret: %v", err)
	}
	env[server.EnvOIDCCAFile] = secret
	env[server.EnvOIDCClientSecret] = "x"
	if _, err := server.OIDCFromEnv(func(k string) string { return env[k] }); err == nil ||
		err.Error() != "VERSEMENT_OIDC_CA_FILE: no PEM certificate in "+secret {
		t.Fatalf("bad CA: %v", err)
	}
	if c, err := server.OIDCFromEnv(func(string) string { return "" }); c != nil || err != nil {
		t.Fatalf("no issuer: %v %v", c, err)
	}
}

func TestHTTPSPublicURLMakesTheCookieSecureBehindAProxy(t *testing.T) {
	cfg := proxyConfig("127.0.0.1/32")
	cfg.PublicURL = "https://archives.univ.example/"
	e := newEnv(t, cfg)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	req.Header.Set("X-Remote-User", "alice.martin")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); len(c) < 17 || c[:17] != "__Host-versement=" {
		t.Fatalf("cookie %q", c)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS for an https public URL")
	}
}
