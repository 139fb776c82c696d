package seda_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/seda"
)

// BenchmarkVerify verifies SIPs of many small objects (what the verifier keeps per object decides
// its memory and much of its time: ids, references, the zip's directory) and of a few large ones
// (hashing). Per op: one whole Verify. Peak memory is bench/verify-memory.sh's business.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name    string
		objects int
		size    int
		mime    string
	}{{"small-json-20000", 20000, 64, "application/json"}, {"photos-64x1MiB", 64, 1 << 20, "image/jpeg"}} {
		b.Run(c.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "sip.zip")
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			w, err := seda.NewWriter(f, testHeader(seda.V22), seda.WithTempDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "bench"}}); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, c.size)
			rand.NewChaCha8([32]byte{5}).Read(data)
			for i := range c.objects {
				ow, err := w.AddObject(seda.Object{Name: fmt.Sprintf("o-%07d.bin", i), MimeType: c.mime}, bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "d"}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
					b.Fatal(err)
				}
			}
			w.CloseUnit()
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			b.SetBytes(int64(c.objects * c.size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r, err := seda.Verify(context.Background(), p, seda.VerifyOptions{})
				if err != nil || !r.OK() || r.ObjectsVerified != c.objects {
					b.Fatalf("%v %+v", err, r)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.objects), "ns/object")
		})
	}
}
