// Package consult finds archived dossiers and reads them back for the people allowed to: it holds
// the rules of consultation, whatever asks (the web pages of `versement serve`, the CLI's
// `versement consult`). Every search, view, download and refusal goes to the access log before
// anything is shown; the roles decide which profiles, classes and tiers a person may see
// (intermediate archives: the producing service; final archives: the archives service); a motive
// is required each time. Dossiers are read from their SIP where the index says it is: at a
// folder or an S3 drop zone, the zip's directory, the manifest and the dossier's own objects
// only, every object's digest checked against the manifest before it is shown.
package consult

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/index"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrNotFound: no dossier has that key in the index (or none the person may see matched).
	ErrNotFound = errors.New("no archived dossier with that key")
	// ErrRefused: the person may not do this; the error's text says why, for them.
	ErrRefused = errors.New("refused")
)

// Refusal is a refusal: Reason is its code (what the access log records, roles' Reason*),
// Message what the person reads.
type Refusal struct{ Reason, Message string }

func (r *Refusal) Error() string        { return "refused: " + r.Message }
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Service answers consultations.
type Service struct {
	Index  index.Store
	Policy *roles.Policy
	Log    *accesslog.Log
	// OpenTarget opens the target a SIP is at, from the URL the index recorded (without secrets:
	// the credentials come from the environment, as for a run). Targets are opened once and kept.
	OpenTarget func(ctx context.Context, url string) (transfer.Target, error)
	// OpenArchive opens VITAM's access API for a dossier archived there, from the target URL the
	// index recorded (its access-contract= names the contract); nil: vitam.OpenAccess, with the
	// certificates from the environment.
	OpenArchive func(ctx context.Context, url string) (Archive, error)
	Now         func() time.Time
	// Destroyed, when set, says whether a dossier the index does not have was destroyed by an
	// elimination (the state's record): the answer then says when and under which visa, and the
	// access log records it, instead of a bare "not found".
	Destroyed func(ctx context.Context, profile, key string) (Destruction, bool, error)
	// Lang is the language of what people read: refusals, sheets.
	Lang language.Tag

	mu       sync.Mutex
	targets  map[string]transfer.Target
	archives map[string]Archive
}

// Destruction is what the state recorded of a dossier's elimination.
type Destruction struct {
	Visa string
	At   time.Time
}

// Request is who asks and why.
type Request struct {
	User   roles.User
	Motive Motive
	// Client is where the request comes from, for the log: the browser's address, "cli@HOST".
	Client string
}

// Motive is why a person consults: a category of the roles file's list and a free text.
type Motive struct{ Category, Text string }

// Close closes the targets opened.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, t := range s.targets {
		errs = append(errs, t.Close())
	}
	for _, a := range s.archives {
		errs = append(errs, a.Close())
	}
	s.targets, s.archives = nil, nil
	return errors.Join(errs...)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) target(ctx context.Context, url string) (transfer.Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.targets[url]; ok {
		return t, nil
	}
	if s.OpenTarget == nil {
		return nil, fmt.Errorf("consult: no way to open the target %s", url)
	}
	t, err := s.OpenTarget(ctx, url)
	if err != nil {
		return nil, err
	}
	if s.targets == nil {
		s.targets = map[string]transfer.Target{}
	}
	s.targets[url] = t
	return t, nil
}
