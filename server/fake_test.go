package server_test

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/server"
)

// fakeConsultation answers from memory and records what it was asked.
type fakeConsultation struct {
	mu        sync.Mutex
	searches  []server.SearchQuery
	motives   []server.Motive
	users     []server.User
	fiches    []string
	err       error // returned by every call when set
	objectErr error // the download's body fails after its first bytes
}

func (f *fakeConsultation) Motives(tag language.Tag) []server.MotiveCategory {
	if tag == language.English {
		return []server.MotiveCategory{{ID: "access", Label: "Right of access"}, {ID: "diploma", Label: "Diploma verification"}}
	}
	return []server.MotiveCategory{{ID: "access", Label: "Droit d'accès"}, {ID: "diploma", Label: "Vérification de diplôme"}}
}

func (f *fakeConsultation) record(u server.User, m server.Motive) {
	f.users = append(f.users, u)
	f.motives = append(f.motives, m)
}

func (f *fakeConsultation) Search(_ context.Context, u server.User, q server.SearchQuery, m server.Motive) (server.SearchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, q)
	f.record(u, m)
	if f.err != nil {
		return server.SearchResult{}, f.err
	}
	return server.SearchResult{
		Columns: []string{"Nom", "Naissance", "Profil"},
		Hits: []server.Hit{
			{Ref: "ref-apogee-42", Cells: []string{"DUPONT Éléonore", "1990-04-12", "apogee"}},
			{Ref: "ref-apogee-43", Cells: []string{"DUPONT Jean", "1991-01-02", "apogee"}},
		},
	}, nil
}

func (f *fakeConsultation) Fiche(_ context.Context, u server.User, ref string, m server.Motive) (server.Fiche, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fiches = append(f.fiches, ref)
	f.record(u, m)
	if f.err != nil {
		return server.Fiche{}, f.err
	}
	return server.Fiche{
		Title:     "Fiche de DUPONT Éléonore",
		Body:      template.HTML(`<dl><dt>Nom</dt><dd>DUPONT</dd><dt>Référence</dt><dd>` + template.HTMLEscapeString(ref) + `</dd></dl>`),
		Downloads: []server.Download{{ID: "obj/photo-42.jpg", Label: "Photo (JPEG)"}, {ID: "dip.zip", Label: "Dossier complet (zip)"}},
	}, nil
}

type failingReader struct {
	first []byte
	err   error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	return 0, r.err
}

func (f *fakeConsultation) Download(_ context.Context, u server.User, ref, item string, m server.Motive) (server.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(u, m)
	if f.err != nil {
		return server.Object{}, f.err
	}
	content := []byte("bytes of " + item + " in " + ref)
	if f.objectErr != nil {
		return server.Object{Name: "photo.jpg", ContentType: "image/jpeg", Size: -1,
			Body: io.NopCloser(&failingReader{first: content, err: f.objectErr})}, nil
	}
	return server.Object{Name: "photo élève.jpg", ContentType: "image/jpeg", Size: int64(len(content)), Body: io.NopCloser(bytes.NewReader(content))}, nil
}

func (f *fakeConsultation) AccessLog(_ context.Context, u server.User, ref string, m server.Motive) (server.Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(u, m)
	if f.err != nil {
		return server.Table{}, f.err
	}
	return server.Table{Columns: []string{"Quand", "Qui", "Opération"}, Rows: [][]string{{"2026-12-04 03:00", "demo", "view"}}}, nil
}

func (f *fakeConsultation) searchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.searches)
}

// clock is a settable time for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a server under test on a real loopback listener, with a browser-like client.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	fake   *fakeConsultation
	clock  *clock
	log    *syncBuffer
	client *http.Client
}

func demoConfig() server.Config {
	return server.Config{Addr: "127.0.0.1:0", Demo: &server.DemoConfig{Groups: []string{"archives"}}}
}

func newEnv(t *testing.T, cfg server.Config) *env {
	t.Helper()
	return newEnvOn(t, nil, cfg)
}

// newEnvOn serves on ln when not nil (a test that needs the address before the server exists).
func newEnvOn(t *testing.T, ln net.Listener, cfg server.Config) *env {
	t.Helper()
	e := &env{t: t, fake: &fakeConsultation{}, clock: &clock{t: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}, log: &syncBuffer{}}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(context.Background(), cfg, e.fake, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(s)
	if ln != nil {
		e.srv.Listener.Close()
		e.srv.Listener = ln
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.client = newClient(t)
	return e
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

type page struct {
	status int
	header http.Header
	body   string
	url    *url.URL
}

func (e *env) do(req *http.Request) page {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", req.Method, req.URL.Path, err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b), url: resp.Request.URL}
}

func (e *env) get(path string) page {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) post(path string, form url.Values, header ...string) page {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf token in the page (%d):\n%s", p.status, p.body)
	}
	return m[1]
}

// signOnDemo signs the client on as the demo user and returns the search page.
func (e *env) signOnDemo() page {
	e.t.Helper()
	login := e.get("/login")
	p := e.post("/login/demo", url.Values{"csrf": {csrfOf(e.t, login)}})
	if p.status != http.StatusOK || p.url.Path != "/" {
		e.t.Fatalf("demo sign-on: %d at %s:\n%s", p.status, p.url.Path, p.body)
	}
	return p
}

func searchForm(csrf string) url.Values {
	return url.Values{
		"csrf":            {csrf},
		"motive_category": {"access"},
		"motive_text":     {"Demande RGPD n° 2026-118"},
		"text":            {"Dupont-Éléonore"},
		"identifier":      {"21904567"},
		"born":            {"1990-04-12"},
	}
}

var ficheRe = regexp.MustCompile(`href="/fiche/([^"/]+)"`)

func handlesOf(p page) []string {
	var out []string
	for _, m := range ficheRe.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func mustContain(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (%d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

var errBoom = errors.New("index: database is locked")
