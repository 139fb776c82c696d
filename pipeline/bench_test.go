package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/seda"
)

// BenchmarkPlan is a dry run of the built-in Apogée profile over the demo database (400 dossiers):
// reading, deciding and counting.
func BenchmarkPlan(b *testing.B) {
	src := openDemo(b)
	p, err := profiles.Builtin("apogee")
	if err != nil {
		b.Fatal(err)
	}
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	var n int64
	for b.Loop() {
		rep, err := Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf, DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		n += rep.Dossiers
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "dossiers/s")
}

// BenchmarkDecide is the decision of one dossier (its Env and the rule), without reading.
func BenchmarkDecide(b *testing.B) {
	p, c, ds := demoDossiersInMemory(b)
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	i := 0
	for b.Loop() {
		_ = Decide(p, c, ds[i%len(ds)], asOf)
		i++
	}
}

// BenchmarkDescribe renders a dossier's Content (templates and date expressions).
func BenchmarkDescribe(b *testing.B) {
	_, c, ds := demoDossiersInMemory(b)
	i := 0
	for b.Loop() {
		if _, err := c.Describe(ds[i%len(ds)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRun is a whole run (read, decide, package, send to a dir:// target, record) of the demo
// database (400 dossiers) into a fresh state each time: the benchmark to profile the pipeline with
// (`go test ./pipeline -run XXX -bench Run -benchtime 5x -cpuprofile cpu.prof`).
// VERSEMENT_BENCH_DB names a larger base instead (versement demo-db --dossiers 100000).
func BenchmarkRun(b *testing.B) {
	db := os.Getenv("VERSEMENT_BENCH_DB")
	if db == "" {
		db = demoDB(b)
	}
	var n int64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		p, err := profiles.Builtin("apogee")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := Execute(context.Background(), JobSpec{Profile: p, Source: "sqlite:" + db, Target: "dir://" + dir + "/out",
			State: dir + "/state", AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}})
		if err != nil {
			b.Fatal(err)
		}
		n += rep.Dossiers
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "dossiers/s")
}

// BenchmarkVerifyBeforeSend is the check every SIP of BenchmarkRun goes through before it is sent
// (seda.Verify with its defaults, over the SIPs of one run of the demo database): the part of a
// run's time that verification costs.
func BenchmarkVerifyBeforeSend(b *testing.B) {
	dir := b.TempDir()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Execute(context.Background(), JobSpec{Profile: p, Source: "sqlite:" + demoDB(b), Target: "dir://" + dir + "/out",
		State: dir + "/state", AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}}); err != nil {
		b.Fatal(err)
	}
	sips, _ := filepath.Glob(filepath.Join(dir, "out", "*.zip"))
	var bytes int64
	for b.Loop() {
		bytes = 0
		for _, path := range sips {
			vr, err := seda.Verify(context.Background(), path, seda.VerifyOptions{})
			if err != nil || !vr.OK() {
				b.Fatal(err, vr.Findings)
			}
			bytes += vr.PayloadBytes
		}
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(len(sips)), "SIPs")
}

// demoDossiersInMemory reads the demo database's Apogée dossiers once, so that a benchmark measures
// the work on a dossier and not the reading.
func demoDossiersInMemory(b *testing.B) (*profiles.Profile, *profiles.Class, []*extract.Dossier) {
	b.Helper()
	src := openDemo(b)
	p, err := profiles.Builtin("apogee")
	if err != nil {
		b.Fatal(err)
	}
	c := &p.Classes[0]
	var ds []*extract.Dossier
	for d, err := range src.Dossiers(context.Background(), c.ExtractSpec()) {
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, d)
	}
	return p, c, ds
}
