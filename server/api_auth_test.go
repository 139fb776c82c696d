package server_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/versement/versement/server"
)

// Tokens of the client-credentials grant from a real provider: each client reaches its own
// establishment only.
func TestAPIBearerTokensPerEstablishment(t *testing.T) {
	e := newAPIEnv(t)
	a, b := bearer(e.token("app-a")), bearer(e.token("app-b"))
	bTx := e.call("POST", "/api/v1/establishments/univ-b/transactions", []byte(`{"profile":"harpege","class":"agent"}`), with(b, "Content-Type", "application/json")...)
	if bTx.status != 201 {
		t.Fatalf("B creates: %d %s", bTx.status, bTx.body)
	}
	bLoc := bTx.header.Get("Location")
	if r := e.call("GET", bLoc, nil, b...); r.status != 200 {
		t.Fatalf("B reads its own: %d", r.status)
	}
	forbidden := problemJSON("forbidden", "Forbidden", 403, "this client does not deposit for this establishment", `,"field":"establishment"`)
	// A's token on B's transaction, objects, ATR, close and SIPs: 403, whatever the id.
	for _, c := range [][2]string{{"GET", bLoc}, {"GET", bLoc + "/atr"}, {"HEAD", bLoc + "/objects/x.pdf"}, {"POST", bLoc + "/close"},
		{"GET", "/api/v1/establishments/univ-b/transactions/tx9999"}, {"GET", "/api/v1/establishments/univ-z/transactions/tx0001"}} {
		r := e.call(c[0], c[1], nil, a...)
		if c[0] == "HEAD" {
			if r.status != 403 {
				t.Errorf("HEAD B's object with A's token: %d", r.status)
			}
			continue
		}
		wantProblem(t, r, 403, forbidden)
	}
	wantProblem(t, e.call("POST", "/api/v1/establishments/univ-b/sips", sipZip(t), with(a, "Content-Type", "application/zip")...), 403, forbidden)
	if got := e.fakes["univ-b"].txs["tx0001"].tx.State; got != "open" {
		t.Errorf("B's transaction is %s after A's calls", got)
	}
	// B's transaction id under A's own path is simply not there.
	id := bLoc[strings.LastIndex(bLoc, "/")+1:]
	wantProblem(t, e.call("GET", "/api/v1/establishments/univ-a/transactions/"+id, nil, a...), 404,
		problemJSON("not-found", "Not Found", 404, "no transaction "+id, ""))

	noToken := problemJSON("unauthorized", "Unauthorized", 401, "authentication is needed: a bearer token or a client certificate", "")
	r := e.call("GET", bLoc, nil)
	wantProblem(t, r, 401, noToken)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="versement"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	badToken := problemJSON("unauthorized", "Unauthorized", 401, "the bearer token is not valid", "")
	tok := b[1][len("Bearer "):]
	tampered := tok[:len(tok)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(tok, "AAAA")]
	for name, h := range map[string][]string{
		"garbage":        bearer("not-a-jwt"),
		"tampered":       bearer(tampered),
		"other audience": bearer(e.token("app-other")),
	} {
		r := e.call("GET", bLoc, nil, h...)
		wantProblem(t, r, 401, badToken)
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="versement", error="invalid_token"` {
			t.Errorf("%s: WWW-Authenticate %q", name, got)
		}
	}
	wantProblem(t, e.call("GET", bLoc, nil, "Authorization", "Basic YXBwLWI6c2VjcmV0LWFwcC1i"), 401,
		problemJSON("unauthorized", "Unauthorized", 401, "only a bearer token is accepted in Authorization", ""))
	// A valid token of a client that is no establishment's account.
	wantProblem(t, e.call("GET", bLoc, nil, bearer(e.token("app-stranger"))...), 403,
		problemJSON("forbidden", "Forbidden", 403, "this client is not an API account of any establishment", ""))

	// The API sets no cookie, and keeps the security headers.
	r = e.call("GET", bLoc, nil, b...)
	if r.header.Get("Set-Cookie") != "" || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("headers %v", r.header)
	}
	// A cross-site browser request is refused before authentication.
	wantProblem(t, e.call("POST", bLoc+"/close", nil, with(b, "Sec-Fetch-Site", "cross-site")...), 403,
		problemJSON("forbidden", "Forbidden", 403, "cross-origin requests are refused", ""))

	log := e.log.String()
	for _, secret := range []string{tok, a[1][7:], "not-a-jwt", "YXBwLWI6", "Authorization"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(log, `"msg":"API token refused"`) {
		t.Errorf("no warning for the refused tokens:\n%s", log)
	}
}

func TestAPIConfigRefusals(t *testing.T) {
	fake := newFakeDeposits("univ-a")
	est := map[string]server.Deposits{"univ-a": fake}
	map1 := func(string) (string, bool) { return "univ-a", true }
	cases := []struct {
		name string
		api  server.APIConfig
		want string
	}{
		{"no establishment", server.APIConfig{Tokens: &server.APITokens{}}, "API: no establishment"},
		{"a path-unsafe id", server.APIConfig{Establishments: map[string]server.Deposits{"univ a/b": fake}},
			`API: establishment id "univ a/b": want letters, digits, '-' or '_' (it is a path segment)`},
		{"nil deposits", server.APIConfig{Establishments: map[string]server.Deposits{"univ-a": nil}}, `API: establishment "univ-a" has no deposits`},
		{"no authentication", server.APIConfig{Establishments: est}, "API: no authentication: give bearer tokens, client certificates or both"},
		{"tokens without audience", server.APIConfig{Establishments: est, Tokens: &server.APITokens{Issuer: "https://idp.example/", ClientEstablishment: map1}},
			"API tokens: the issuer, the audience and the client's establishment are all needed"},
		{"issuer over plain HTTP", server.APIConfig{Establishments: est, Tokens: &server.APITokens{Issuer: "http://idp.example/", Audience: "a", ClientEstablishment: map1}},
			`API token issuer "http://idp.example/": want https:// (plain http only on loopback, for tests)`},
		{"certificates without mapping", server.APIConfig{Establishments: est, MTLS: &server.APIMTLS{ClientCAs: x509.NewCertPool()}},
			"API client certificates: the CA pool and the certificate's establishment are both needed"},
		{"certificates on plain HTTP", server.APIConfig{Establishments: est, MTLS: &server.APIMTLS{ClientCAs: x509.NewCertPool(),
			CertificateEstablishment: func(*x509.Certificate) (string, bool) { return "", false }}},
			"API client certificates need the TLS listener: give a certificate and a key file"},
	}
	for _, c := range cases {
		api := c.api
		_, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", API: &api}, nil, nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// With a sign-on, the pages still need their consultation.
	_, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", Demo: &server.DemoConfig{}}, nil, nil)
	if err == nil || err.Error() != "server: no consultation" {
		t.Errorf("demo without consultation: %v", err)
	}
}

// The API alone serves no page; with a sign-on, pages and API are both there.
func TestAPIBesideThePages(t *testing.T) {
	e := newAPIEnv(t)
	if r := e.call("GET", "/", nil); r.status != 404 {
		t.Errorf("API only, /: %d", r.status)
	}
	if r := e.call("GET", "/login", nil); r.status != 404 {
		t.Errorf("API only, /login: %d", r.status)
	}
	cfg := demoConfig()
	issuer, tokenURL := startTokenProvider(t)
	cfg.API = &server.APIConfig{Establishments: map[string]server.Deposits{"univ-a": newFakeDeposits("univ-a")},
		Tokens: &server.APITokens{Issuer: issuer, Audience: apiAudience, ClientEstablishment: apiClientEstablishment}}
	p := newEnv(t, cfg)
	mustContain(t, p.get("/login"), "<h1>")
	r := doCall(t, p.client, p.srv.URL, "POST", "/api/v1/establishments/univ-a/transactions", []byte(`{"profile":"apogee","class":"etudiant"}`),
		with(bearer(clientToken(t, tokenURL, "app-a")), "Content-Type", "application/json")...)
	if r.status != 201 || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("API beside the pages: %d %v %s", r.status, r.header, r.body)
	}
	// A session cookie is no API credential.
	p.signOnDemo()
	wantProblem(t, doCall(t, p.client, p.srv.URL, "GET", "/api/v1/establishments/univ-a/transactions/tx0001", nil), 401,
		problemJSON("unauthorized", "Unauthorized", 401, "authentication is needed: a bearer token or a client certificate", ""))
}
