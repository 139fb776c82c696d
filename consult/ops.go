package consult

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/fiche"
	"github.com/versement/versement/index"
	"github.com/versement/versement/roles"
)

// access is one line of the access log, before it is written.
type access struct {
	op                        string // search, view, download, access-log
	profile, class, tier, key string
	criteria                  *index.Query
	returned                  []accesslog.Dossier // the dossiers a search returned
	object                    string              // a download's object
	result, reason            string              // ok, refused, not-found, failed; why
}

// Operations, as the access log names them.
const (
	OpSearch    = "search"
	OpView      = "view"
	OpDownload  = "download"
	OpAccessLog = "access-log"
)

// Results, as the access log names them.
const (
	ResultOK       = "ok"
	ResultRefused  = "refused"
	ResultNotFound = "not-found"
	ResultFailed   = "failed"
)

// checkMotive refuses a request without a valid motive, and logs the refusal.
func (s *Service) checkMotive(ctx context.Context, req Request, a access) error {
	if err := s.Policy.CheckMotive(req.Motive.Category, req.Motive.Text); err != nil {
		r := &Refusal{Reason: "motive", Message: err.Error()}
		var me *roles.MotiveError
		if errors.As(err, &me) {
			r.Reason, r.Message = me.Reason, me.Message(s.Lang)
		}
		a.result, a.reason = ResultRefused, r.Reason
		if lerr := s.record(ctx, req, a); lerr != nil {
			return lerr
		}
		return r
	}
	return nil
}

// Search finds dossiers. It returns only those the person may consult: a search must not tell a
// scolarité agent that a dossier exists in the final archives. The search and the dossiers it
// returned are logged.
func (s *Service) Search(ctx context.Context, req Request, q index.Query) ([]index.Match, error) {
	a := access{op: OpSearch, profile: q.Profile, criteria: &q}
	if err := s.checkMotive(ctx, req, a); err != nil {
		return nil, err
	}
	// The index does not know roles: ask it for more than the page, so that the dossiers a person
	// may not see do not push out of it those they may.
	nq, err := q.Normalize() // a bad query is refused as the person asked it
	if err != nil {
		return nil, err
	}
	want := nq.Limit
	wide := q
	wide.Limit = min(index.MaxLimit, 4*want)
	ms, err := s.Index.Search(ctx, wide)
	if err != nil {
		if errors.Is(err, index.ErrBadQuery) {
			return nil, err
		}
		return nil, fmt.Errorf("consult: search: %w", err)
	}
	allowed := ms[:0]
	for _, m := range ms {
		if len(allowed) == want {
			break
		}
		if s.Policy.MayConsult(req.User, m.Entry.Profile, m.Entry.Class, m.Entry.Tier).Allowed {
			allowed = append(allowed, m)
			a.returned = append(a.returned, accesslog.Dossier{Profile: m.Entry.Profile, Key: m.Entry.Key})
		}
	}
	a.result = ResultOK
	if len(allowed) == 0 {
		a.result = ResultNotFound
	}
	if err := s.record(ctx, req, a); err != nil {
		return nil, err
	}
	return allowed, nil
}

// entry finds a dossier and decides whether the person may do op on it; the refusal or absence is
// logged.
func (s *Service) entry(ctx context.Context, req Request, a access) (index.Entry, error) {
	if err := s.checkMotive(ctx, req, a); err != nil {
		return index.Entry{}, err
	}
	e, err := s.Index.Get(ctx, a.profile, a.key)
	if errors.Is(err, index.ErrNotFound) {
		a.result = ResultNotFound
		var gone string
		if s.Destroyed != nil {
			d, ok, derr := s.Destroyed(ctx, a.profile, a.key)
			if derr != nil {
				return e, fmt.Errorf("consult: %w", derr)
			}
			if ok {
				gone = fmt.Sprintf(": destroyed on %s under visa %s (see its attestation d'élimination)", d.At.UTC().Format(time.DateOnly), d.Visa)
				a.reason = "destroyed under visa " + d.Visa
			}
		}
		if lerr := s.record(ctx, req, a); lerr != nil {
			return e, lerr
		}
		return e, fmt.Errorf("%w: profile %s, key %s%s", ErrNotFound, a.profile, a.key, gone)
	}
	if err != nil {
		return e, fmt.Errorf("consult: %w", err)
	}
	a.class, a.tier = e.Class, e.Tier
	if d := s.Policy.MayConsult(req.User, e.Profile, e.Class, e.Tier); !d.Allowed {
		a.result, a.reason = ResultRefused, d.Reason
		if lerr := s.record(ctx, req, a); lerr != nil {
			return e, lerr
		}
		return e, &Refusal{Reason: d.Reason, Message: d.Message(s.Lang)}
	}
	return e, nil
}

// Fiche reads one dossier out of its SIP, every object checked against the manifest, and returns
// its sheet. The view is logged once the dossier is read (or the failure to read it).
func (s *Service) Fiche(ctx context.Context, req Request, profile, key string) (*fiche.Fiche, error) {
	a := access{op: OpView, profile: profile, key: key}
	e, err := s.entry(ctx, req, a)
	if err != nil {
		return nil, err
	}
	a.class, a.tier = e.Class, e.Tier
	f, err := s.read(ctx, e)
	if err != nil {
		return nil, s.failed(ctx, req, a, err)
	}
	a.result = ResultOK
	if err := s.record(ctx, req, a); err != nil {
		return nil, err
	}
	return f, nil
}
