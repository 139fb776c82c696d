package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func (s *Server) static(w http.ResponseWriter, _ *http.Request, _ *reqCtx) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(styleCSS)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if rc.user() != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, rc, http.StatusOK)
}

// renderLogin shows the ways to sign on. Only the demo form needs a session (for its token):
// without it, a visitor's login page stores nothing, so that loading it in a loop fills no memory.
func (s *Server) renderLogin(w http.ResponseWriter, rc *reqCtx, status int) {
	if s.cfg.Demo != nil {
		if err := s.anonymousSession(w, rc.r, rc); err != nil {
			s.serverError(w, rc, "session store", err)
			return
		}
	}
	v := s.newView(rc, rc.p.Sprintf("Sign on to the consultation"))
	v.Login = loginView{OIDC: s.oidc != nil, Proxy: s.cfg.Proxy != nil, Demo: s.cfg.Demo != nil}
	if rc.expired || status == http.StatusUnauthorized {
		v.Message = rc.p.Sprintf("Your session has ended: sign on again.")
	}
	s.render(w, rc, status, "login", v)
}

func (s *Server) demoLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.cfg.Demo == nil {
		s.errorPage(w, rc, http.StatusNotFound, "")
		return
	}
	// New refuses the demo user on a listener that is not loopback; a request from elsewhere
	// (a port forwarded to the machine) is refused too.
	if ip, ok := remoteIP(r); !ok || !ip.IsLoopback() {
		s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("The demo user may only sign on from this machine."))
		return
	}
	d := s.cfg.Demo
	u := &User{ID: d.User, Name: d.User, Groups: append([]string(nil), d.Groups...), Via: ViaLocal}
	if err := s.signOn(w, r, rc, u); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Sessions.Delete(r.Context(), rc.sess.ID); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	s.setCookie(w, "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) searchForm(w http.ResponseWriter, _ *http.Request, rc *reqCtx) {
	v := s.newView(rc, rc.p.Sprintf("Search for a dossier"))
	v.Search = &searchView{Motives: s.c.Motives(rc.tag)}
	s.render(w, rc, http.StatusOK, "search", v)
}

// maxMotive bounds the motive's text: a reference and a sentence.
const maxMotive = 1000

func (s *Server) search(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	sv := &searchView{
		Motives: s.c.Motives(rc.tag),
		Motive:  Motive{Category: r.PostFormValue("motive_category"), Text: strings.TrimSpace(r.PostFormValue("motive_text"))},
		Query:   SearchQuery{Text: strings.TrimSpace(r.PostFormValue("text")), Identifier: strings.TrimSpace(r.PostFormValue("identifier"))},
		Born:    strings.TrimSpace(r.PostFormValue("born")),
		Year:    strings.TrimSpace(r.PostFormValue("year")),
	}
	v := s.newView(rc, rc.p.Sprintf("Search for a dossier"))
	v.Search = sv
	if msg := s.checkSearch(rc, sv); msg != "" {
		v.Message = msg
		s.render(w, rc, http.StatusBadRequest, "search", v)
		return
	}
	u := rc.user()
	now := s.cfg.Now()
	if ok, wait := s.limits.allow(u.Via+":"+u.ID, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.errorPage(w, rc, http.StatusTooManyRequests, rc.p.Sprintf("You have made many searches in a short time: wait a minute before searching again."))
		return
	}
	res, err := s.c.Search(r.Context(), *u, sv.Query, sv.Motive)
	if err != nil {
		s.consultError(w, rc, err)
		return
	}
	sv.Done, sv.Result = true, res
	for _, h := range res.Hits {
		sv.Rows = append(sv.Rows, resultRow{Handle: rc.sess.handleFor(h.Ref, sv.Motive, now, now.Add(s.cfg.HandleTTL)), Cells: h.Cells})
	}
	if err := s.cfg.Sessions.Put(r.Context(), rc.sess); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	s.render(w, rc, http.StatusOK, "search", v)
}

// checkSearch fills in sv.Query from the form and says what is wrong with it, if anything.
func (s *Server) checkSearch(rc *reqCtx, sv *searchView) string {
	known := false
	for _, m := range sv.Motives {
		known = known || m.ID == sv.Motive.Category
	}
	switch {
	case sv.Motive.Category == "" || !known:
		return rc.p.Sprintf("Choose the category of the motive.")
	case sv.Motive.Text == "":
		return rc.p.Sprintf("Give the details of the motive.")
	case utf8.RuneCountInString(sv.Motive.Text) > maxMotive:
		return rc.p.Sprintf("The details of the motive are too long (1000 characters at most).")
	}
	if sv.Born != "" {
		t, err := time.Parse(time.DateOnly, sv.Born)
		if err != nil {
			return rc.p.Sprintf("The date of birth is not a date (day/month/year).")
		}
		sv.Query.Born = t
	}
	if sv.Year != "" {
		y, err := strconv.Atoi(sv.Year)
		if err != nil || y < 1900 || y > 2200 {
			return rc.p.Sprintf("The year of registration is not a year.")
		}
		sv.Query.Year = y
	}
	if sv.Query.Text == "" && sv.Query.Identifier == "" && sv.Query.Year == 0 {
		return rc.p.Sprintf("Give a name, an identifier or a year of registration.")
	}
	return ""
}

// handleOf is the live dossier handle of the route, or a 404 page saying the link expired.
func (s *Server) handleOf(w http.ResponseWriter, r *http.Request, rc *reqCtx) (string, Handle, bool) {
	id := r.PathValue("h")
	h, ok := rc.sess.handle(id, s.cfg.Now())
	if !ok {
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("This link has expired or belongs to another session: search again."))
	}
	return id, h, ok
}

func (s *Server) fiche(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, h, ok := s.handleOf(w, r, rc)
	if !ok {
		return
	}
	f, err := s.c.Fiche(r.Context(), *rc.user(), h.Ref, h.Motive)
	if err != nil {
		s.consultError(w, rc, err)
		return
	}
	h.Downloads = h.Downloads[:0]
	for _, d := range f.Downloads {
		h.Downloads = append(h.Downloads, d.ID)
	}
	rc.sess.Handles[id] = h
	if err := s.cfg.Sessions.Put(r.Context(), rc.sess); err != nil {
		s.serverError(w, rc, "session store", err)
		return
	}
	v := s.newView(rc, f.Title)
	v.Fiche = &ficheView{Fiche: f, Handle: id, MotiveLabel: h.Motive.Category, MotiveText: h.Motive.Text}
	for _, m := range s.c.Motives(rc.tag) {
		if m.ID == h.Motive.Category {
			v.Fiche.MotiveLabel = m.Label
		}
	}
	s.render(w, rc, http.StatusOK, "fiche", v)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	_, h, ok := s.handleOf(w, r, rc)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(h.Downloads) {
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("This link has expired or belongs to another session: search again."))
		return
	}
	obj, err := s.c.Download(r.Context(), *rc.user(), h.Ref, h.Downloads[n], h.Motive)
	if err != nil {
		s.consultError(w, rc, err)
		return
	}
	defer obj.Body.Close()
	hd := w.Header()
	ct := obj.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", contentDisposition(obj.Name))
	// Opened in the browser by mistake, an object (an HTML rendering from the SIP) runs
	// nothing and reaches nothing.
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if obj.Size >= 0 {
		hd.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	}
	if _, err := io.Copy(w, obj.Body); err != nil {
		if errors.Is(err, r.Context().Err()) {
			return
		}
		// The headers are gone: cutting the connection is the only way left to tell the
		// browser the file is not whole.
		s.log.Error("download cut short", "route", rc.info.pattern, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// contentDisposition offers name as an attachment: an ASCII fallback with only safe characters,
// and the UTF-8 name as RFC 6266 allows.
func contentDisposition(name string) string {
	if name == "" {
		name = "document"
	}
	var ascii, enc strings.Builder
	for _, r := range name {
		switch {
		case r < 0x80 && (r == '.' || r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')):
			ascii.WriteRune(r)
		default:
			ascii.WriteByte('_')
		}
	}
	for _, b := range []byte(name) {
		if b < 0x80 && (b == '.' || b == '-' || b == '_' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return fmt.Sprintf("attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii.String(), enc.String())
}

func (s *Server) accessLog(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, h, ok := s.handleOf(w, r, rc)
	if !ok {
		return
	}
	t, err := s.c.AccessLog(r.Context(), *rc.user(), h.Ref, h.Motive)
	if err != nil {
		s.consultError(w, rc, err)
		return
	}
	v := s.newView(rc, rc.p.Sprintf("Access log of the dossier"))
	v.Log, v.Handle = &t, id
	s.render(w, rc, http.StatusOK, "accesslog", v)
}
