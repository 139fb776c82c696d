package dir_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/retry"
)

// A dossier is read back from a SIP in a folder, through the target as a run wraps it: its unit
// by key and its object's bytes, checked against the manifest, reading a part of the file only.
func TestOpenReadsOneDossier(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := seda.NewWriter(f, seda.Header{MessageIdentifier: "DIR-OPEN", Date: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), ArchivalAgency: "A", TransferringAgency: "T"})
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 200<<10) // incompressible: the other dossier's object is most of the file
	rng := rand.New(rand.NewPCG(4, 2))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	for _, key := range []string{"41", "42"} {
		ow, err := w.AddObject(seda.Object{Name: "D" + key + ".txt", MimeType: "text/plain"}, bytes.NewReader(append([]byte(key), payload...)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "Dossier " + key, OriginatingSystemID: []string{key}}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tg, err := dir.Open("dir://" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Put(context.Background(), transfer.SIP{Name: "a/sip.zip", Path: path}); err != nil {
		t.Fatal(err)
	}
	op, ok := transfer.As[transfer.Opener](retry.Wrap(tg, retry.Policy{}))
	if !ok {
		t.Fatal("no Opener through the retry decorator")
	}
	b, err := op.Open(context.Background(), "a/sip.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := sip.Open(context.Background(), b, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.Unit(context.Background(), "42")
	if err != nil || len(u.Objects) != 1 {
		t.Fatalf("unit 42: %+v %v", u, err)
	}
	rc, err := r.Object(context.Background(), u.Objects[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, append([]byte("42"), payload...)) {
		t.Errorf("object of 42: %d bytes, %v", len(got), err)
	}
	if st := b.Stats(); st.Bytes >= b.Size()*3/4 || st.Requests == 0 {
		t.Errorf("read %+v of a %d-byte SIP: want well under the whole", st, b.Size())
	}
}
