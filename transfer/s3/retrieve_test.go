package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	ts3 "github.com/versement/versement/transfer/s3"
)

// dossierKey is the OriginatingSystemId of dossier i of a dossierSIP.
func dossierKey(i int) string { return fmt.Sprintf("K%07d", i) }

// writeDossierSIP writes a SIP shaped as the pipeline's: a series unit and n dossiers, each a
// unit with its key, a JSON document (deflated) and a random photo of photo bytes (stored).
func writeDossierSIP(path string, n, photo int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := seda.NewWriter(bw, seda.Header{Version: seda.V22, MessageIdentifier: "BENCH-RETRIEVE", Date: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-1", ArchivalAgency: "FRAD000", TransferringAgency: "ETAB-SCOL"}, seda.WithTempDir(filepath.Dir(path)))
	if err != nil {
		return err
	}
	if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "bench"}}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, photo)
	for i := range n {
		doc := fmt.Sprintf(`{"COD_ETU":%d,"LIB_NOM_PAT_IND":"NOM %d","inscriptions":[%s]}`, 20000000+i, i, `{"COD_ANU":2001,"COD_ETP":"L1"},`+fmt.Sprint(i))
		ow, err := w.AddObject(seda.Object{Name: fmt.Sprintf("D%07d.json", i), MimeType: "application/json", FormatID: "fmt/817"}, io.LimitReader(repeatReader(doc), 4096))
		if err != nil {
			return err
		}
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if _, err := w.AddObject(seda.Object{Group: ow.Group(), Name: fmt.Sprintf("D%07d.jpg", i), Version: "BinaryMaster_2", MimeType: "image/jpeg"}, bytes.NewReader(buf)); err != nil {
			return err
		}
		if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: fmt.Sprint("Dossier ", i),
			OriginatingSystemID: []string{dossierKey(i)}}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
			return err
		}
	}
	if err := w.CloseUnit(); err != nil {
		return err
	}
	if _, err := w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

type repeatReader string

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

// retrieved is what reading one dossier cost.
type retrieved struct {
	unit        sip.Unit
	objectBytes int64 // the dossier's objects, uncompressed
	stats       transfer.BlobStats
	sipSize     int64
}

// retrieve reads one dossier's unit and objects out of the SIP name, every digest checked.
func retrieve(ctx context.Context, op transfer.Opener, name, key string) (retrieved, error) {
	b, err := op.Open(ctx, name)
	if err != nil {
		return retrieved{}, err
	}
	defer b.Close()
	r, err := sip.Open(ctx, b, b.Size())
	if err != nil {
		return retrieved{}, err
	}
	u, err := r.Unit(ctx, key)
	if err != nil {
		return retrieved{}, err
	}
	res := retrieved{unit: u, sipSize: b.Size()}
	for _, o := range u.Objects {
		rc, err := r.Object(ctx, o)
		if err != nil {
			return res, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return res, err
		}
		res.objectBytes += n
	}
	res.stats = b.Stats()
	return res, nil
}

// One dossier of a 300-dossier SIP costs less than 1 MiB besides its own objects, whether it is
// the first or the last (whose unit ends the manifest), and a small part of the SIP. Bytes
// fetched are deterministic (the blocks asked for), so this is a bound, not a timing.
func TestRetrieveReadsLittle(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "retrieve", false, ts3.Options{})
	path := filepath.Join(t.TempDir(), "sip.zip")
	if err := writeDossierSIP(path, 300, 32<<10); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Put(context.Background(), transfer.SIP{Name: "bench.zip", Path: path}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 150, 299} {
		res, err := retrieve(context.Background(), tg, "bench.zip", dossierKey(i))
		if err != nil {
			t.Fatalf("dossier %d: %v", i, err)
		}
		extra := res.stats.Bytes - res.objectBytes
		t.Logf("dossier %d of a %d-byte SIP: %d bytes in %d requests, %d of them its objects", i, res.sipSize, res.stats.Bytes, res.stats.Requests, res.objectBytes)
		if len(res.unit.Objects) != 2 || extra > 1<<20 || res.stats.Bytes > res.sipSize/4 {
			t.Errorf("dossier %d: %d objects, %d bytes fetched besides its %d: want under 1 MiB and a quarter of the SIP's %d", i, len(res.unit.Objects), extra, res.objectBytes, res.sipSize)
		}
	}
}

// TestRetrieveBenchSIP writes bench/retrieve-bytes.sh's SIP: VERSEMENT_BENCH_MKSIP=PATH,
// VERSEMENT_BENCH_DOSSIERS (default 1000) and VERSEMENT_BENCH_PHOTO bytes (default 1 MiB).
func TestRetrieveBenchSIP(t *testing.T) {
	path := os.Getenv("VERSEMENT_BENCH_MKSIP")
	if path == "" {
		t.Skip("bench/retrieve-bytes.sh's SIP writer: set VERSEMENT_BENCH_MKSIP")
	}
	n, photo := envInt(t, "VERSEMENT_BENCH_DOSSIERS", 1000), envInt(t, "VERSEMENT_BENCH_PHOTO", 1<<20)
	if err := writeDossierSIP(path, n, photo); err != nil {
		t.Fatal(err)
	}
}

// TestRetrieveBench reads one dossier for bench/retrieve-bytes.sh: VERSEMENT_BENCH_TARGET (an
// s3:// URL), VERSEMENT_BENCH_NAME, VERSEMENT_BENCH_KEY; credentials from the environment. It
// prints one line: bytes fetched, requests, the dossier's own bytes.
func TestRetrieveBench(t *testing.T) {
	url := os.Getenv("VERSEMENT_BENCH_TARGET")
	if url == "" {
		t.Skip("bench/retrieve-bytes.sh's reader: set VERSEMENT_BENCH_TARGET")
	}
	ctx := context.Background()
	tg, err := ts3.Open(ctx, url, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := retrieve(ctx, tg, os.Getenv("VERSEMENT_BENCH_NAME"), os.Getenv("VERSEMENT_BENCH_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("fetched=%d requests=%d objects=%d object_bytes=%d sip=%d\n", res.stats.Bytes, res.stats.Requests, len(res.unit.Objects), res.objectBytes, res.sipSize)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}
