package seda_test

import (
	"archive/zip"
	"bytes"
	stdflate "compress/flate"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/versement/versement/seda"
)

// dossierJSON is text shaped like the pipeline's dossier documents.
func dossierJSON(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"cod_etu":%d,"nom":"NOM%d","prenom":"P%d","date_nai":"19%02d-%02d-%02d","cod_dip":"D%04d","note":%d.%02d,"res":null},`+"\n",
			r.IntN(1e8), r.IntN(5000), r.IntN(1000), r.IntN(100), 1+r.IntN(12), 1+r.IntN(28), r.IntN(5000), r.IntN(20), r.IntN(100))
	}
	return b.Bytes()[:n]
}

// BenchmarkWriter writes dossiers as the pipeline does (one unit, one 16 KiB JSON object and one
// 64 KiB photo each): throughput in payload bytes and allocations per dossier.
func BenchmarkWriter(b *testing.B) {
	js := dossierJSON(16 << 10)
	photo := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{3}).Read(photo)
	for _, level := range []int{1, 2, 5} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			w, err := seda.NewWriter(io.Discard, testHeader(seda.V22), seda.WithTempDir(b.TempDir()), seda.WithDeflateLevel(level))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "bench"}}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(js) + len(photo)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ow, err := w.AddObject(seda.Object{Name: fmt.Sprintf("d%d.json", i), MimeType: "application/json", FormatID: "fmt/817"}, bytes.NewReader(js))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.AddObject(seda.Object{Group: ow.Group(), Version: "BinaryMaster_2", Name: fmt.Sprintf("d%d.jpg", i), MimeType: "image/jpeg"}, bytes.NewReader(photo)); err != nil {
					b.Fatal(err)
				}
				if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "dossier", OriginatingSystemID: []string{fmt.Sprint(i)}}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
					b.Fatal(err)
				}
			}
			w.CloseUnit()
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkDeflate compares Deflate implementations and levels on dossier-like JSON: the numbers
// behind DefaultDeflateLevel (docs/seda.md).
func BenchmarkDeflate(b *testing.B) {
	data := dossierJSON(4 << 20)
	run := func(name string, mk func(io.Writer) io.WriteCloser) {
		b.Run(name, func(b *testing.B) {
			var out countingDiscard
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				out = 0
				w := mk(&out)
				w.Write(data)
				w.Close()
			}
			b.ReportMetric(float64(len(data))/float64(out), "ratio")
		})
	}
	run("stdlib-default", func(w io.Writer) io.WriteCloser { z, _ := stdflate.NewWriter(w, stdflate.DefaultCompression); return z })
	run("stdlib-1", func(w io.Writer) io.WriteCloser { z, _ := stdflate.NewWriter(w, 1); return z })
	for _, l := range []int{1, 2, 3, 5} {
		run(fmt.Sprintf("klauspost-%d", l), func(w io.Writer) io.WriteCloser { z, _ := flate.NewWriter(w, l); return z })
	}
}

type countingDiscard int64

func (c *countingDiscard) Write(p []byte) (int, error) {
	*c += countingDiscard(len(p))
	return len(p), nil
}

// BenchmarkStoredObject measures what holding a STORED object back costs (so that its CRC-32 and
// sizes go in the local header, as VITAM's streaming reader needs), against streaming it with a
// data descriptor as archive/zip's CreateHeader does (the layout VITAM refuses): a 64 KiB photo
// stays in memory, an 8 MiB scan goes through a temporary file.
func BenchmarkStoredObject(b *testing.B) {
	for _, size := range []int{64 << 10, 8 << 20} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{4}).Read(data)
		b.Run(fmt.Sprintf("held-back/%dKiB", size>>10), func(b *testing.B) {
			w, err := seda.NewWriter(io.Discard, testHeader(seda.V22), seda.WithTempDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := w.AddObject(seda.Object{Name: fmt.Sprintf("d%d.jpg", i), MimeType: "image/jpeg"}, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("data-descriptor/%dKiB", size>>10), func(b *testing.B) {
			zw := zip.NewWriter(io.Discard)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				e, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("Content/d%d.jpg", i), Method: zip.Store})
				if err != nil {
					b.Fatal(err)
				}
				h := sha256.New() // the writer hashes every object too
				if _, err := io.Copy(io.MultiWriter(e, h), bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
