// Command mksip writes a synthetic SEDA SIP for the benchmarks in bench/: N objects of SIZE bytes
// each, random (stored, like photos) or JSON-like (deflated, like dossiers), one unit per object
// under a root unit. With -payload DIR it also writes the same bytes as plain files, so that
// sha256sum and openssl can hash exactly what verify hashes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/versement/versement/seda"
)

func main() {
	out := flag.String("out", "sip.zip", "SIP to write")
	payload := flag.String("payload", "", "also write the objects as files in this folder")
	files := flag.Int("files", 1, "number of objects")
	size := flag.Int64("size", 1<<30, "bytes per object")
	kind := flag.String("kind", "random", "random (stored) or json (deflated)")
	level := flag.Int("level", seda.DefaultDeflateLevel, "Deflate level")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := seda.NewWriter(bw, seda.Header{Version: seda.V22, MessageIdentifier: "BENCH", Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-1", ArchivalAgency: "ARCH", TransferringAgency: "DSI"}, seda.WithDeflateLevel(*level))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "bench"}}); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < *files; i++ {
		ext, mime := ".jpg", "image/jpeg"
		if *kind == "json" {
			ext, mime = ".json", "application/json"
		}
		name := fmt.Sprintf("obj-%07d%s", i, ext)
		var src io.Reader = io.LimitReader(newSource(*kind, uint64(i)), *size)
		var pf *os.File
		if *payload != "" {
			if pf, err = os.Create(filepath.Join(*payload, name)); err != nil {
				log.Fatal(err)
			}
			src = io.TeeReader(src, pf)
		}
		ow, err := w.AddObject(seda.Object{Name: name, MimeType: mime}, src)
		if err != nil {
			log.Fatal(err)
		}
		if pf != nil {
			if err := pf.Close(); err != nil {
				log.Fatal(err)
			}
		}
		if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: name}, Groups: []seda.GroupID{ow.Group()}}); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.CloseUnit(); err != nil {
		log.Fatal(err)
	}
	sum, err := w.Close()
	if err != nil {
		log.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	el := time.Since(start).Seconds()
	fmt.Printf("wrote %s: %d objects, %d payload bytes, zip %d bytes, %.2f s, %.0f MB/s payload\n",
		*out, sum.Objects, sum.PayloadBytes, sum.ZipSize, el, float64(sum.PayloadBytes)/el/1e6)
}

// source makes reproducible bytes: random, or JSON-like records that compress like real dossiers.
type source struct {
	rng  *rand.ChaCha8
	json bool
	buf  []byte
	i    int
}

func newSource(kind string, seed uint64) *source {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return &source{rng: rand.NewChaCha8(s), json: kind == "json"}
}

var names = []string{"DUPONT", "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND"}

func (s *source) Read(p []byte) (int, error) {
	if !s.json {
		return s.rng.Read(p)
	}
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			r := rand.New(s.rng)
			s.i++
			s.buf = fmt.Appendf(nil, `{"cod_etu":%d,"nom":"%s","prenom":"P%d","date_nai":"19%02d-%02d-%02d","cod_dip":"D%04d","note":%d.%02d,"res":null},`+"\n",
				s.i, names[r.IntN(len(names))], r.IntN(1000), r.IntN(100), 1+r.IntN(12), 1+r.IntN(28), r.IntN(5000), r.IntN(20), r.IntN(100))
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}
