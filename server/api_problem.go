package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/versement/versement/deposit"
)

// Kinds of problem the API adds to deposit's (invalid, not-found, conflict, unprocessable,
// too-large): a client switches on kind, a stable word, not on the English detail.
const (
	kindUnauthorized = "unauthorized"
	kindForbidden    = "forbidden"
	kindMethod       = "method-not-allowed"
	kindMediaType    = "unsupported-media-type"
	kindLength       = "length-required"
	kindInternal     = "internal"
)

// problemTypePrefix makes the RFC 9457 type of a kind: a URN, as the kinds are documented in
// docs/api.md and the OpenAPI document rather than at an address of their own.
const problemTypePrefix = "urn:versement:api:problem:"

// problem is an RFC 9457 problem document with deposit's fields as extension members.
type problem struct {
	Type     string   `json:"type"`
	Title    string   `json:"title"`
	Status   int      `json:"status"`
	Detail   string   `json:"detail"`
	Kind     string   `json:"kind"`
	Field    string   `json:"field,omitempty"`
	Findings []string `json:"findings,omitempty"`
	Received *int64   `json:"received,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, kind, field, detail string) {
	writeProblemDoc(w, problem{Status: status, Kind: kind, Field: field, Detail: detail})
}

func writeProblemDoc(w http.ResponseWriter, p problem) {
	p.Type = problemTypePrefix + p.Kind
	p.Title = http.StatusText(p.Status)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // a detail's "<" is for a program, not an HTML page
	_ = enc.Encode(p)
}

var kindStatus = map[deposit.ErrorKind]int{
	deposit.Invalid:       http.StatusBadRequest,
	deposit.NotFound:      http.StatusNotFound,
	deposit.Conflict:      http.StatusConflict,
	deposit.Unprocessable: http.StatusUnprocessableEntity,
	deposit.TooLarge:      http.StatusRequestEntityTooLarge,
}

// depositProblem answers an error of the Deposits: a refusal as its problem, anything else as a
// 500 whose cause goes to the log only (it may name files of the state, not for the client).
func (s *Server) depositProblem(w http.ResponseWriter, r *http.Request, what string, err error) {
	var de *deposit.Error
	if errors.As(err, &de) {
		status, ok := kindStatus[de.Kind]
		if !ok {
			status = http.StatusBadRequest
		}
		writeProblemDoc(w, problem{Status: status, Kind: string(de.Kind), Field: de.Field, Detail: de.Msg,
			Findings: de.Findings, Received: de.Received})
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away: nobody reads the answer.
		return
	}
	s.log.Error("API request failed", "route", infoOf(r).pattern, "what", what, "err", err)
	writeProblem(w, http.StatusInternalServerError, kindInternal, "", "the server failed; try again later")
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
