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

// BenchmarkVerifyDeflatedSIP is the shape `versement run` writes for a student file (apogee): a
// thousand dossiers, each a unit with its JSON (deflated) and, for three in ten, a small photo
// (stored). The time goes to the manifest (2 MB of XML), not to hashing: see issue 13.
func BenchmarkVerifyDeflatedSIP(b *testing.B) {
	const dossiers = 1000
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
	rng := rand.New(rand.NewPCG(13, 13))
	bytesRNG := rand.NewChaCha8([32]byte{13})
	photo := make([]byte, 1400)
	objects := 0
	for i := range dossiers {
		var js bytes.Buffer
		fmt.Fprintf(&js, `{"dossier":"D%06d","etudiant":{"nom":"NOM%d","prenom":"Prenom%d","naissance":"19%02d-%02d-%02d"},"inscriptions":[`, i, rng.IntN(1e6), rng.IntN(1e4), rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28))
		for k := range 20 + rng.IntN(30) {
			fmt.Fprintf(&js, `{"annee":%d,"etape":"E%04d","resultat":"ADM","note":%d.%d},`, 2000+k, rng.IntN(9999), rng.IntN(20), rng.IntN(100))
		}
		js.WriteString(`{}]}`)
		var groups []seda.GroupID
		ow, err := w.AddObject(seda.Object{Name: fmt.Sprintf("D%06d.json", i), MimeType: "application/json"}, &js)
		if err != nil {
			b.Fatal(err)
		}
		groups = append(groups, ow.Group())
		objects++
		if i%10 < 3 {
			bytesRNG.Read(photo)
			ow, err := w.AddObject(seda.Object{Name: fmt.Sprintf("D%06d.jpg", i), MimeType: "image/jpeg"}, bytes.NewReader(photo))
			if err != nil {
				b.Fatal(err)
			}
			groups = append(groups, ow.Group())
			objects++
		}
		if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: fmt.Sprintf("Dossier D%06d", i)}, Groups: groups}); err != nil {
			b.Fatal(err)
		}
	}
	w.CloseUnit()
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		r, err := seda.Verify(context.Background(), p, seda.VerifyOptions{})
		if err != nil || !r.OK() || r.ObjectsVerified != objects {
			b.Fatalf("%v %+v", err, r)
		}
	}
}
