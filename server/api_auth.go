package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// apiState is the checked APIConfig with its token verifier.
type apiState struct {
	cfg      APIConfig
	verifier *oidc.IDTokenVerifier
}

var establishmentID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// checkAPI refuses an APIConfig that cannot work, before anything listens.
func checkAPI(a *APIConfig, tls bool) error {
	if len(a.Establishments) == 0 {
		return errors.New("API: no establishment")
	}
	for id, d := range a.Establishments {
		if !establishmentID.MatchString(id) {
			return fmt.Errorf("API: establishment id %q: want letters, digits, '-' or '_' (it is a path segment)", id)
		}
		if d == nil {
			return fmt.Errorf("API: establishment %q has no deposits", id)
		}
	}
	if a.Tokens == nil && a.MTLS == nil {
		return errors.New("API: no authentication: give bearer tokens, client certificates or both")
	}
	if t := a.Tokens; t != nil {
		if t.Issuer == "" || t.Audience == "" || t.ClientEstablishment == nil {
			return errors.New("API tokens: the issuer, the audience and the client's establishment are all needed")
		}
		iss, err := url.Parse(t.Issuer)
		if err != nil || (iss.Scheme != "https" && !(iss.Scheme == "http" && isLoopbackHost(iss.Hostname()))) {
			return fmt.Errorf("API token issuer %q: want https:// (plain http only on loopback, for tests)", t.Issuer)
		}
	}
	if m := a.MTLS; m != nil {
		if m.ClientCAs == nil || m.CertificateEstablishment == nil {
			return errors.New("API client certificates: the CA pool and the certificate's establishment are both needed")
		}
		if !tls {
			return errors.New("API client certificates need the TLS listener: give a certificate and a key file")
		}
	}
	return nil
}

// newAPIState fills in the defaults and discovers the token issuer (ctx bounds that request).
func newAPIState(ctx context.Context, a APIConfig) (*apiState, error) {
	if a.MaxUnitsBytes <= 0 {
		a.MaxUnitsBytes = defaultMaxUnits
	}
	if a.MaxChunkBytes <= 0 {
		a.MaxChunkBytes = defaultMaxChunk
	}
	if a.MaxSIPBytes <= 0 {
		a.MaxSIPBytes = defaultMaxSIP
	}
	st := &apiState{cfg: a}
	if t := a.Tokens; t != nil {
		client := t.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 30 * time.Second}
		}
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), t.Issuer)
		if err != nil {
			return nil, fmt.Errorf("API token issuer %s: %w", t.Issuer, err)
		}
		// The audience check is what keeps a token the provider issued for another service
		// (or a user's ID token for a web client) out.
		st.verifier = p.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), client), &oidc.Config{ClientID: t.Audience})
	}
	return st, nil
}

// apiAuthenticate finds the caller (bearer token, else client certificate) and checks that the
// path's establishment is theirs; otherwise it answers 401 or 403 and returns false.
func (s *Server) apiAuthenticate(w http.ResponseWriter, r *http.Request) (*apiCall, bool) {
	a := s.api
	var est, client string
	var known bool
	if authz := r.Header.Get("Authorization"); authz != "" {
		token, isBearer := strings.CutPrefix(authz, "Bearer ")
		if !isBearer {
			// RFC 9110 scheme names are case-insensitive.
			if len(authz) > 7 && strings.EqualFold(authz[:7], "bearer ") {
				token, isBearer = authz[7:], true
			}
		}
		if a.verifier == nil {
			s.apiUnauthorized(w, "", "bearer tokens are not accepted here: present a client certificate")
			return nil, false
		}
		if !isBearer {
			s.apiUnauthorized(w, `error="invalid_request"`, "only a bearer token is accepted in Authorization")
			return nil, false
		}
		id, err := a.verifier.Verify(r.Context(), strings.TrimSpace(token))
		if err != nil {
			// The cause (expired, wrong audience, signature) helps the operator; the token
			// itself is never logged.
			s.log.Warn("API token refused", "route", infoOf(r).pattern, "err", err)
			s.apiUnauthorized(w, `error="invalid_token"`, "the bearer token is not valid")
			return nil, false
		}
		var claims struct {
			ClientID string `json:"client_id"`
			Azp      string `json:"azp"`
		}
		if err := id.Claims(&claims); err != nil {
			s.apiUnauthorized(w, `error="invalid_token"`, "the bearer token is not valid")
			return nil, false
		}
		client = firstNonEmpty(claims.ClientID, claims.Azp, id.Subject)
		est, known = a.cfg.Tokens.ClientEstablishment(client)
	} else if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && a.cfg.MTLS != nil {
		leaf := r.TLS.VerifiedChains[0][0]
		client = certificateClient(leaf)
		est, known = a.cfg.MTLS.CertificateEstablishment(leaf)
	} else {
		s.apiUnauthorized(w, "", "authentication is needed: a bearer token or a client certificate")
		return nil, false
	}
	info := infoOf(r)
	info.user = s.userHash("api:" + client)
	if !known {
		writeProblem(w, http.StatusForbidden, kindForbidden, "", "this client is not an API account of any establishment")
		return nil, false
	}
	d := a.cfg.Establishments[est]
	if est != r.PathValue("establishment") || d == nil {
		writeProblem(w, http.StatusForbidden, kindForbidden, "establishment", "this client does not deposit for this establishment")
		return nil, false
	}
	return &apiCall{est: est, deposits: d, client: client}, true
}

// apiUnauthorized answers 401 with the Bearer challenge (RFC 6750) when tokens are accepted.
func (s *Server) apiUnauthorized(w http.ResponseWriter, params, detail string) {
	if s.api.verifier != nil {
		ch := `Bearer realm="versement"`
		if params != "" {
			ch += ", " + params
		}
		w.Header().Set("WWW-Authenticate", ch)
	}
	writeProblem(w, http.StatusUnauthorized, kindUnauthorized, "", detail)
}

// certificateClient names a certificate's client for transactions and the ledger: its common
// name, else its issuer and serial.
func certificateClient(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "cert:" + c.Subject.CommonName
	}
	return "cert:" + c.Issuer.String() + "/" + c.SerialNumber.Text(16)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
