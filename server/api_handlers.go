package server

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/versement/versement/deposit"
)

// openAPIDocument is the API's description, kept in the repository and checked against
// apiRoutes by the tests.
//
//go:embed api/openapi.yaml
var openAPIDocument []byte

// retryAfter is the polling interval a client is told while a transaction is queued or
// processed: building and sending take seconds to minutes.
const retryAfter = "5"

func (s *Server) apiDocument(w http.ResponseWriter, _ *http.Request, _ *apiCall) {
	// RFC 9512's media type; it carries no personal data, so it may be cached.
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPIDocument)
}

func transactionURL(est, id string) string {
	return apiPrefix + "/establishments/" + url.PathEscape(est) + "/transactions/" + url.PathEscape(id)
}

// hasMediaType says whether the request's Content-Type is one of want (parameters ignored).
func hasMediaType(r *http.Request, want ...string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	for _, w := range want {
		if mt == w {
			return true
		}
	}
	return false
}

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request, c *apiCall) {
	if !hasMediaType(r, "application/json") {
		writeProblem(w, http.StatusUnsupportedMediaType, kindMediaType, "", "a transaction's header is application/json")
		return
	}
	var h deposit.Header
	body := &limitedBody{r: r.Body, n: maxHeaderBody}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&h)
	if err == nil && dec.More() {
		err = errors.New("data after the header's object")
	}
	if err != nil {
		if body.over {
			writeProblem(w, http.StatusRequestEntityTooLarge, string(deposit.TooLarge), "header", fmt.Sprintf("a transaction's header is at most %d bytes", maxHeaderBody))
			return
		}
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "header", "the header is not a JSON object of the documented fields: "+jsonDetail(err))
		return
	}
	tx, err := c.deposits.Create(r.Context(), h, c.client)
	if err != nil {
		s.depositProblem(w, r, "create", err)
		return
	}
	w.Header().Set("Location", transactionURL(c.est, tx.ID))
	writeJSON(w, http.StatusCreated, tx)
}

// jsonDetail says what is wrong with a JSON body without quoting it (it may hold personal
// data): the decoder's message names a field or an offset, not values.
func jsonDetail(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: a %s where a %s is expected", te.Field, te.Value, te.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before the object does"
	}
	return err.Error()
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request, c *apiCall) {
	tx, err := c.deposits.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.depositProblem(w, r, "status", err)
		return
	}
	if tx.State == deposit.StateQueued || tx.State == deposit.StateProcessing {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, http.StatusOK, tx)
}

func (s *Server) apiUnits(w http.ResponseWriter, r *http.Request, c *apiCall) {
	if !hasMediaType(r, "application/x-ndjson", "application/json") {
		writeProblem(w, http.StatusUnsupportedMediaType, kindMediaType, "", "units are application/x-ndjson (one document a line) or application/json (an array of documents)")
		return
	}
	max := s.api.cfg.MaxUnitsBytes
	tooLarge := func() {
		writeProblem(w, http.StatusRequestEntityTooLarge, string(deposit.TooLarge), "units", fmt.Sprintf("one request of units is at most %d bytes: send them in several", max))
	}
	if r.ContentLength > max {
		tooLarge()
		return
	}
	extendRead(w, declared(r, max))
	body := &limitedBody{r: r.Body, n: max}
	n, err := c.deposits.AddUnits(r.Context(), r.PathValue("id"), body, c.client)
	if err != nil {
		if body.over {
			tooLarge()
			return
		}
		s.depositProblem(w, r, "units", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Added int `json:"added"`
	}{n})
}

func (s *Server) apiClose(w http.ResponseWriter, r *http.Request, c *apiCall) {
	tx, err := c.deposits.Close(r.Context(), r.PathValue("id"), c.client)
	if err != nil {
		s.depositProblem(w, r, "close", err)
		return
	}
	s.accepted(w, c.est, tx)
}

// accepted answers 202: the transaction is queued, its status is at Location.
func (s *Server) accepted(w http.ResponseWriter, est string, tx deposit.Transaction) {
	w.Header().Set("Location", transactionURL(est, tx.ID))
	w.Header().Set("Retry-After", retryAfter)
	writeJSON(w, http.StatusAccepted, tx)
}

func (s *Server) apiATR(w http.ResponseWriter, r *http.Request, c *apiCall) {
	atr, err := c.deposits.ATR(r.Context(), r.PathValue("id"))
	if err != nil {
		s.depositProblem(w, r, "atr", err)
		return
	}
	defer atr.Close()
	w.Header().Set("Content-Type", "application/xml")
	if _, err := io.Copy(w, atr); err != nil {
		// The status is sent: the client sees a cut reply; the log says why.
		s.log.Warn("API ATR cut", "route", infoOf(r).pattern, "err", err)
	}
}

func (s *Server) apiSubmitSIP(w http.ResponseWriter, r *http.Request, c *apiCall) {
	if !hasMediaType(r, "application/zip") {
		writeProblem(w, http.StatusUnsupportedMediaType, kindMediaType, "", "a SIP is application/zip")
		return
	}
	max := s.api.cfg.MaxSIPBytes
	tooLarge := func() {
		writeProblem(w, http.StatusRequestEntityTooLarge, string(deposit.TooLarge), "sip", fmt.Sprintf("a SIP is at most %d bytes", max))
	}
	if r.ContentLength > max {
		tooLarge()
		return
	}
	extendRead(w, declared(r, max))
	body := &limitedBody{r: r.Body, n: max}
	tx, err := c.deposits.SubmitSIP(r.Context(), body, c.client)
	if err != nil {
		if body.over {
			tooLarge()
			return
		}
		s.depositProblem(w, r, "sip", err)
		return
	}
	s.accepted(w, c.est, tx)
}

func setObjectHeaders(w http.ResponseWriter, o deposit.Object) {
	h := w.Header()
	// The headers of the IETF's resumable uploads draft, so that HEAD says where to resume.
	h.Set("Upload-Offset", strconv.FormatInt(o.Received, 10))
	h.Set("Upload-Length", strconv.FormatInt(o.Size, 10))
	if o.Complete {
		h.Set("Upload-Complete", "?1")
	} else {
		h.Set("Upload-Complete", "?0")
	}
}
