package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/server"
)

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	e := newEnv(t, demoConfig())
	for _, path := range []string{"/login", "/no-such-page", "/"} {
		p := e.get(path)
		h := p.header
		if got, want := h.Get("Content-Security-Policy"), "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"; got != want {
			t.Errorf("%s: CSP %q, want %q", path, got, want)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", path, k, got, want)
			}
		}
		if got := h.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: HSTS %q over plain HTTP", path, got)
		}
		if strings.Contains(p.body, "<script") || strings.Contains(p.body, "style=") || strings.Contains(p.body, "<style") {
			t.Errorf("%s: inline script or style:\n%s", path, p.body)
		}
	}
	if p := e.get("/no-such-page"); p.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", p.status)
	} else {
		mustContain(t, p, "<h1>Page introuvable</h1>", "Il n&#39;y a pas de page à cette adresse.")
	}
	css := e.get("/static/style.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "@page { size: A4") {
		t.Errorf("stylesheet: %d %q", css.status, css.header.Get("Content-Type"))
	}
}

func TestCookieAttributes(t *testing.T) {
	e := newEnv(t, demoConfig())
	resp, err := http.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"versement=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
	id := strings.TrimPrefix(strings.SplitN(c, ";", 2)[0], "versement=")
	if len(id) != 43 { // 32 random bytes, base64url unpadded
		t.Errorf("session id %q is not 256 bits", id)
	}
}

func TestFormsNeedTheSessionTokenAndTheSameOrigin(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	form := searchForm(csrf)

	noToken := searchForm("")
	noToken.Del("csrf")
	wrong := searchForm(csrf[:len(csrf)-2] + "xx")
	for name, p := range map[string]page{
		"no token":         e.post("/search", noToken),
		"wrong token":      e.post("/search", wrong),
		"cross-site fetch": e.post("/search", form, "Sec-Fetch-Site", "cross-site"),
		"other origin":     e.post("/search", form, "Origin", "https://evil.example"),
	} {
		if p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
		if !strings.Contains(p.body, "<h1>Accès refusé</h1>") {
			t.Errorf("%s: not the 403 page:\n%s", name, p.body)
		}
	}
	if p := e.post("/search", noToken); !strings.Contains(p.body, "Ce formulaire a expiré ou n&#39;a pas été envoyé depuis ce site") {
		t.Errorf("no token: message missing:\n%s", p.body)
	}
	if p := e.post("/search", form, "Origin", "https://evil.example"); !strings.Contains(p.body, "Ce formulaire a été envoyé depuis un autre site : il est refusé.") {
		t.Errorf("cross origin: message missing:\n%s", p.body)
	}
	if n := e.fake.searchCount(); n != 0 {
		t.Fatalf("%d searches reached the consultation through refused forms", n)
	}
	if p := e.post("/search", form, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"); p.status != http.StatusOK {
		t.Fatalf("same-origin search with the token: %d\n%s", p.status, p.body)
	}
	if n := e.fake.searchCount(); n != 1 {
		t.Fatalf("%d searches, want 1", n)
	}
}

func TestLogoutNeedsTheTokenAndEndsTheSession(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	if p := e.post("/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("logout without token: %d", p.status)
	}
	if p := e.post("/logout", url.Values{"csrf": {csrf}}); p.url.Path != "/login" {
		t.Fatalf("logout went to %s", p.url.Path)
	}
	if p := e.get("/"); p.url.Path != "/login" {
		t.Fatalf("after logout / is %s, want the login page", p.url.Path)
	}
	if p := e.post("/search", searchForm(csrf)); p.status != http.StatusUnauthorized {
		t.Fatalf("search with the old token after logout: %d", p.status)
	}
}

func TestSearchIsRateLimitedPerUser(t *testing.T) {
	cfg := demoConfig()
	cfg.SearchBurst = 2
	cfg.SearchRate = rate.Every(time.Minute)
	e := newEnv(t, cfg)
	csrf := csrfOf(t, e.signOnDemo())
	for i := range 2 {
		if p := e.post("/search", searchForm(csrf)); p.status != http.StatusOK {
			t.Fatalf("search %d: %d", i+1, p.status)
		}
	}
	p := e.post("/search", searchForm(csrf))
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("third search: %d, want 429", p.status)
	}
	mustContain(t, p, "<h1>Trop de recherches</h1>", "Vous avez fait beaucoup de recherches en peu de temps : patientez une minute avant de recommencer.")
	if ra := p.header.Get("Retry-After"); ra != "61" {
		t.Errorf("Retry-After %q, want 61", ra)
	}
	if n := e.fake.searchCount(); n != 2 {
		t.Errorf("the consultation got %d searches, want 2", n)
	}
	e.clock.Advance(time.Minute)
	if p := e.post("/search", searchForm(csrf)); p.status != http.StatusOK {
		t.Fatalf("search a minute later: %d", p.status)
	}
	// The bucket is the user's, not the browser's: a second browser does not get a new one.
	e.client = newClient(t)
	if p := e.post("/search", searchForm(csrfOf(t, e.signOnDemo()))); p.status != http.StatusTooManyRequests {
		t.Fatalf("demo user from a second browser: %d, want 429", p.status)
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	e.clock.Advance(14 * time.Minute)
	if p := e.get("/"); p.url.Path != "/" {
		t.Fatalf("after 14 min: %s", p.url.Path)
	}
	e.clock.Advance(15 * time.Minute)
	if p := e.get("/"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Votre session a pris fin : reconnectez-vous.") {
		t.Fatalf("/ after 15 min idle: %d\n%s", p.status, p.body)
	}
	p := e.post("/search", searchForm(csrf))
	if p.status != http.StatusUnauthorized {
		t.Fatalf("search after 15 min idle: %d, want 401", p.status)
	}
	mustContain(t, p, "Votre session a pris fin : reconnectez-vous.")
	if n := e.fake.searchCount(); n != 0 {
		t.Fatalf("an expired session searched %d times", n)
	}

	// Active every 10 minutes, the session still ends 8 hours after sign-on.
	e.signOnDemo()
	for elapsed := time.Duration(0); elapsed < 8*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
		e.clock.Advance(10 * time.Minute)
		if p := e.get("/"); p.url.Path != "/" {
			t.Fatalf("active session ended after %v", elapsed+10*time.Minute)
		}
	}
	e.clock.Advance(10 * time.Minute)
	if p := e.get("/"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "<h1>Connexion à la consultation</h1>") {
		t.Fatalf("after 8 h: %d, want the login page", p.status)
	}
}

func proxyConfig(trusted string) server.Config {
	return server.Config{Addr: "127.0.0.1:0", Proxy: &server.ProxyConfig{
		UserHeader: "X-Remote-User", NameHeader: "X-Remote-Name", GroupsHeader: "X-Remote-Groups",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix(trusted)},
	}}
}

func TestProxyHeaderFromAnUntrustedAddressIsIgnored(t *testing.T) {
	e := newEnv(t, proxyConfig("10.20.0.0/16"))
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	req.Header.Set("X-Remote-User", "alice.martin")
	req.Header.Set("X-Remote-Groups", "archives;scolarite")
	p := e.do(req)
	if p.url.Path != "/login" {
		t.Fatalf("header from 127.0.0.1 (not a trusted proxy) signed on: at %s", p.url.Path)
	}
	mustContain(t, p, "Connectez-vous par le portail de l&#39;établissement, puis rouvrez cette page.")
	log := e.log.String()
	if !strings.Contains(log, `"msg":"sign-on header from an address that is not a trusted proxy: ignored"`) {
		t.Errorf("no warning in the log:\n%s", log)
	}
	for _, v := range []string{"alice", "scolarite", "127.0.0.1"} {
		if strings.Contains(log, v) {
			t.Errorf("the log holds %q:\n%s", v, log)
		}
	}
}

func TestProxyHeaderFromATrustedProxySignsOn(t *testing.T) {
	e := newEnv(t, proxyConfig("127.0.0.1/32"))
	h := []string{"X-Remote-User", "alice.martin", "X-Remote-Name", "Alice Martin", "X-Remote-Groups", "archives; scolarite"}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	for i := 0; i < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	p := e.do(req)
	if p.url.Path != "/" || p.status != 200 {
		t.Fatalf("trusted proxy: %d at %s", p.status, p.url.Path)
	}
	mustContain(t, p, `<span class="who">Alice Martin</span>`)
	if q := e.post("/search", searchForm(csrfOf(t, p)), h...); q.status != 200 {
		t.Fatalf("search: %d", q.status)
	}
	u := e.fake.users[0]
	if u.ID != "alice.martin" || u.Via != server.ViaProxy || strings.Join(u.Groups, ",") != "archives,scolarite" {
		t.Fatalf("user %+v", u)
	}
	// The proxy stops naming her (signed off at the portal): the session no longer signs her on.
	if q := e.get("/"); q.url.Path != "/login" {
		t.Fatalf("without the header: %s, want the login page", q.url.Path)
	}
}

// certFiles writes a self-signed certificate for 127.0.0.1 and returns its files.
func certFiles(t *testing.T) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	c, k := testsvc.SelfSignedPEM(t, "versement test", nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, k, 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(c)
	return cert, key, pool
}

func TestConfigRefusals(t *testing.T) {
	fake := &fakeConsultation{}
	cert, key, _ := certFiles(t)
	cases := []struct {
		name string
		cfg  server.Config
		want string
	}{
		{"demo off loopback", server.Config{Addr: "0.0.0.0:8443", CertFile: cert, KeyFile: key, Demo: &server.DemoConfig{}},
			`the demo user is only for a server listening on 127.0.0.1 or ::1, not "0.0.0.0:8443"`},
		{"plain HTTP off loopback", server.Config{Addr: "192.0.2.10:80", Demo: &server.DemoConfig{}},
			`plain HTTP is only for a loopback address (127.0.0.1 or ::1), not "192.0.2.10:80": give a certificate and a key file`},
		{"localhost is a name", server.Config{Addr: "localhost:8080", Demo: &server.DemoConfig{}},
			`plain HTTP is only for a loopback address (127.0.0.1 or ::1), not "localhost:8080": give a certificate and a key file`},
		{"no sign-on", server.Config{Addr: "127.0.0.1:8080"},
			"no sign-on configured: give OIDC, a trusted proxy or (on loopback) the demo user"},
		{"proxy without trusted address", server.Config{Addr: "127.0.0.1:8080", Proxy: &server.ProxyConfig{UserHeader: "REMOTE_USER"}},
			"trusted proxy: no proxy address is trusted"},
		{"half TLS", server.Config{Addr: "127.0.0.1:8443", CertFile: "c.pem", Demo: &server.DemoConfig{}},
			"TLS needs both a certificate file and a key file"},
		{"OIDC over plain HTTP elsewhere", server.Config{Addr: "127.0.0.1:8080", OIDC: &server.OIDCConfig{Issuer: "http://idp.univ.example/", ClientID: "versement", ClientSecret: "s"}},
			`OIDC issuer "http://idp.univ.example/": want https:// (plain http only on loopback, for tests)`},
		{"OIDC without secret", server.Config{Addr: "127.0.0.1:8080", OIDC: &server.OIDCConfig{Issuer: "https://idp.example/", ClientID: "versement"}},
			"OIDC: the issuer, client id and client secret are all needed"},
	}
	for _, c := range cases {
		_, err := server.New(context.Background(), c.cfg, fake, nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := server.New(context.Background(), server.Config{Addr: "[::1]:8080", Demo: &server.DemoConfig{}}, fake, nil); err != nil {
		t.Errorf("demo on ::1: %v", err)
	}
}

func TestDemoSignOnFromAnotherMachineIsRefused(t *testing.T) {
	s, err := server.New(context.Background(), demoConfig(), &fakeConsultation{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A port forwarded to the loopback listener: the peer is not this machine.
	get := httptest.NewRequest(http.MethodGet, "/login", nil)
	get.RemoteAddr = "192.0.2.7:50000"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, get)
	csrf := csrfOf(t, page{body: rec.Body.String()})
	post := httptest.NewRequest(http.MethodPost, "/login/demo", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.RemoteAddr = get.RemoteAddr
	for _, c := range rec.Result().Cookies() {
		post.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, post)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("demo sign-on from 192.0.2.7: %d", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "L&#39;utilisateur de démonstration ne peut se connecter que depuis ce poste.") {
		t.Fatalf("message missing:\n%s", rec.Body.String())
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("a refused sign-on set a cookie")
	}
}

func TestTLSListenerCookiesAndHSTS(t *testing.T) {
	cert, key, pool := certFiles(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Addr: ln.Addr().String(), CertFile: cert, KeyFile: key, Demo: &server.DemoConfig{}}
	s, err := server.New(context.Background(), cfg, &fakeConsultation{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + cfg.Addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("served over %s, want HTTP/2", resp.Proto)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS %q", got)
	}
	ck := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-versement=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(strings.ToLower(ck), "domain=") {
		t.Errorf("cookie %q has a Domain", ck)
	}
}

func TestServeRefusesAListenerOffLoopbackForTheDemo(t *testing.T) {
	s, err := server.New(context.Background(), demoConfig(), &fakeConsultation{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = s.Serve(context.Background(), ln)
	want := "listener " + ln.Addr().String() + " is not on loopback: plain HTTP and the demo user are only for 127.0.0.1 or ::1"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestLoginPageStoresNothingWithoutTheDemoForm(t *testing.T) {
	e := newEnv(t, proxyConfig("10.0.0.0/8"))
	resp, err := http.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); c != "" {
		t.Fatalf("the login page set %q", c)
	}
}
