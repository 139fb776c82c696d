// Package server is the web server of `versement serve`: sign-on (OpenID Connect, a trusted
// reverse proxy's header, or a demo user on loopback), server-side sessions, CSRF protection,
// strict security headers, and the consultation pages (search with a motive, results, fiche,
// downloads, access log), and, with Config.Eliminations, the proposals of elimination, where the
// archives service reviews a proposal and records its visa in a form. What may be seen and the
// access log are the Consultation's business, who may record a visa and the ledger the
// Eliminations'; the server renders, signs on and protects, and keeps personal data out of URLs
// and its log. With Config.API, it also serves the deposit API (/api/v1/, docs/api.md) to
// applications authenticated by a bearer token or a client certificate, each for its own
// establishment's Deposits.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Server is the http.Handler of the consultation pages.
type Server struct {
	cfg     *settings
	c       Consultation
	log     *slog.Logger
	oidc    *oidcFlow
	limits  *limiters
	handler http.Handler
	pages   *pages
	api     *apiState // nil without Config.API
	sweepMu sync.Mutex
	swept   time.Time
}

// New checks cfg, discovers the OIDC provider when there is one (ctx bounds that request), and
// returns the server. It refuses plain HTTP and the demo user unless cfg.Addr is loopback.
// logger receives the request log and warnings; nil discards them.
func New(ctx context.Context, cfg Config, c Consultation, logger *slog.Logger) (*Server, error) {
	st, err := check(cfg)
	if err != nil {
		return nil, err
	}
	if c == nil && st.pages {
		return nil, errors.New("server: no consultation")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: st, c: c, log: logger, limits: newLimiters(st.SearchRate, st.SearchBurst)}
	if st.OIDC != nil {
		if s.oidc, err = newOIDCFlow(ctx, st); err != nil {
			return nil, err
		}
	}
	if st.API != nil {
		if s.api, err = newAPIState(ctx, *st.API); err != nil {
			return nil, err
		}
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) routes() http.Handler {
	top := http.NewServeMux()
	if s.api != nil {
		// The API is not a browser surface: no session, no form token, its own problem
		// documents; the security headers and the request log stay.
		top.Handle("/api/", s.apiHandler())
	}
	if !s.cfg.pages {
		top.Handle("/", http.NotFoundHandler())
		return s.logRequests(s.securityHeaders(top))
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET /static/style.css", false, s.static)
	s.handle(mux, "GET /{$}", true, s.searchForm)
	s.handle(mux, "POST /search", true, s.search)
	s.handle(mux, "GET /fiche/{h}", true, s.fiche)
	s.handle(mux, "GET /fiche/{h}/object/{n}", true, s.download)
	s.handle(mux, "GET /fiche/{h}/access-log", true, s.accessLog)
	if s.cfg.Eliminations != nil {
		s.handle(mux, "GET /eliminations", true, s.proposalsPage)
		s.handle(mux, "GET /eliminations/{id}", true, s.proposalPage)
		s.handle(mux, "GET /eliminations/{id}/bordereau", true, s.bordereauPage)
		s.handle(mux, "POST /eliminations/{id}/visa", true, s.recordVisa)
	}
	s.handle(mux, "GET /login", false, s.loginPage)
	s.handle(mux, "POST /login/demo", false, s.demoLogin)
	s.handle(mux, "GET /login/oidc", false, s.oidcStart)
	s.handle(mux, "GET /login/oidc/callback", false, s.oidcCallback)
	s.handle(mux, "POST /logout", false, s.logout)
	s.handle(mux, "/", false, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		s.errorPage(w, rc, http.StatusNotFound, "")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := s.begin(w, r)
		s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("This form was sent from another site: it is refused."))
	}))
	top.Handle("/", cop.Handler(mux))
	return s.logRequests(s.securityHeaders(top))
}

// ServeHTTP serves the pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// ListenAndServe serves on cfg.Addr, over TLS when the configuration has a certificate, until
// ctx is done; then it lets the requests under way finish for up to 10 s.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener the caller opened on cfg.Addr. A listener that is not on
// loopback is refused when the configuration is only fit for loopback (plain HTTP, demo user).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.cfg.tls || s.cfg.Demo != nil {
		ap, err := netip.ParseAddrPort(ln.Addr().String())
		if err != nil || !ap.Addr().IsLoopback() {
			return fmt.Errorf("listener %s is not on loopback: plain HTTP and the demo user are only for 127.0.0.1 or ::1", ln.Addr())
		}
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// The standard library logs malformed requests with the client's address; the request
		// log is the only log this server writes.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	if s.cfg.tls {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*s.cfg.cert}}
		if s.api != nil && s.api.cfg.MTLS != nil {
			// Asked, not required: browsers on the pages and token clients present none.
			hs.TLSConfig.ClientAuth = tls.VerifyClientCertIfGiven
			hs.TLSConfig.ClientCAs = s.api.cfg.MTLS.ClientCAs
		}
		// ServeTLS, not a tls.Listener: it offers HTTP/2 as well.
		go func() { done <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { done <- hs.Serve(ln) }()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shut); err != nil {
			return err
		}
		return nil
	}
}
