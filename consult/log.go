package consult

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
)

// record writes one access in the log; an access that cannot be logged is not done: the error
// stops the caller before anything is shown.
func (s *Service) record(ctx context.Context, req Request, a access) error {
	e := accesslog.Entry{
		User:      accesslog.User(req.User),
		Client:    req.Client,
		Operation: accesslog.Operation(a.op),
		Profile:   a.profile, Class: a.class, Tier: a.tier, Key: a.key,
		Motive: accesslog.Motive{Category: req.Motive.Category, Text: req.Motive.Text},
		Result: accesslog.Result(a.result), Reason: a.reason,
	}
	e.Object = a.object
	if q := a.criteria; q != nil {
		e.Criteria = map[string]string{}
		for k, v := range map[string]string{"profile": q.Profile, "identifier": q.Identifier, "name": q.Name, "born": q.Born} {
			if v != "" {
				e.Criteria[k] = v
			}
		}
		if q.Year != 0 {
			e.Criteria["year"] = strconv.Itoa(q.Year)
		}
		e.Found = a.returned
	}
	if _, err := s.Log.Append(ctx, e); err != nil {
		return fmt.Errorf("consult: the access could not be logged, so it was not done: %w", err)
	}
	return nil
}

// Accesses lists every access to one dossier (who read it, when, why), for a person allowed to
// read the access log; the listing is itself logged.
func (s *Service) Accesses(ctx context.Context, req Request, profile, key string) ([]accesslog.Entry, error) {
	a := access{op: OpAccessLog, profile: profile, key: key}
	if d := s.Policy.MayReadLog(req.User); !d.Allowed {
		a.result, a.reason = ResultRefused, d.Reason
		if err := s.record(ctx, req, a); err != nil {
			return nil, err
		}
		return nil, &Refusal{Reason: d.Reason, Message: d.Message(s.Lang)}
	}
	var out []accesslog.Entry
	if err := s.Log.ForKey(ctx, profile, key, func(e accesslog.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("consult: the access log: %w", err)
	}
	a.result = ResultOK
	if err := s.record(ctx, req, a); err != nil {
		return nil, err
	}
	return out, nil
}

// reasonOf is what the access log says of a failure: its kind, not its text, which may name
// files and values.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, sip.ErrDigest):
		return "digest-mismatch"
	case errors.Is(err, sip.ErrNoUnit):
		return "unit-not-in-sip"
	case errors.Is(err, transfer.ErrNotExist):
		return "sip-not-at-target"
	}
	return "read-error"
}

// AccessRow is one access to a dossier as a person reads it, in tag's language: when, who (and
// how they signed on), what (a search that returned the dossier, a view, a download, a listing),
// why (the roles file's label of the motive, in French, and its text), and with what result. A
// search's criteria and the other dossiers it returned are not shown: they are not this
// dossier's. The CLI's access-log and the server's page show the same rows.
func AccessRow(tag language.Tag, policy *roles.Policy, e accesslog.Entry) []string {
	pr := lang.Printer(tag)
	// With its offset: a log read years later, or from another time zone, says when it was.
	when := e.Time.Local().Format("2006-01-02 15:04:05 -0700")
	who := e.User.ID + " (" + e.User.Via + ")"
	if e.User.Name != "" && e.User.Name != e.User.ID {
		who = e.User.ID + " (" + e.User.Name + ", " + e.User.Via + ")"
	}
	return []string{when, who, operationLabel(pr, e.Operation), motiveLabel(tag, policy, e.Motive), resultLabel(pr, e)}
}

func operationLabel(pr *message.Printer, op accesslog.Operation) string {
	switch op {
	case accesslog.OpSearch:
		return pr.Sprintf("search (returned it)")
	case accesslog.OpView:
		return pr.Sprintf("view of the fiche")
	case accesslog.OpDownload:
		return pr.Sprintf("download of its objects")
	case accesslog.OpAccessLog:
		return pr.Sprintf("listing of its accesses")
	}
	return string(op)
}

func resultLabel(pr *message.Printer, e accesslog.Entry) string {
	switch e.Result {
	case accesslog.ResultOK:
		return pr.Sprintf("access granted")
	case accesslog.ResultRefused:
		return pr.Sprintf("access refused: %s", e.Reason)
	case accesslog.ResultNotFound:
		return pr.Sprintf("dossier not found")
	case accesslog.ResultFailed:
		return pr.Sprintf("could not be read: %s", e.Reason)
	}
	return string(e.Result)
}

// motiveLabel is the motive as a person reads it: in French, the category's label from the roles
// file; in English, its id; then the text.
func motiveLabel(tag language.Tag, policy *roles.Policy, m accesslog.Motive) string {
	if m.Category == "" && m.Text == "" {
		return "—"
	}
	cat := m.Category
	if lang.IsFrench(tag) {
		if known, ok := policy.Motive(m.Category); ok {
			cat = known.Label
		}
	}
	if m.Text == "" {
		return cat
	}
	return cat + " — " + m.Text
}

// accessTable is the listing as the pages show it.
func accessTable(tag language.Tag, policy *roles.Policy, es []accesslog.Entry) server.Table {
	t := lang.Printer(tag)
	tb := server.Table{Columns: []string{t.Sprintf("When"), t.Sprintf("Who"), t.Sprintf("Operation"), t.Sprintf("Motive"), t.Sprintf("Result")}}
	for _, e := range es {
		tb.Rows = append(tb.Rows, AccessRow(tag, policy, e))
	}
	return tb
}
