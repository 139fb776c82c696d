package server_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/versement/versement/server"
)

// groupsStorage is the example provider's storage with a groups claim: in the ID token when
// inIDToken, else in userinfo only (as many providers do).
type groupsStorage struct {
	*storage.Storage
	inIDToken bool
	pkce      *pkceSeen
}

// pkceSeen is the code challenge method of the last authorization request.
type pkceSeen struct {
	mu     sync.Mutex
	method string
}

func (s groupsStorage) CreateAuthRequest(ctx context.Context, req *zoidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.pkce.mu.Lock()
	s.pkce.method = string(req.CodeChallengeMethod)
	if req.CodeChallenge == "" {
		s.pkce.method = "none"
	}
	s.pkce.mu.Unlock()
	return s.Storage.CreateAuthRequest(ctx, req, userID)
}

var testGroups = []string{"scolarite", "archives"}

func (s groupsStorage) SetUserinfoFromRequest(ctx context.Context, u *zoidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, u, token, scopes); err != nil {
		return err
	}
	if s.inIDToken {
		u.AppendClaims("groups", testGroups)
	}
	return nil
}

func (s groupsStorage) SetUserinfoFromToken(ctx context.Context, u *zoidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, u, tokenID, subject, origin); err != nil {
		return err
	}
	u.AppendClaims("groups", testGroups)
	return nil
}

func (s groupsStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !s.inIDToken {
		return c, err
	}
	return assertingClient{c}, nil
}

// assertingClient puts the profile claims in the ID token even when an access token is issued.
type assertingClient struct{ op.Client }

func (assertingClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// startProvider starts zitadel's example OpenID provider on loopback, knowing one web client
// whose redirect URI is redirect.
func startProvider(t *testing.T, redirect string, inIDToken bool) (string, *pkceSeen) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/"
	users := storage.NewUserStore(issuer)
	client := storage.WebClient("versement", "client-secret-for-tests", redirect)
	st := groupsStorage{Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{"versement": client}), inIDToken: inIDToken, pkce: &pkceSeen{}}
	// A nil logger: SetupServer would otherwise replace the process's default logger.
	router := exampleop.SetupServer(issuer, st, nil, false)
	hs := &http.Server{Handler: router}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return issuer, st.pkce
}

// oidcEnv is our server, on its own loopback listener, signing on through the provider.
func oidcEnv(t *testing.T, inIDToken bool, tune ...func(*server.Config)) (*env, string, *pkceSeen) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	issuer, pkce := startProvider(t, base+"/login/oidc/callback", inIDToken)
	cfg := server.Config{Addr: ln.Addr().String(), OIDC: &server.OIDCConfig{
		Issuer: issuer, ClientID: "versement", ClientSecret: "client-secret-for-tests",
	}}
	for _, f := range tune {
		f(&cfg)
	}
	e := newEnvOn(t, ln, cfg)
	return e, issuer, pkce
}

// oidcSignOn follows the provider's login form as a browser does, and returns the page it ends
// on and the callback URL it went through.
func (e *env) oidcSignOn(issuer, username, password string) (page, string) {
	e.t.Helper()
	var mu sync.Mutex
	var callback string
	e.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/login/oidc/callback" {
			mu.Lock()
			callback = req.URL.String()
			mu.Unlock()
		}
		return nil
	}
	form := e.get("/login/oidc")
	if form.status != 200 || form.url.Path != "/login/username" {
		e.t.Fatalf("the provider's login form: %d at %s\n%s", form.status, form.url, form.body)
	}
	id := form.url.Query().Get("authRequestID")
	req, err := http.NewRequest(http.MethodPost, issuer+"login/username", strings.NewReader(url.Values{
		"id": {id}, "username": {username}, "password": {password},
	}.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := e.do(req)
	mu.Lock()
	defer mu.Unlock()
	return p, callback
}

func TestOIDCSignOnEndToEnd(t *testing.T) {
	for _, inIDToken := range []bool{true, false} {
		name := "groups in userinfo"
		if inIDToken {
			name = "groups in the ID token"
		}
		t.Run(name, func(t *testing.T) {
			e, issuer, pkce := oidcEnv(t, inIDToken)
			login := e.get("/login")
			mustContain(t, login, `<a class="button" href="/login/oidc">Se connecter avec son compte de l&#39;établissement</a>`)
			p, callback := e.oidcSignOn(issuer, "test-user@127.0.0.1", "verysecure")
			if p.status != 200 || p.url.Path != "/" {
				t.Fatalf("after sign-on: %d at %s\n%s", p.status, p.url, p.body)
			}
			pkce.mu.Lock()
			if pkce.method != "S256" {
				t.Errorf("code challenge method %q, want S256", pkce.method)
			}
			pkce.mu.Unlock()
			mustContain(t, p, `<span class="who">Test User</span>`, "<h1>Rechercher un dossier</h1>")
			if s := e.post("/search", searchForm(csrfOf(t, p))); s.status != 200 {
				t.Fatalf("search: %d", s.status)
			}
			u := e.fake.users[0]
			if u.ID != "id1" || u.Name != "Test User" || u.Via != server.ViaOIDC || strings.Join(u.Groups, ",") != "scolarite,archives" {
				t.Fatalf("user %+v", u)
			}
			// The callback is good once: replayed, its state is gone.
			if callback == "" {
				t.Fatal("no callback seen")
			}
			r := e.get(strings.TrimPrefix(callback, e.srv.URL))
			if r.status != http.StatusForbidden {
				t.Fatalf("replayed callback: %d", r.status)
			}
			mustContain(t, r, "La connexion par le fournisseur d&#39;identité de l&#39;établissement a échoué : reconnectez-vous.")
			if log := e.log.String(); strings.Contains(log, "test-user") || strings.Contains(log, "Test User") || strings.Contains(log, "id1") {
				t.Errorf("the log names the user:\n%s", log)
			}
		})
	}
}

func TestOIDCWrongPasswordDoesNotSignOn(t *testing.T) {
	e, issuer, _ := oidcEnv(t, true)
	p, _ := e.oidcSignOn(issuer, "test-user@127.0.0.1", "wrong")
	if p.url.Path != "/login/username" {
		t.Fatalf("wrong password ended at %s", p.url)
	}
	if q := e.get("/"); q.url.Path != "/login" {
		t.Fatalf("not signed on, / is %s", q.url.Path)
	}
}

func TestOIDCCallbackWithAForgedState(t *testing.T) {
	e, _, _ := oidcEnv(t, true)
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if p := e.get("/login/oidc"); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.status)
	}
	p := e.get("/login/oidc/callback?state=forged&code=whatever")
	if p.status != http.StatusForbidden {
		t.Fatalf("forged state: %d", p.status)
	}
	if !strings.Contains(e.log.String(), `"step":"state"`) {
		t.Errorf("no warning for the state:\n%s", e.log.String())
	}
}

// The provider over TLS: its certificate is checked, and VERSEMENT_OIDC_CA_FILE is how a
// private CA is given.
func TestOIDCProviderCertificateIsVerified(t *testing.T) {
	certFile, keyFile, _ := certFiles(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "https://" + raw.Addr().String() + "/"
	st := groupsStorage{Storage: storage.NewStorageWithClients(storage.NewUserStore(issuer),
		map[string]*storage.Client{"versement": storage.WebClient("versement", "s", "http://127.0.0.1:1/login/oidc/callback")}), pkce: &pkceSeen{}}
	hs := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}
	go func() { _ = hs.Serve(tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	t.Cleanup(func() { _ = hs.Close() })

	env := map[string]string{server.EnvOIDCIssuer: issuer, server.EnvOIDCClientID: "versement", server.EnvOIDCClientSecret: "s"}
	get := func(k string) string { return env[k] }
	o, err := server.OIDCFromEnv(get)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Addr: "127.0.0.1:0", OIDC: o}
	if _, err := server.New(context.Background(), cfg, &fakeConsultation{}, nil); err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
		t.Fatalf("a provider with an unknown CA: %v", err)
	}
	env[server.EnvOIDCCAFile] = certFile
	if cfg.OIDC, err = server.OIDCFromEnv(get); err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(context.Background(), cfg, &fakeConsultation{}, nil); err != nil {
		t.Fatalf("with the provider's CA: %v", err)
	}
}
