package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/versement/versement/server"
)

func init() {
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonDecoder)
}

// ndjsonDecoder reads NDJSON as the array of its lines' values, for the document's schema.
func ndjsonDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var out []any
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// loadOpenAPI loads and validates the repository's document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("loading the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	return doc
}

// validating checks every request and response against the OpenAPI document. A request the
// document refuses must be refused by the server too (4xx); every response must be documented.
type validating struct {
	t      *testing.T
	base   http.RoundTripper
	router routers.Router
	mtls   bool
	mu     sync.Mutex
	seen   map[string]int // "METHOD /path/{x}" → calls checked
}

// newValidating checks the calls to the server at url.
func newValidating(t *testing.T, base http.RoundTripper, url string, mtls bool) *validating {
	doc := loadOpenAPI(t)
	// The document's server is relative ("/"); the router matches absolute URLs.
	doc.Servers = openapi3.Servers{{URL: url}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validating{t: t, base: base, router: router, mtls: mtls, seen: map[string]int{}}
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) == 0 && req.ContentLength == 0 {
			// Else the transport takes an empty body of unknown length and sends it chunked.
			req.Body = http.NoBody
		}
	}
	route, params, ferr := v.router.FindRoute(req)
	var rvi *openapi3filter.RequestValidationInput
	var reqErr error
	if ferr == nil {
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		rvi = &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
			Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: v.authenticated}}
		reqErr = openapi3filter.ValidateRequest(req.Context(), rvi)
	}
	resp, err := v.base.RoundTrip(req)
	if err != nil || ferr != nil {
		return resp, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	op := req.Method + " " + route.Path
	if reqErr != nil && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
		v.t.Errorf("%s: the document refuses the request (%v) but the server answered %d", op, reqErr, resp.StatusCode)
	}
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: rvi, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(rb)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}); err != nil {
		v.t.Errorf("%s: response %d not as documented: %v\n%s", op, resp.StatusCode, err, rb)
	}
	v.mu.Lock()
	v.seen[op]++
	v.mu.Unlock()
	return resp, nil
}

// authenticated is the document's security requirement: a bearer token, or the client's
// certificate on an mTLS connection (which OpenAPI 3.0 cannot express).
func (v *validating) authenticated(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if v.mtls || strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	return errors.New("no bearer token")
}

func (v *validating) operations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var ops []string
	for op := range v.seen {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// apiEnv is the server with the API of two establishments, univ-a and univ-b, whose clients
// get their tokens from a real provider, over a validating client.
type apiEnv struct {
	t        *testing.T
	srv      *httptest.Server
	fakes    map[string]*fakeDeposits
	log      *syncBuffer
	client   *http.Client
	check    *validating
	tokenURL string
}

func newAPIEnv(t *testing.T, tune ...func(*server.APIConfig)) *apiEnv {
	t.Helper()
	issuer, tokenURL := startTokenProvider(t)
	e := &apiEnv{t: t, log: &syncBuffer{}, tokenURL: tokenURL,
		fakes: map[string]*fakeDeposits{"univ-a": newFakeDeposits("univ-a"), "univ-b": newFakeDeposits("univ-b")}}
	api := &server.APIConfig{
		Establishments: map[string]server.Deposits{"univ-a": e.fakes["univ-a"], "univ-b": e.fakes["univ-b"]},
		Tokens:         &server.APITokens{Issuer: issuer, Audience: apiAudience, ClientEstablishment: apiClientEstablishment},
	}
	for _, f := range tune {
		f(api)
	}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", API: api}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(s)
	t.Cleanup(e.srv.Close)
	e.check = newValidating(t, http.DefaultTransport, e.srv.URL, false)
	e.client = &http.Client{Transport: e.check}
	return e
}

func (e *apiEnv) token(client string) string {
	e.t.Helper()
	return clientToken(e.t, e.tokenURL, client)
}

// reply is an answer as a test reads it.
type reply struct {
	status int
	header http.Header
	body   string
}

// call sends method path with body; header holds name, value pairs ("Authorization" included).
func (e *apiEnv) call(method, path string, body []byte, header ...string) reply {
	e.t.Helper()
	return doCall(e.t, e.client, e.srv.URL, method, path, body, header...)
}

func doCall(t *testing.T, c *http.Client, base, method, path string, body []byte, header ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// bearer is the Authorization header of a token.
func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// with appends name, value pairs to a header list.
func with(h []string, more ...string) []string { return append(append([]string{}, h...), more...) }

// wantProblem checks a reply is exactly the problem document want (type and title derived).
func wantProblem(t *testing.T, r reply, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := strings.TrimSpace(r.body); got != want {
		t.Errorf("problem\n got %s\nwant %s", got, want)
	}
}
