package deposit

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentServices: two services on one deposits folder (a server and a worker, or two
// servers) adding units to one transaction at once lose none and corrupt nothing: the
// transaction's lock serialises them, the journal's chain holds every call.
func TestConcurrentServices(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var q []string
	a := newService(t, dir, t.TempDir(), "dir://"+t.TempDir(), &q)
	b := newService(t, dir, t.TempDir(), "dir://"+t.TempDir(), &q)
	tx := openTx(t, a)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, err := s.AddUnits(ctx, tx.ID, strings.NewReader(unitDoc("etudiant", 100+i, "")), "client")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := b.Get(ctx, tx.ID)
	idx, _, err := b.readIndex(tx.ID)
	if err != nil || got.Units != 40 || len(idx) != 40 {
		t.Fatalf("%d units, %d indexed (%v); want 40", got.Units, len(idx), err)
	}
	n := 0
	audit, err := VerifyJournal(ctx, dir, func(e Event) {
		if e.Event == EventUnits {
			n++
		}
	})
	if err != nil || !audit.OK() || n != 40 {
		t.Fatalf("journal: %d units events, %+v %v", n, audit, err)
	}
}
