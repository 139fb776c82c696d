package server

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/lang"
)

// reqCtx is one request as the pages see it: its language, its session (nil when none) and
// the log line it fills in.
type reqCtx struct {
	r       *http.Request
	tag     language.Tag
	p       *message.Printer
	sess    *Session
	expired bool // the request came with a session that had expired
	info    *reqInfo
}

func (rc *reqCtx) user() *User {
	if rc.sess == nil {
		return nil
	}
	return rc.sess.User
}

type pageFunc func(http.ResponseWriter, *http.Request, *reqCtx)

// maxForm bounds a form's body: the search form is a few hundred bytes.
const maxForm = 64 << 10

// handle registers fn at pattern. Every such route records its pattern for the log, finds the
// session, and, for POST, checks the form's synchronizer token (the cross-origin check is done
// before, for every route). With needUser, a request without a signed-on user goes to the
// login page.
func (s *Server) handle(mux *http.ServeMux, pattern string, needUser bool, fn pageFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rc := s.begin(w, r)
		if err := s.loadSession(w, r, rc); err != nil {
			s.serverError(w, rc, "session store", err)
			return
		}
		if needUser && rc.user() == nil {
			// An ended session is told so where it ended; a newcomer goes to the login page.
			if r.Method == http.MethodGet && !rc.expired {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.renderLogin(w, rc, http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, rc, http.StatusBadRequest, rc.p.Sprintf("The form could not be read."))
				return
			}
			if rc.sess == nil || !tokenEqual(r.PostFormValue("csrf"), rc.sess.CSRF) {
				s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("This form has expired or was not sent from this site: open the page again and start over."))
				return
			}
		}
		fn(w, r, rc)
	})
}

// begin records the route and picks the language.
func (s *Server) begin(_ http.ResponseWriter, r *http.Request) *reqCtx {
	info := infoOf(r)
	if r.Pattern != "" {
		info.pattern = r.Pattern
	}
	tag := s.langOf(r)
	return &reqCtx{r: r, tag: tag, p: lang.Printer(tag), info: info}
}

var langs = language.NewMatcher([]language.Tag{language.French, language.English})

// langOf is the configured language, else the browser's first of French and English, else
// French: the users are French archives services.
func (s *Server) langOf(r *http.Request) language.Tag {
	if s.cfg.langForced {
		return s.cfg.lang
	}
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return language.French
	}
	tags, _, err := language.ParseAcceptLanguage(al)
	if err != nil || len(tags) == 0 {
		return language.French
	}
	_, i, conf := langs.Match(tags...)
	if conf == language.No {
		return language.French
	}
	if i == 1 {
		return language.English
	}
	return language.French
}

func tokenEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) cookieName() string {
	if s.cfg.secure {
		// __Host-: the browser takes it only with Secure, Path=/ and no Domain, so no
		// neighbouring host of the university can set it.
		return "__Host-versement"
	}
	return "versement"
}

func (s *Server) setCookie(w http.ResponseWriter, id string) {
	c := &http.Cookie{
		Name:     s.cookieName(),
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.cfg.secure,
		// Lax, not Strict: the OIDC provider's redirect back to the callback is a cross-site
		// navigation, which must carry the cookie holding the flow's state.
		SameSite: http.SameSiteLaxMode,
	}
	if id == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// loadSession finds the request's session, ends it when expired, and signs on the user a
// trusted proxy names.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	now := s.cfg.Now()
	// Swept after this request's own session is looked at, so that it is told it expired.
	defer s.sweep(now)
	ctx := r.Context()
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		sess, err := s.cfg.Sessions.Get(ctx, c.Value)
		if err != nil {
			return err
		}
		if sess != nil && sess.expired(now, s.cfg.IdleTimeout, s.cfg.AbsoluteTimeout) {
			if err := s.cfg.Sessions.Delete(ctx, sess.ID); err != nil {
				return err
			}
			rc.expired = sess.User != nil
			sess = nil
		}
		if sess != nil {
			sess.LastSeen = now
			if err := s.cfg.Sessions.Put(ctx, sess); err != nil {
				return err
			}
			rc.sess = sess
		}
	}
	if s.cfg.Proxy != nil {
		if err := s.proxySignOn(w, r, rc); err != nil {
			return err
		}
	}
	if u := rc.user(); u != nil {
		rc.info.user = s.userHash(u.Via + ":" + u.ID)
	}
	return nil
}

// proxySignOn believes the proxy's headers from a trusted proxy only. From elsewhere they are
// someone trying to be someone else, or a proxy missing from the configuration: a warning, with
// neither the values nor the address.
func (s *Server) proxySignOn(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p := s.cfg.Proxy
	id := strings.TrimSpace(r.Header.Get(p.UserHeader))
	present := id != "" || (p.GroupsHeader != "" && r.Header.Get(p.GroupsHeader) != "")
	ip, ok := remoteIP(r)
	trusted := false
	for _, pre := range p.TrustedProxies {
		if ok && pre.Contains(ip) {
			trusted = true
			break
		}
	}
	if !trusted {
		if present {
			s.log.Warn("sign-on header from an address that is not a trusted proxy: ignored", "header", p.UserHeader)
		}
		return nil
	}
	if id == "" {
		// The proxy no longer names anyone: the person signed off there.
		if u := rc.user(); u != nil && u.Via == ViaProxy {
			rc.sess.User = nil
		}
		return nil
	}
	u := &User{ID: id, Name: id, Via: ViaProxy}
	if p.NameHeader != "" {
		if n := strings.TrimSpace(r.Header.Get(p.NameHeader)); n != "" {
			u.Name = n
		}
	}
	if p.GroupsHeader != "" {
		for g := range strings.SplitSeq(r.Header.Get(p.GroupsHeader), p.GroupsSeparator) {
			if g = strings.TrimSpace(g); g != "" {
				u.Groups = append(u.Groups, g)
			}
		}
	}
	if cur := rc.user(); cur != nil && cur.Via == ViaProxy && cur.ID == u.ID {
		rc.sess.User = u // the proxy is the authority on groups: take them fresh each time
		return s.cfg.Sessions.Put(r.Context(), rc.sess)
	}
	return s.signOn(w, r, rc, u)
}

// signOn gives u a new session, with a new id and token, and ends the one the browser had: a
// session id known before sign-on (fixation) is worth nothing after.
func (s *Server) signOn(w http.ResponseWriter, r *http.Request, rc *reqCtx, u *User) error {
	ctx := r.Context()
	if rc.sess != nil {
		if err := s.cfg.Sessions.Delete(ctx, rc.sess.ID); err != nil {
			return err
		}
	}
	now := s.cfg.Now()
	sess := &Session{ID: randomToken(32), CSRF: randomToken(32), Created: now, LastSeen: now, User: u}
	if err := s.cfg.Sessions.Put(ctx, sess); err != nil {
		return err
	}
	s.setCookie(w, sess.ID)
	rc.sess = sess
	rc.info.user = s.userHash(u.Via + ":" + u.ID)
	return nil
}

// anonymousSession is the session of someone not signed on yet: it holds the login form's token
// and the OIDC flow's state.
func (s *Server) anonymousSession(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if rc.sess != nil {
		return nil
	}
	now := s.cfg.Now()
	sess := &Session{ID: randomToken(32), CSRF: randomToken(32), Created: now, LastSeen: now}
	if err := s.cfg.Sessions.Put(r.Context(), sess); err != nil {
		return err
	}
	s.setCookie(w, sess.ID)
	rc.sess = sess
	return nil
}

const sweepEvery = time.Minute

// sweep drops expired sessions of the memory store, at most once a minute.
func (s *Server) sweep(now time.Time) {
	ms, ok := s.cfg.Sessions.(*memoryStore)
	if !ok {
		return
	}
	s.sweepMu.Lock()
	due := now.Sub(s.swept) >= sweepEvery
	if due {
		s.swept = now
	}
	s.sweepMu.Unlock()
	if due {
		ms.sweep(now, s.cfg.IdleTimeout, s.cfg.AbsoluteTimeout)
	}
}
