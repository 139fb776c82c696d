package accesslog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/accesslog"
)

// BenchmarkAppend is one fsync'd entry, the cost every consultation pays before it is shown.
func BenchmarkAppend(b *testing.B) {
	l, err := accesslog.Open(filepath.Join(b.TempDir(), "access.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := day()[1]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Key = fmt.Sprint(i)
		if _, err := l.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForKey lists one dossier's accesses in a log of 100,000 entries (a few years of a
// university's consultations): the whole log is read and its chain checked.
func BenchmarkForKey(b *testing.B) {
	// Written in memory when the machine has a tmpfs: 100,000 fsyncs on a disk take minutes, and
	// what is measured is the reading.
	dir := b.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "accesslog-bench"); err == nil {
		dir = d
		defer os.RemoveAll(d)
	}
	p := filepath.Join(dir, "access.jsonl")
	l, err := accesslog.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ents := day()
	for i := 0; i < 100_000; i++ {
		e := ents[i%len(ents)]
		e.Key = fmt.Sprint(i % 5000)
		if e.Operation == accesslog.OpSearch {
			e.Found = []accesslog.Dossier{{Profile: "apogee", Key: fmt.Sprint(i % 5000)}, {Profile: "apogee", Key: "42"}}
		}
		if _, err := l.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := l.ForKey(ctx, "apogee", "42", func(accesslog.Entry) error { n++; return nil }); err != nil || n == 0 {
			b.Fatal(n, err)
		}
	}
	if fi, err := os.Stat(p); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "MB-log")
	}
}
