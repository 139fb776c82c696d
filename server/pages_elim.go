package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The pages of the proposals of elimination, when the configuration has Eliminations.

// maxVisaField bounds the visa's reference and signatory: a file number, a name and a title.
const maxVisaField = 300

// validProposalID is what a proposal's identifier may be in a URL: versement's own ids
// ("ELIM-APOGEE-20261130-1A2B3C4D") and nothing that could be a path or carry a name.
func validProposalID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return id != "." && id != ".."
}

// proposalView is the review page: the proposal, the form as entered, and what was recorded.
type proposalView struct {
	Review ProposalReview
	Form   visaFormView
	Done   *VisaRecorded
	Result string // the sentence saying what was recorded
}

// visaFormView is the form's values, kept when it is shown again with a message.
type visaFormView struct {
	Reference, Date, Signatory string
	Decisions                  []string // per lot, in the review's order: accepted, refused or ""
}

func (s *Server) proposalsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	list, err := s.cfg.Eliminations.Proposals(r.Context(), *rc.user())
	if err != nil {
		s.elimError(w, rc, err)
		return
	}
	v := s.newView(rc, rc.p.Sprintf("Proposals of elimination"))
	v.Proposals = list
	s.render(w, rc, http.StatusOK, "eliminations", v)
}

// review is the proposal of the route, or the page of its error.
func (s *Server) review(w http.ResponseWriter, r *http.Request, rc *reqCtx) (ProposalReview, bool) {
	id := r.PathValue("id")
	if !validProposalID(id) {
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("There is no such proposal of elimination."))
		return ProposalReview{}, false
	}
	rev, err := s.cfg.Eliminations.Proposal(r.Context(), *rc.user(), id, rc.tag)
	if err != nil {
		s.elimError(w, rc, err)
		return rev, false
	}
	return rev, true
}

func (s *Server) proposalPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rev, ok := s.review(w, r, rc)
	if !ok {
		return
	}
	pv := &proposalView{Review: rev, Form: visaFormView{Decisions: make([]string, len(rev.Lots)), Date: s.cfg.Now().Format(time.DateOnly)}}
	s.renderProposal(w, rc, http.StatusOK, pv, "")
}

func (s *Server) renderProposal(w http.ResponseWriter, rc *reqCtx, status int, pv *proposalView, msg string) {
	v := s.newView(rc, rc.p.Sprintf("Proposal of elimination %s", pv.Review.ID))
	v.Proposal, v.Message = pv, msg
	s.render(w, rc, status, "proposal", v)
}

func (s *Server) bordereauPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	if !validProposalID(id) {
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("There is no such proposal of elimination."))
		return
	}
	obj, err := s.cfg.Eliminations.Bordereau(r.Context(), *rc.user(), id, rc.tag)
	if err != nil {
		s.elimError(w, rc, err)
		return
	}
	defer obj.Body.Close()
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The bordereau is versement's own document, all its CSS inline and without script: in a
	// sandbox (no script, no form, an opaque origin) that may load nothing but its own styles.
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	if obj.Size >= 0 {
		hd.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	}
	if _, err := io.Copy(w, obj.Body); err != nil && !errors.Is(err, r.Context().Err()) {
		s.log.Error("bordereau cut short", "route", rc.info.pattern, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) recordVisa(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rev, ok := s.review(w, r, rc)
	if !ok {
		return
	}
	if !rev.MayRecord {
		msg := rev.NotAllowed
		if msg == "" {
			msg = rc.p.Sprintf("Your roles do not allow recording a visa.")
		}
		s.errorPage(w, rc, http.StatusForbidden, msg)
		return
	}
	pv := &proposalView{Review: rev, Form: visaFormView{
		Reference: strings.TrimSpace(r.PostFormValue("reference")),
		Date:      strings.TrimSpace(r.PostFormValue("date")),
		Signatory: strings.TrimSpace(r.PostFormValue("signatory")),
		Decisions: make([]string, len(rev.Lots)),
	}}
	form := VisaForm{Reference: pv.Form.Reference, Signatory: pv.Form.Signatory, Decisions: map[string]string{}}
	bad := func(msg string) { s.renderProposal(w, rc, http.StatusBadRequest, pv, msg) }
	for i, l := range rev.Lots {
		d := r.PostFormValue("decision-" + strconv.Itoa(i))
		switch d {
		case DecisionAccepted, DecisionRefused:
			form.Decisions[l.ID] = d
		case "":
		default:
			bad(rc.p.Sprintf("A lot's decision is not one of accepted, refused or no answer."))
			return
		}
		pv.Form.Decisions[i] = d
	}
	if utf8.RuneCountInString(form.Reference) > maxVisaField || utf8.RuneCountInString(form.Signatory) > maxVisaField {
		bad(rc.p.Sprintf("The visa's reference or signatory is too long (300 characters at most)."))
		return
	}
	if pv.Form.Date != "" {
		t, err := time.Parse(time.DateOnly, pv.Form.Date)
		if err != nil {
			bad(rc.p.Sprintf("The visa's date is not a date (YYYY-MM-DD)."))
			return
		}
		form.Date = t
	}
	res, err := s.cfg.Eliminations.RecordVisa(r.Context(), *rc.user(), rev.ID, form, rc.tag)
	var inv *Invalid
	if errors.As(err, &inv) {
		bad(inv.Message)
		return
	}
	if err != nil {
		s.elimError(w, rc, err)
		return
	}
	// What is recorded now, as the review shows it.
	if now, err := s.cfg.Eliminations.Proposal(r.Context(), *rc.user(), rev.ID, rc.tag); err == nil {
		pv.Review = now
	}
	pv.Done = &res
	if res.Already {
		pv.Result = rc.p.Sprintf("Visa %s was already recorded for proposal %s (ledger entry %d): nothing changed.", res.Reference, res.Proposal, res.Entry)
	} else {
		pv.Result = rc.p.Sprintf("Visa %s recorded for proposal %s (ledger entry %d): %d lot(s) accepted (%d dossiers), %d refused, %d not answered.",
			res.Reference, res.Proposal, res.Entry, res.Accepted, res.Dossiers, res.Refused, res.Unanswered)
	}
	s.renderProposal(w, rc, http.StatusOK, pv, "")
}

// elimError shows the page of an error from the Eliminations (an Invalid is shown on the form
// by the caller; here it is a 400 page).
func (s *Server) elimError(w http.ResponseWriter, rc *reqCtx, err error) {
	var ref *Refusal
	var inv *Invalid
	switch {
	case errors.As(err, &ref):
		s.errorPage(w, rc, http.StatusForbidden, ref.Message)
	case errors.As(err, &inv):
		s.errorPage(w, rc, http.StatusBadRequest, inv.Message)
	case errors.Is(err, ErrRefused):
		s.errorPage(w, rc, http.StatusForbidden, rc.p.Sprintf("Your roles do not allow recording a visa."))
	case errors.Is(err, ErrNotFound):
		s.errorPage(w, rc, http.StatusNotFound, rc.p.Sprintf("There is no such proposal of elimination."))
	case errors.Is(err, context.Canceled):
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		s.serverError(w, rc, "eliminations", err)
	}
}
