package targettest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/retry"
)

func opener(t *testing.T, tg transfer.Target) transfer.Opener {
	t.Helper()
	op, ok := transfer.As[transfer.Opener](tg)
	if !ok {
		t.Skipf("%s is not a transfer.Opener: its SIPs are read back through an API of its own", tg)
	}
	return op
}

// A SIP put there opens with its size, and reads at its start, across the target's block
// boundaries, at its end and past its end give the file's bytes with io.ReaderAt's errors.
func testOpen(t *testing.T, s Suite) {
	tg := open(t, s)
	op := opener(t, tg)
	sip := LargeZipSIP(t, "sub/conformance-open.zip", 700<<10)
	if _, err := tg.Put(context.Background(), sip); err != nil {
		t.Fatalf("Put: %v", err)
	}
	want, err := os.ReadFile(sip.Path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := op.Open(context.Background(), sip.Name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	if b.Size() != sip.Size {
		t.Errorf("Size %d, want %d", b.Size(), sip.Size)
	}
	size := int64(len(want))
	for _, c := range []struct {
		what    string
		off, n  int64
		wantN   int64
		wantEOF bool
	}{
		{"start", 0, 100, 100, false},
		{"middle, across 256 KiB", 256<<10 - 1000, 5000, 5000, false},
		{"middle, many blocks", 100 << 10, 500 << 10, 500 << 10, false},
		{"end", size - 10, 10, 10, false},
		{"over the end", size - 10, 20, 10, true},
		{"at the end", size, 10, 0, true},
		{"past the end", size + 100, 10, 0, true},
	} {
		buf := make([]byte, c.n)
		n, err := b.ReadAt(buf, c.off)
		if int64(n) != c.wantN || (err == io.EOF) != c.wantEOF || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt %s (%d bytes at %d): %d, %v; want %d bytes, EOF %v", c.what, c.n, c.off, n, err, c.wantN, c.wantEOF)
			continue
		}
		if c.wantN > 0 && !bytes.Equal(buf[:n], want[c.off:c.off+c.wantN]) {
			t.Errorf("ReadAt %s: the bytes differ from the file's", c.what)
		}
	}
	st := b.Stats()
	if st.Requests == 0 || st.Bytes == 0 {
		t.Errorf("Stats %+v after reads: want requests and bytes counted", st)
	}
	// The decorators let As find it: a consultation opens through the target as targets.Open wraps it.
	if _, ok := transfer.As[transfer.Opener](retryAndDry(tg)); !ok {
		t.Error("through retry and dry run, As finds no Opener")
	}
}

// A name the target does not hold: ErrNotExist, and not worth a retry.
func testOpenMissing(t *testing.T, s Suite) {
	tg := open(t, s)
	op := opener(t, tg)
	_, err := op.Open(context.Background(), "conformance-missing.zip")
	if !errors.Is(err, transfer.ErrNotExist) || transfer.IsTransient(err) {
		t.Errorf("Open of a missing SIP: %v; want a permanent error wrapping ErrNotExist", err)
	}
	if _, err := op.Open(context.Background(), "../outside.zip"); err == nil || errors.Is(err, transfer.ErrNotExist) {
		t.Errorf("Open of ../outside.zip: %v; want the name refused", err)
	}
}

// LargeZipSIP writes a zip of about size bytes (a manifest and one STORED object of random
// bytes), large enough that reads cross a target's block boundaries.
func LargeZipSIP(t *testing.T, name string, size int) transfer.SIP {
	t.Helper()
	payload := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 1))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	manifest := `<?xml version="1.0" encoding="UTF-8"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><MessageIdentifier>CONFORMANCE-OPEN</MessageIdentifier></ArchiveTransfer>`
	sip := storedZip(t, name, [][2]string{{"Content/big.bin", string(payload)}, {"manifest.xml", manifest}})
	sip.MessageID = "CONFORMANCE-OPEN"
	return sip
}

func retryAndDry(tg transfer.Target) transfer.Target {
	return retry.Wrap(dryrun.Wrap(tg), retry.Policy{})
}
