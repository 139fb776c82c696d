package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Session is what the server keeps of one browser: the signed-on user (none before sign-on), the
// synchronizer token of its forms, the OIDC flow in progress, and the handles that stand for
// dossiers in its URLs. Its fields are plain values so that a shared store can serialize it.
type Session struct {
	ID       string
	User     *User // nil until signed on
	CSRF     string
	Created  time.Time
	LastSeen time.Time
	// OIDC flow in progress (before sign-on): state, nonce and PKCE verifier.
	OIDCState, OIDCNonce, OIDCVerifier string
	// Handles maps the random handles in this session's URLs to the dossiers they stand for.
	Handles map[string]Handle
}

// Handle is a dossier as the session's pages name it: the Consultation's Ref, the motive given at
// the search that found it, and, once its fiche was shown, the IDs of its downloads.
type Handle struct {
	Ref       string
	Motive    Motive
	Downloads []string
	Expires   time.Time
}

// SessionStore keeps sessions on the server side: in memory by default (NewMemoryStore); a store
// shared by several servers can implement it later. Get returns (nil, nil) for an unknown id.
// The server expires sessions itself, so a store needs no clock; it may drop sessions older than
// the absolute timeout.
type SessionStore interface {
	Get(ctx context.Context, id string) (*Session, error)
	Put(ctx context.Context, s *Session) error
	Delete(ctx context.Context, id string) error
}

// NewMemoryStore is a SessionStore in this process's memory: sessions are lost at restart, which
// only signs people on again.
func NewMemoryStore() SessionStore {
	return &memoryStore{m: map[string]*Session{}}
}

type memoryStore struct {
	mu sync.Mutex
	m  map[string]*Session
}

func (s *memoryStore) Get(_ context.Context, id string) (*Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.m[id]
	if !ok {
		return nil, nil
	}
	return got.clone(), nil
}

func (s *memoryStore) Put(_ context.Context, sess *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[sess.ID] = sess.clone()
	return nil
}

func (s *memoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// sweep drops the sessions whose absolute or idle time is over, so that abandoned sessions
// (someone who opened the login page and left) do not pile up.
func (s *memoryStore) sweep(now time.Time, idle, absolute time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.m {
		if sess.expired(now, idle, absolute) {
			delete(s.m, id)
		}
	}
}

// clone copies the session so that a request changing its copy changes the store only by Put,
// as a shared store would behave.
func (s *Session) clone() *Session {
	c := *s
	if s.User != nil {
		u := *s.User
		u.Groups = append([]string(nil), s.User.Groups...)
		c.User = &u
	}
	c.Handles = make(map[string]Handle, len(s.Handles))
	for k, v := range s.Handles {
		v.Downloads = append([]string(nil), v.Downloads...)
		c.Handles[k] = v
	}
	return &c
}

func (s *Session) expired(now time.Time, idle, absolute time.Duration) bool {
	return now.Sub(s.LastSeen) >= idle || now.Sub(s.Created) >= absolute
}

// maxHandles bounds the handles a session keeps: a search shows at most a page of hits, and the
// oldest handles go first.
const maxHandles = 2000

// handleFor gives a new random handle for ref, found with motive m, valid until expires.
func (s *Session) handleFor(ref string, m Motive, now, expires time.Time) string {
	if s.Handles == nil {
		s.Handles = map[string]Handle{}
	}
	for k, h := range s.Handles {
		if !now.Before(h.Expires) {
			delete(s.Handles, k)
		}
	}
	for len(s.Handles) >= maxHandles {
		var oldest string
		for k, h := range s.Handles {
			if oldest == "" || h.Expires.Before(s.Handles[oldest].Expires) {
				oldest = k
			}
		}
		delete(s.Handles, oldest)
	}
	h := randomToken(16)
	s.Handles[h] = Handle{Ref: ref, Motive: m, Expires: expires}
	return h
}

// handle is the live handle h, if any.
func (s *Session) handle(h string, now time.Time) (Handle, bool) {
	got, ok := s.Handles[h]
	if !ok || !now.Before(got.Expires) {
		return Handle{}, false
	}
	return got, true
}

// randomToken is n random bytes, base64url without padding: 32 bytes for session ids (256 bits).
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}
