// Command extract-bench reads every dossier of a demo class from a source and renders each as its
// JSON document (to nowhere), then prints one line of figures: dossiers, rows, JSON bytes, LOB
// bytes, seconds, dossiers/s, MB/s and the peak RSS of the process. bench/extract.sh drives it.
//
//	go run ./bench/extract -source sqlite:apogee.db -profile apogee
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func main() {
	spec := flag.String("source", "", "source spec (sqlite:PATH, env:VAR, file:PATH)")
	profile := flag.String("profile", "apogee", "apogee or harpege")
	batch := flag.Int("batch", 0, "dossiers per batch (0: default)")
	lobs := flag.Bool("lobs", true, "read every LOB's bytes too")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	src, err := extract.OpenWith(ctx, *spec, extract.Options{BatchSize: *batch})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer src.Close()
	class, err := demo.Class(*profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out, lobBytes counter
	dossiers, rows := 0, 0
	start := time.Now()
	for d, err := range src.Dossiers(ctx, class) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		if err := d.WriteJSON(&out, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if *lobs {
			for r := range d.LOBs() {
				rc, err := r.LOB.Open(ctx)
				if err == nil {
					_, err = io.Copy(&lobBytes, rc)
					rc.Close()
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
			}
		}
		for _, t := range d.Tables {
			rows += len(t.Rows)
		}
		dossiers++
	}
	secs := time.Since(start).Seconds()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	mb := float64(out.n+lobBytes.n) / 1e6
	fmt.Printf("dossiers=%d rows=%d json_bytes=%d lob_bytes=%d seconds=%.3f dossiers_per_s=%.0f mb_per_s=%.1f peak_rss_kb=%d\n",
		dossiers, rows, out.n, lobBytes.n, secs, float64(dossiers)/secs, mb/secs, ru.Maxrss)
}
