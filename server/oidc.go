package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcFlow is the authorization code flow with PKCE against the establishment's provider.
type oidcFlow struct {
	provider  *oidc.Provider
	verifier  *oidc.IDTokenVerifier
	oauth     oauth2.Config
	client    *http.Client
	userClaim string
	groups    string
}

const callbackPath = "/login/oidc/callback"

func newOIDCFlow(ctx context.Context, st *settings) (*oidcFlow, error) {
	o := st.OIDC
	f := &oidcFlow{client: o.HTTPClient, userClaim: o.UserClaim, groups: o.GroupsClaim}
	if f.client == nil {
		// A provider that does not answer must not hold a sign-on (and its goroutine) forever.
		f.client = &http.Client{Timeout: 30 * time.Second}
	}
	if f.userClaim == "" {
		f.userClaim = "sub"
	}
	if f.groups == "" {
		f.groups = "groups"
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, f.client), o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC provider %s: %w", o.Issuer, err)
	}
	f.provider = p
	f.verifier = p.Verifier(&oidc.Config{ClientID: o.ClientID})
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	redirect := *st.publicURL
	redirect.Path = callbackPath
	f.oauth = oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  redirect.String(),
		Scopes:       append([]string{oidc.ScopeOpenID}, scopes...),
	}
	return f, nil
}

func (f *oidcFlow) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, f.client), f.client)
}

// oidcStart sends the browser to the provider, with state, nonce and the PKCE verifier kept in
// the (anonymous) session.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.oidc == nil {
		s.errorPage(w, rc, http.StatusNotFound, "")
		return
	}
	if err := s.anonymousSession(w, r, rc); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	rc.sess.OIDCState = randomToken(32)
	rc.sess.OIDCNonce = randomToken(32)
	rc.sess.OIDCVerifier = oauth2.GenerateVerifier()
	if err := s.cfg.Sessions.Put(r.Context(), rc.sess); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	url := s.oidc.oauth.AuthCodeURL(rc.sess.OIDCState, oauth2.S256ChallengeOption(rc.sess.OIDCVerifier), oidc.Nonce(rc.sess.OIDCNonce))
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// oidcCallback checks the provider's answer against the session's state, exchanges the code
// (with the PKCE verifier), verifies the ID token and its nonce, and signs the user on.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.oidc == nil {
		s.errorPage(w, rc, http.StatusNotFound, "")
		return
	}
	failed := func(why string, err error) {
		// why and err name the step, never a claim's value.
		s.log.Warn("OIDC sign-on failed", "step", why, "err", err)
		s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("Sign-on through the establishment's provider failed: sign on again."))
	}
	q := r.URL.Query()
	if rc.sess == nil || rc.sess.OIDCState == "" {
		failed("state", errors.New("no sign-on under way in this session"))
		return
	}
	state, nonce, verifier := rc.sess.OIDCState, rc.sess.OIDCNonce, rc.sess.OIDCVerifier
	// One use: a second callback with the same state is refused.
	rc.sess.OIDCState, rc.sess.OIDCNonce, rc.sess.OIDCVerifier = "", "", ""
	if err := s.cfg.Sessions.Put(r.Context(), rc.sess); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		failed("state", errors.New("state does not match the session's"))
		return
	}
	if e := q.Get("error"); e != "" {
		failed("authorization", fmt.Errorf("provider answered %q", e))
		return
	}
	ctx := s.oidc.ctx(r.Context())
	tok, err := s.oidc.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		failed("code exchange", err)
		return
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		failed("id token", errors.New("no id_token in the token response"))
		return
	}
	idt, err := s.oidc.verifier.Verify(ctx, raw)
	if err != nil {
		failed("id token", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		failed("nonce", errors.New("nonce does not match the session's"))
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		failed("claims", err)
		return
	}
	if _, ok := claims[s.oidc.groups]; !ok {
		// Many providers put groups in userinfo only.
		info, err := s.oidc.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			failed("userinfo", err)
			return
		}
		more := map[string]any{}
		if err := info.Claims(&more); err != nil {
			failed("userinfo", err)
			return
		}
		if g, ok := more[s.oidc.groups]; ok {
			claims[s.oidc.groups] = g
		}
		for _, k := range []string{"name", "preferred_username", s.oidc.userClaim} {
			if _, ok := claims[k]; !ok && more[k] != nil {
				claims[k] = more[k]
			}
		}
	}
	u, err := s.oidc.user(claims)
	if err != nil {
		failed("claims", err)
		return
	}
	if err := s.signOn(w, r, rc, u); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (f *oidcFlow) user(claims map[string]any) (*User, error) {
	id, _ := claims[f.userClaim].(string)
	if id == "" {
		return nil, fmt.Errorf("claim %q is missing or not a string", f.userClaim)
	}
	u := &User{ID: id, Name: id, Via: ViaOIDC}
	for _, k := range []string{"name", "preferred_username"} {
		if n, ok := claims[k].(string); ok && strings.TrimSpace(n) != "" {
			u.Name = n
			break
		}
	}
	switch g := claims[f.groups].(type) {
	case nil:
	case string: // some providers send one group as a string
		u.Groups = []string{g}
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				u.Groups = append(u.Groups, s)
			}
		}
	default:
		return nil, fmt.Errorf("claim %q is neither a string nor a list", f.groups)
	}
	return u, nil
}
