package server

import (
	"context"
	"testing"
	"time"
)

func TestMemoryStoreKeepsCopiesAndSweepsExpiredSessions(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore().(*memoryStore)
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	live := &Session{ID: "live", Created: t0, LastSeen: t0.Add(10 * time.Minute), User: &User{ID: "u", Groups: []string{"archives"}}}
	idle := &Session{ID: "idle", Created: t0, LastSeen: t0}
	old := &Session{ID: "old", Created: t0.Add(-8 * time.Hour), LastSeen: t0.Add(10 * time.Minute)}
	for _, s := range []*Session{live, idle, old} {
		if err := st.Put(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	live.User.Groups[0] = "changed after Put"
	got, err := st.Get(ctx, "live")
	if err != nil || got.User.Groups[0] != "archives" {
		t.Fatalf("the store shares its session with the caller: %+v %v", got, err)
	}
	got.handleFor("ref", Motive{}, t0, t0.Add(time.Minute))
	if again, _ := st.Get(ctx, "live"); len(again.Handles) != 0 {
		t.Fatal("a handle added to a copy reached the store without Put")
	}
	st.sweep(t0.Add(16*time.Minute), 15*time.Minute, 8*time.Hour)
	for id, want := range map[string]bool{"live": true, "idle": false, "old": false} {
		if s, _ := st.Get(ctx, id); (s != nil) != want {
			t.Errorf("%s kept: %v, want %v", id, s != nil, want)
		}
	}
	if s, err := st.Get(ctx, "nobody"); s != nil || err != nil {
		t.Fatalf("unknown id: %v %v", s, err)
	}
}

func TestHandlesExpireAndAreBounded(t *testing.T) {
	s := &Session{}
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	first := s.handleFor("ref-1", Motive{Category: "access"}, t0, t0.Add(time.Minute))
	if h, ok := s.handle(first, t0.Add(59*time.Second)); !ok || h.Ref != "ref-1" || h.Motive.Category != "access" {
		t.Fatalf("live handle: %+v %v", h, ok)
	}
	if _, ok := s.handle(first, t0.Add(time.Minute)); ok {
		t.Fatal("a handle lives past its expiry")
	}
	for i := range maxHandles + 10 {
		s.handleFor("ref", Motive{}, t0, t0.Add(time.Hour+time.Duration(i)*time.Second))
	}
	if len(s.Handles) != maxHandles {
		t.Fatalf("%d handles kept, want at most %d", len(s.Handles), maxHandles)
	}
}
