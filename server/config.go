package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/time/rate"
)

// Config is how `versement serve` runs. At least one sign-on (OIDC, Proxy or Demo) is needed.
type Config struct {
	// Addr is the listening address, host:port. Plain HTTP (no CertFile) and the demo user are
	// refused unless its host is a loopback IP (127.0.0.1, ::1).
	Addr string
	// CertFile and KeyFile are the PEM certificate chain and key of the TLS listener.
	CertFile, KeyFile string
	// PublicURL is the address people's browsers use ("https://archives.univ.example/"), when it
	// differs from Addr (behind a reverse proxy): the OIDC redirect URL is built from it, and
	// an https PublicURL makes the session cookie Secure even on a plain loopback listener.
	PublicURL string
	// Lang forces the pages' language ("fr", "en"); empty follows the browser's Accept-Language,
	// French when it says nothing.
	Lang string

	OIDC  *OIDCConfig
	Proxy *ProxyConfig
	Demo  *DemoConfig

	// IdleTimeout ends a session not used for that long (default 15 min); AbsoluteTimeout ends
	// it that long after sign-on whatever happens (default 8 h).
	IdleTimeout, AbsoluteTimeout time.Duration
	// HandleTTL is how long a dossier's link on a results page stays valid (default 30 min).
	HandleTTL time.Duration
	// SearchRate and SearchBurst bound the searches of one user (default 20 a minute, burst 10).
	SearchRate  rate.Limit
	SearchBurst int

	// Eliminations, when not nil, adds the pages of the proposals of elimination: their review
	// and the archives' visa recorded in a form (/eliminations).
	Eliminations Eliminations

	// API, when not nil, adds the deposit API (/api/v1/, docs/api.md). With the API alone (no
	// sign-on configured), the server serves the API only, and no Consultation is needed.
	API *APIConfig

	// Sessions keeps the sessions; default NewMemoryStore().
	Sessions SessionStore
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// LogKey keys the hash of user IDs in the request log, so that an operator can follow one
	// user's requests without the log naming them; default a random key for this process.
	LogKey []byte
}

// OIDCConfig is the establishment's OpenID Connect provider. Its values come from the
// environment or files (OIDCFromEnv), never from flags: a flag shows in ps.
type OIDCConfig struct {
	Issuer       string // exactly as the provider's discovery document says it
	ClientID     string
	ClientSecret string
	// Scopes are asked besides "openid"; default profile and email.
	Scopes []string
	// UserClaim names the claim of User.ID (default "sub"); GroupsClaim the claim of
	// User.Groups (default "groups"), read from the ID token, or from userinfo when absent there.
	UserClaim, GroupsClaim string
	// HTTPClient talks to the provider; default a client with a 30 s timeout. TLS verification stays on:
	// give a client whose RootCAs hold the provider's CA (OIDCFromEnv does from
	// VERSEMENT_OIDC_CA_FILE).
	HTTPClient *http.Client
}

// ProxyConfig is sign-on by a reverse proxy in front of the server (CAS, Shibboleth) that
// authenticates people and names them in request headers. The headers are believed only from
// TrustedProxies; from anywhere else they are ignored and a warning is logged.
type ProxyConfig struct {
	UserHeader   string // e.g. "REMOTE_USER" or "X-Remote-User"
	NameHeader   string // optional display name
	GroupsHeader string // optional; groups separated by GroupsSeparator
	// GroupsSeparator splits GroupsHeader (default ";", as Shibboleth joins attribute values).
	GroupsSeparator string
	TrustedProxies  []netip.Prefix
}

// DemoConfig is a local user for a demonstration on one's own machine, signed on by a button:
// refused unless the server listens on loopback.
type DemoConfig struct {
	User   string // default "demo"
	Groups []string
}

const (
	defaultIdle      = 15 * time.Minute
	defaultAbsolute  = 8 * time.Hour
	defaultHandleTTL = 30 * time.Minute
)

// settings is a checked Config with defaults filled in.
type settings struct {
	Config
	tls        bool // the listener speaks TLS
	pages      bool // a sign-on is configured: the consultation pages are served
	secure     bool // the browser talks HTTPS to us: Secure cookies, __Host- prefix, HSTS
	loopback   bool
	publicURL  *url.URL
	cert       *tls.Certificate
	langForced bool
	lang       language.Tag
}

func check(cfg Config) (*settings, error) {
	s := &settings{Config: cfg}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening address %q: %w", cfg.Addr, err)
	}
	s.loopback = isLoopbackHost(host)
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		s.cert, s.tls = &cert, true
	} else if !s.loopback {
		return nil, fmt.Errorf("plain HTTP is only for a loopback address (127.0.0.1 or ::1), not %q: give a certificate and a key file", cfg.Addr)
	}
	if cfg.Demo != nil && !s.loopback {
		return nil, fmt.Errorf("the demo user is only for a server listening on 127.0.0.1 or ::1, not %q", cfg.Addr)
	}
	if cfg.OIDC == nil && cfg.Proxy == nil && cfg.Demo == nil && cfg.API == nil {
		return nil, errors.New("no sign-on configured: give OIDC, a trusted proxy or (on loopback) the demo user")
	}
	if cfg.API != nil {
		if err := checkAPI(cfg.API, s.tls); err != nil {
			return nil, err
		}
	}
	s.pages = cfg.OIDC != nil || cfg.Proxy != nil || cfg.Demo != nil
	pub := cfg.PublicURL
	if pub == "" {
		scheme := "http"
		if s.tls {
			scheme = "https"
		}
		pub = scheme + "://" + cfg.Addr + "/"
	}
	s.publicURL, err = url.Parse(pub)
	if err != nil || (s.publicURL.Scheme != "http" && s.publicURL.Scheme != "https") || s.publicURL.Host == "" {
		return nil, fmt.Errorf("public URL %q: want http(s)://host[:port]/", pub)
	}
	s.secure = s.tls || s.publicURL.Scheme == "https"
	if s.publicURL.Scheme == "http" && !isLoopbackHost(s.publicURL.Hostname()) {
		return nil, fmt.Errorf("public URL %q: plain HTTP is only for loopback", pub)
	}
	if p := cfg.Proxy; p != nil {
		if p.UserHeader == "" {
			return nil, errors.New("trusted proxy: the user header is not named")
		}
		if len(p.TrustedProxies) == 0 {
			return nil, errors.New("trusted proxy: no proxy address is trusted")
		}
		if p.GroupsSeparator == "" {
			s.Proxy = &ProxyConfig{}
			*s.Proxy = *p
			s.Proxy.GroupsSeparator = ";"
		}
	}
	if o := cfg.OIDC; o != nil {
		if o.Issuer == "" || o.ClientID == "" || o.ClientSecret == "" {
			return nil, errors.New("OIDC: the issuer, client id and client secret are all needed")
		}
		iss, err := url.Parse(o.Issuer)
		if err != nil || (iss.Scheme != "https" && !(iss.Scheme == "http" && isLoopbackHost(iss.Hostname()))) {
			return nil, fmt.Errorf("OIDC issuer %q: want https:// (plain http only on loopback, for tests)", o.Issuer)
		}
	}
	if s.Demo != nil && s.Demo.User == "" {
		d := *s.Demo
		d.User = "demo"
		s.Demo = &d
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = defaultIdle
	}
	if s.AbsoluteTimeout <= 0 {
		s.AbsoluteTimeout = defaultAbsolute
	}
	if s.HandleTTL <= 0 {
		s.HandleTTL = defaultHandleTTL
	}
	if s.SearchRate <= 0 {
		s.SearchRate = rate.Every(3 * time.Second)
	}
	if s.SearchBurst <= 0 {
		s.SearchBurst = 10
	}
	if s.Sessions == nil {
		s.Sessions = NewMemoryStore()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if len(s.LogKey) == 0 {
		s.LogKey = []byte(randomToken(32))
	}
	if cfg.Lang != "" {
		s.langForced = true
		s.lang = language.English
		if strings.HasPrefix(strings.ToLower(cfg.Lang), "fr") {
			s.lang = language.French
		}
	}
	return s, nil
}

// isLoopbackHost says whether host is a loopback IP literal. A name such as "localhost" is not
// taken: what it resolves to is not ours to trust.
func isLoopbackHost(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// remoteIP is the address of the request's peer (the proxy, behind one).
func remoteIP(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
