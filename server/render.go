package server

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"golang.org/x/text/message"

	"github.com/versement/versement/internal/lang"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	funcs := template.FuncMap{
		// t translates an English message of messages.go; messages have no verbs.
		"t": func(p *message.Printer, key string) string { return p.Sprintf(key) },
		// lotLine is a lot's line as the paper bordereau numbers it: L001 of its proposal.
		"lotLine": func(lot, proposal string) string { return strings.TrimPrefix(lot, proposal+"/") },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	ps := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"login", "search", "fiche", "accesslog", "error", "eliminations", "proposal"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		ps.byName[name] = t
	}
	return ps, nil
}

// view is what every page's template reads.
type view struct {
	L       *message.Printer
	Lang    string
	Title   string
	User    *User
	CSRF    string
	Message string

	Login  loginView
	Search *searchView
	Fiche  *ficheView
	Log    *Table
	Handle string

	// Elim: the server has the pages of the proposals of elimination (a link in the header).
	Elim      bool
	Proposals []ProposalSummary
	Proposal  *proposalView
}

type loginView struct{ OIDC, Proxy, Demo bool }

type searchView struct {
	Motives []MotiveCategory
	Motive  Motive
	Query   SearchQuery
	Born    string
	Year    string
	Done    bool
	Result  SearchResult
	Rows    []resultRow
}

type resultRow struct {
	Handle string
	Cells  []string
}

type ficheView struct {
	Fiche  Fiche
	Handle string
	// The motive the fiche was opened for, printed with it.
	MotiveLabel, MotiveText string
}

func (s *Server) newView(rc *reqCtx, title string) *view {
	v := &view{L: rc.p, Lang: "fr", Title: title, Elim: s.cfg.Eliminations != nil}
	if !lang.IsFrench(rc.tag) {
		v.Lang = "en"
	}
	if rc.sess != nil {
		v.User, v.CSRF = rc.sess.User, rc.sess.CSRF
	}
	return v
}

// render writes page name with status; the page is built in memory first, so that a template
// error gives a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, rc *reqCtx, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("page template failed", "page", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, rc *reqCtx, status int, msg string) {
	var title string
	switch status {
	case http.StatusBadRequest:
		title = rc.p.Sprintf("Request not understood")
	case http.StatusUnauthorized:
		title = rc.p.Sprintf("Sign on to the consultation")
	case http.StatusForbidden:
		title = rc.p.Sprintf("Access refused")
	case http.StatusNotFound:
		title = rc.p.Sprintf("Page not found")
		if msg == "" {
			msg = rc.p.Sprintf("There is no page at this address.")
		}
	case http.StatusTooManyRequests:
		title = rc.p.Sprintf("Too many searches")
	default:
		title = rc.p.Sprintf("The server failed")
		if msg == "" {
			msg = rc.p.Sprintf("The server could not answer. Try again later; if it goes on, tell the administrator.")
		}
	}
	v := s.newView(rc, title)
	v.Message = msg
	s.render(w, rc, status, "error", v)
}

// serverError logs err (which carries no personal data, see Consultation) and shows a 500 page
// without it.
func (s *Server) serverError(w http.ResponseWriter, rc *reqCtx, what string, err error) {
	s.log.Error("request failed", "route", rc.info.pattern, "what", what, "err", err)
	s.errorPage(w, rc, http.StatusInternalServerError, "")
}

// consultError shows the page of an error from the Consultation.
func (s *Server) consultError(w http.ResponseWriter, rc *reqCtx, err error) {
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		s.errorPage(w, rc, http.StatusForbidden, ref.Message)
	case errors.Is(err, ErrRefused):
		s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("Your roles do not allow this consultation."))
	case errors.Is(err, ErrNotFound):
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("This dossier is not in the archives, or no longer."))
	case errors.Is(err, context.Canceled):
		// The browser left; nobody reads the answer.
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		s.serverError(w, rc, "consultation", err)
	}
}
