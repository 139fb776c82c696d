package index_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/versement/versement/index"
	"github.com/versement/versement/index/indextest"
)

// benchEntries is the size of the benchmarks' index; VERSEMENT_INDEX_BENCH_N changes it (the
// 1M figures come from bench/index-search.sh).
func benchEntries() int {
	if n, err := strconv.Atoi(os.Getenv("VERSEMENT_INDEX_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 20000
}

var (
	benchOnce  sync.Once
	benchPath  string
	benchErr   error
	benchGen   = indextest.NewGenerator(2026)
	benchDir   string
	benchBuilt int
)

// benchIndex builds the benchmarks' index once per process, in a temporary folder removed by
// TestMain's caller: the go test cache folder would keep it.
func benchIndex(b *testing.B) *index.SQLite {
	b.Helper()
	ctx := context.Background()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "index-bench")
		if benchErr != nil {
			return
		}
		benchPath = filepath.Join(benchDir, "index.db")
		s, err := index.Open(ctx, benchPath)
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		n := benchEntries()
		var es []index.Entry
		for i := range n {
			es = append(es, benchGen.Entry(i))
			if len(es) == 2000 || i == n-1 {
				if benchErr = s.Put(ctx, es...); benchErr != nil {
					return
				}
				es = es[:0]
			}
		}
		benchBuilt = n
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	s, err := index.Open(ctx, benchPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func BenchmarkSearch(b *testing.B) {
	s := benchIndex(b)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		q    func(r *rand.Rand, e index.Entry) index.Query
	}{
		{"Identifier", func(r *rand.Rand, e index.Entry) index.Query {
			return index.Query{Identifier: e.Identifiers[r.IntN(len(e.Identifiers))].Value}
		}},
		{"NameBorn", func(r *rand.Rand, e index.Entry) index.Query {
			return index.Query{Name: e.Person.BirthName + " " + e.Person.FirstName, Born: e.Person.BirthDate}
		}},
		{"TypoBornYear", func(r *rand.Rand, e index.Entry) index.Query {
			return index.Query{Name: indextest.Typo(r, e.Person.BirthName) + " " + e.Person.FirstName, Born: e.Person.BirthDate[:4]}
		}},
		{"NameAlone", func(r *rand.Rand, e index.Entry) index.Query {
			return index.Query{Name: e.Person.FirstName + " " + e.Person.BirthName}
		}},
		{"NameYear", func(r *rand.Rand, e index.Entry) index.Query {
			return index.Query{Name: e.Person.BirthName, Year: 2000 + r.IntN(20)}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			qs := make([]index.Query, 256)
			for i := range qs {
				qs[i] = c.q(r, benchGen.Entry(r.IntN(benchBuilt)))
			}
			i := 0
			for b.Loop() {
				if _, err := s.Search(ctx, qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s, err := index.Open(ctx, filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := indextest.NewGenerator(1)
	es := make([]index.Entry, 1000)
	n := 0
	for b.Loop() {
		for j := range es {
			es[j] = g.Entry(n)
			n++
		}
		if err := s.Put(ctx, es...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/entry")
}
