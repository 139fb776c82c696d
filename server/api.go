package server

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"time"

	"github.com/versement/versement/deposit"
)

// Deposits is one establishment's deposits as the API reaches them: the method set of
// *deposit.Service (its worker's Process aside). Every id is a transaction of that establishment
// only; by is the API client, for the transaction and the ledger.
type Deposits interface {
	Create(ctx context.Context, h deposit.Header, by string) (deposit.Transaction, error)
	Get(ctx context.Context, id string) (deposit.Transaction, error)
	// AddUnits reads NDJSON or a JSON array of dossier documents.
	AddUnits(ctx context.Context, id string, r io.Reader, by string) (int, error)
	PutChunk(ctx context.Context, id string, c deposit.Chunk, r io.Reader) (deposit.Object, error)
	Object(ctx context.Context, id, name string) (deposit.Object, error)
	Close(ctx context.Context, id, by string) (deposit.Transaction, error)
	ATR(ctx context.Context, id string) (io.ReadCloser, error)
	SubmitSIP(ctx context.Context, r io.Reader, by string) (deposit.Transaction, error)
}

// APIConfig is the deposit API (/api/v1/, docs/api.md): other applications open transactions
// of dossiers and objects, or submit finished SIPs, each for its own establishment. Its accounts
// are API-only: an OAuth2 bearer token or a client certificate, never a session cookie.
type APIConfig struct {
	// Establishments are the deposits of each establishment, by its id (the {establishment} of
	// the API's paths).
	Establishments map[string]Deposits
	// Tokens and MTLS are the two ways a client authenticates; at least one is needed.
	Tokens *APITokens
	MTLS   *APIMTLS
	// MaxUnitsBytes bounds one request of units (default 64 MiB), MaxChunkBytes one chunk of an
	// object (default 64 MiB), MaxSIPBytes a submitted SIP (default 4 GiB).
	MaxUnitsBytes, MaxChunkBytes, MaxSIPBytes int64
}

// APITokens are OAuth2 access tokens in JWT form (RFC 9068), as the provider issues them to an
// application by the client-credentials grant, verified against the provider's keys (OIDC
// discovery) for this issuer and audience.
type APITokens struct {
	Issuer   string // exactly as the provider's discovery document says it
	Audience string // the aud the provider puts in the API's tokens
	// ClientEstablishment maps the token's client (its client_id claim, else azp, else sub)
	// to the establishment it deposits for; false: not an API account.
	ClientEstablishment func(clientID string) (string, bool)
	// HTTPClient talks to the provider; default a client with a 30 s timeout.
	HTTPClient *http.Client
}

// APIMTLS is authentication by a client certificate on the TLS listener, which then asks for
// one (and still accepts connections without, for bearer tokens and the pages).
type APIMTLS struct {
	ClientCAs *x509.CertPool
	// CertificateEstablishment maps a verified client certificate (the chain's leaf) to its
	// establishment; false: not an API account.
	CertificateEstablishment func(*x509.Certificate) (string, bool)
}

const (
	defaultMaxUnits  = 64 << 20
	defaultMaxChunk  = 64 << 20
	defaultMaxSIP    = 4 << 30
	maxHeaderBody    = 64 << 10 // a transaction's header is a few hundred bytes
	apiPrefix        = "/api/v1"
	estPath          = apiPrefix + "/establishments/{establishment}"
	txPath           = estPath + "/transactions/{id}"
	minUploadRate    = 256 << 10 // bytes/s a body must at least come at, for its read deadline
	uploadDeadlineAt = time.Minute
)

// apiRoute is one operation of the API. The routes are registered from apiRoutes and the test
// compares the table with the OpenAPI document, both ways.
type apiRoute struct {
	Method, Path string // Path as in the OpenAPI document; {x} is also the ServeMux's wildcard
	public       bool   // no authentication (the document itself)
	fn           func(*Server, http.ResponseWriter, *http.Request, *apiCall)
}

var apiRoutes = []apiRoute{
	{Method: "GET", Path: apiPrefix + "/openapi.yaml", public: true, fn: (*Server).apiDocument},
	{Method: "POST", Path: estPath + "/transactions", fn: (*Server).apiCreate},
	{Method: "GET", Path: txPath, fn: (*Server).apiStatus},
	{Method: "POST", Path: txPath + "/units", fn: (*Server).apiUnits},
	{Method: "PUT", Path: txPath + "/objects/{name}", fn: (*Server).apiPutChunk},
	{Method: "GET", Path: txPath + "/objects/{name}", fn: (*Server).apiObject},
	{Method: "HEAD", Path: txPath + "/objects/{name}", fn: (*Server).apiObject},
	{Method: "POST", Path: txPath + "/close", fn: (*Server).apiClose},
	{Method: "GET", Path: txPath + "/atr", fn: (*Server).apiATR},
	{Method: "POST", Path: estPath + "/sips", fn: (*Server).apiSubmitSIP},
}

// apiCall is an authenticated call: the caller's establishment (the path's, checked) and client.
type apiCall struct {
	est      string
	deposits Deposits
	client   string
}

// apiHandler serves /api/: its routes, and problem documents for what matches none.
func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range apiRoutes {
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			infoOf(r).pattern = r.Pattern
			if rt.public {
				rt.fn(s, w, r, nil)
				return
			}
			call, ok := s.apiAuthenticate(w, r)
			if !ok {
				return
			}
			rt.fn(s, w, r, call)
		})
	}
	cop := http.NewCrossOriginProtection()
	// A browser holding a client certificate would send it on a forged cross-site request.
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusForbidden, kindForbidden, "", "cross-origin requests are refused")
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// ServeHTTP, not h: the mux sets the pattern and the path's values as it serves.
			mux.ServeHTTP(w, r)
			return
		}
		// No route: the mux's answer is 404 or 405 with Allow; keep its status and Allow, in
		// a problem document.
		rec := &statusOnly{h: http.Header{}}
		h.ServeHTTP(rec, r)
		if a := rec.h.Get("Allow"); a != "" {
			w.Header().Set("Allow", a)
		}
		if rec.code == http.StatusMethodNotAllowed {
			writeProblem(w, rec.code, kindMethod, "", "this method is not allowed here")
			return
		}
		writeProblem(w, http.StatusNotFound, string(deposit.NotFound), "", "no such API route")
	}))
}

// statusOnly keeps a handler's status and headers and drops its body.
type statusOnly struct {
	h    http.Header
	code int
}

func (s *statusOnly) Header() http.Header         { return s.h }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }
