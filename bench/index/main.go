// Command index measures the consultation index's search latency on a large index, against the
// sqlite3 CLI scanning a flat table of the same people with LIKE/lower(): see
// bench/index-search.sh, which runs it.
//
//	go run ./bench/index -n 1000000 -index /tmp/idx.db -plain /tmp/plain.db -queries 200 -cli 10
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/versement/versement/index"
	"github.com/versement/versement/index/indextest"

	_ "modernc.org/sqlite"
)

func main() {
	n := flag.Int("n", 100000, "entries in the index")
	path := flag.String("index", "", "index file (reused when it holds -n entries)")
	plain := flag.String("plain", "", "flat SQLite table of the same people for the sqlite3 comparison (reused likewise); empty: no comparison")
	queries := flag.Int("queries", 200, "queries of each kind")
	cli := flag.Int("cli", 10, "queries of each kind the sqlite3 CLI runs")
	sqlite3 := flag.String("sqlite3", "sqlite3", "the sqlite3 CLI")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the searches here")
	only := flag.String("kind", "", "run only this kind of query")
	slowest := flag.Int("slowest", 0, "print the slowest queries of each kind (synthetic names)")
	flag.Parse()
	if *path == "" {
		fail(fmt.Errorf("-index is required"))
	}
	ctx := context.Background()
	g := indextest.NewGenerator(2026)
	if err := build(ctx, g, *path, *n); err != nil {
		fail(err)
	}
	if *plain != "" {
		if err := buildPlain(ctx, g, *plain, *n); err != nil {
			fail(err)
		}
	}
	s, err := index.Open(ctx, *path)
	if err != nil {
		fail(err)
	}
	defer s.Close()
	qs := makeQueries(g, *n, *queries)
	var ms runtime.MemStats
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, kind := range kinds {
		if *only != "" && kind != *only {
			continue
		}
		var lat []time.Duration
		type slow struct {
			d time.Duration
			q index.Query
			n int
		}
		var slows []slow
		found, total := 0, 0
		for _, q := range qs[kind] {
			t0 := time.Now()
			res, err := s.Search(ctx, q.Query)
			lat = append(lat, time.Since(t0))
			slows = append(slows, slow{lat[len(lat)-1], q.Query, len(res)})
			if err != nil {
				fail(fmt.Errorf("%s: %w", kind, err))
			}
			total++
			if slices.ContainsFunc(res, func(m index.Match) bool { return m.Entry.Key == q.key }) {
				found++
			} else if *slowest > 0 {
				e, _ := s.Get(ctx, "apogee", q.key)
				fmt.Printf("  missed %s: %+v (%d matches) looked for %+v\n", kind, q.Query, len(res), e.Person)
			}
		}
		slices.SortFunc(slows, func(a, b slow) int { return int(b.d - a.d) })
		for _, x := range slows[:min(*slowest, len(slows))] {
			fmt.Printf("  slow %s %.1f ms, %d matches: %+v\n", kind, float64(x.d.Microseconds())/1000, x.n, x.q)
		}
		p := percentiles(lat)
		fmt.Printf("versement kind=%s n=%d p50=%.2f p95=%.2f p99=%.2f recall=%.1f%%\n", kind, total, p[0], p[1], p[2], 100*float64(found)/float64(total))
	}
	runtime.ReadMemStats(&ms)
	fmt.Printf("memory heap_sys_mb=%.1f\n", float64(ms.HeapSys)/1e6)
	if *plain != "" {
		if _, err := exec.LookPath(*sqlite3); err != nil {
			fmt.Printf("sqlite3 skipped: %s is not installed\n", *sqlite3)
			return
		}
		for _, kind := range kinds {
			list := qs[kind]
			if len(list) > *cli {
				list = list[:*cli]
			}
			lat, found, err := runCLI(ctx, *sqlite3, *plain, list)
			if err != nil {
				fail(fmt.Errorf("sqlite3 %s: %w", kind, err))
			}
			p := percentiles(lat)
			fmt.Printf("sqlite3 kind=%s n=%d p50=%.2f p95=%.2f p99=%.2f recall=%.1f%%\n", kind, len(lat), p[0], p[1], p[2], 100*float64(found)/float64(len(lat)))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/index:", err)
	os.Exit(1)
}

// percentiles are p50, p95, p99 in milliseconds.
func percentiles(d []time.Duration) [3]float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		return float64(s[max(0, min(i, len(s)-1))].Microseconds()) / 1000
	}
	return [3]float64{at(.50), at(.95), at(.99)}
}

// build makes the index of n generated entries unless path already holds them.
func build(ctx context.Context, g *indextest.Generator, path string, n int) error {
	if _, err := os.Stat(path); err == nil {
		s, err := index.Open(ctx, path)
		if err != nil {
			return err
		}
		c, err := s.Count(ctx)
		s.Close()
		if err == nil && c == int64(n) {
			fi, _ := os.Stat(path)
			fmt.Printf("build reused=1 entries=%d bytes=%d\n", n, fi.Size())
			return nil
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			os.Remove(p)
		}
	}
	t0 := time.Now()
	s, err := index.Open(ctx, path)
	if err != nil {
		return err
	}
	const batch = 2000
	es := make([]index.Entry, 0, batch)
	var peak uint64
	for i := range n {
		es = append(es, g.Entry(i))
		if len(es) == batch || i == n-1 {
			if err := s.Put(ctx, es...); err != nil {
				s.Close()
				return err
			}
			es = es[:0]
			if i%100000 < batch {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	sec := time.Since(t0).Seconds()
	fmt.Printf("build reused=0 entries=%d seconds=%.1f per_second=%.0f bytes=%d heap_inuse_peak_mb=%.1f\n", n, sec, float64(n)/sec, fi.Size(), float64(peak)/1e6)
	return nil
}

// buildPlain writes the same people to one flat table, as someone with only the sqlite3 CLI
// would keep them: identifier columns indexed, names as typed.
func buildPlain(ctx context.Context, g *indextest.Generator, path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	var c int
	if db.QueryRowContext(ctx, `SELECT count(*) FROM plain`).Scan(&c) == nil && c == n {
		return nil
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS plain;
		CREATE TABLE plain(key TEXT, cod_etu TEXT, ine TEXT, other TEXT, first TEXT, birth TEXT, usage TEXT, born TEXT, y_from INT, y_to INT)`); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO plain VALUES (?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	for i := range n {
		e := g.Entry(i)
		id := map[string]string{}
		for _, x := range e.Identifiers {
			id[x.Name] = x.Value
		}
		yf, _ := strconv.Atoi(e.StartDate[:4])
		yt, _ := strconv.Atoi(e.EndDate[:4])
		if _, err := st.ExecContext(ctx, e.Key, id["COD_ETU"], id["INE"], id["COD_ETU_ANC"], e.Person.FirstName, e.Person.BirthName, e.Person.UsageName, e.Person.BirthDate, yf, yt); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `CREATE INDEX plain_key ON plain(key); CREATE INDEX plain_cod_etu ON plain(cod_etu);
		CREATE INDEX plain_ine ON plain(ine); CREATE INDEX plain_other ON plain(other)`)
	return err
}

// The kinds of query, as a scolarité agent types them.
var kinds = []string{"id", "name+born", "typo+year", "name-alone", "unaccented+year"}

type query struct {
	index.Query
	key string // the entry it is about
	sql string // the same search for the sqlite3 CLI
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// likeName is the obvious LIKE condition: every word typed appears in one of the name columns.
func likeName(name string) string {
	var c []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' || r == '\'' }) {
		l := quote("%" + strings.ToLower(w) + "%")
		c = append(c, fmt.Sprintf("(lower(birth) LIKE %s OR lower(usage) LIKE %s OR lower(first) LIKE %s)", l, l, l))
	}
	return strings.Join(c, " AND ")
}

func hasAccent(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII {
			return true
		}
	}
	return false
}

func makeQueries(g *indextest.Generator, n, per int) map[string][]query {
	r := rand.New(rand.NewPCG(7, 7))
	out := map[string][]query{}
	for len(out["id"]) < per {
		i := r.IntN(n)
		e := g.Entry(i)
		x := e.Identifiers[r.IntN(len(e.Identifiers))].Value
		out["id"] = append(out["id"], query{Query: index.Query{Identifier: x}, key: e.Key,
			sql: fmt.Sprintf("key = %[1]s OR cod_etu = %[1]s OR ine = %[1]s OR other = %[1]s", quote(x))})
	}
	order := func(e index.Entry) string {
		if r.IntN(2) == 0 {
			return e.Person.FirstName + " " + e.Person.BirthName
		}
		return strings.ToUpper(e.Person.BirthName) + " " + e.Person.FirstName
	}
	for len(out["name+born"]) < per {
		e := g.Entry(r.IntN(n))
		name := order(e)
		out["name+born"] = append(out["name+born"], query{Query: index.Query{Name: name, Born: e.Person.BirthDate}, key: e.Key,
			sql: fmt.Sprintf("born = %s AND %s", quote(e.Person.BirthDate), likeName(name))})
	}
	for len(out["typo+year"]) < per {
		e := g.Entry(r.IntN(n))
		name := indextest.Typo(r, e.Person.BirthName) + " " + e.Person.FirstName
		out["typo+year"] = append(out["typo+year"], query{Query: index.Query{Name: name, Born: e.Person.BirthDate[:4]}, key: e.Key,
			sql: fmt.Sprintf("born LIKE %s AND %s", quote(e.Person.BirthDate[:4]+"%"), likeName(name))})
	}
	for len(out["name-alone"]) < per {
		e := g.Entry(r.IntN(n))
		name := order(e)
		out["name-alone"] = append(out["name-alone"], query{Query: index.Query{Name: name}, key: e.Key, sql: likeName(name)})
	}
	for len(out["unaccented+year"]) < per {
		e := g.Entry(r.IntN(n))
		if !hasAccent(e.Person.FirstName + e.Person.BirthName) {
			continue
		}
		name := strings.ToUpper(index.Fold(e.Person.BirthName + " " + e.Person.FirstName))
		out["unaccented+year"] = append(out["unaccented+year"], query{Query: index.Query{Name: name, Born: e.Person.BirthDate[:4]}, key: e.Key,
			sql: fmt.Sprintf("born LIKE %s AND %s", quote(e.Person.BirthDate[:4]+"%"), likeName(name))})
	}
	return out
}

// runCLI runs the queries' SQL in one sqlite3 process with .timer on, and reads each query's
// keys and its "Run Time: real" line.
func runCLI(ctx context.Context, sqlite3, plain string, qs []query) ([]time.Duration, int, error) {
	var script bytes.Buffer
	script.WriteString(".mode list\n.timer on\n")
	for i, q := range qs {
		fmt.Fprintf(&script, "SELECT 'R', %d, ifnull(group_concat(key, ','), '') FROM (SELECT key FROM plain WHERE %s LIMIT %d);\n", i, q.sql, index.DefaultLimit)
	}
	cmd := exec.CommandContext(ctx, sqlite3, "-readonly", plain)
	cmd.Stdin = &script
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, err
	}
	var lat []time.Duration
	found := 0
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "R|"); ok {
			i, keys, _ := strings.Cut(rest, "|")
			k, _ := strconv.Atoi(i)
			if k < len(qs) && slices.Contains(strings.Split(keys, ","), qs[k].key) {
				found++
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Run Time: real "); ok {
			// "0.012 user 0.011234 sys 0.000100": real is printed to the millisecond only, user
			// and sys to the microsecond; sqlite3 is one thread reading cached pages, so
			// user+sys is its time when real rounds below it.
			f := strings.Fields(rest)
			var real, user, sys float64
			if len(f) >= 5 {
				real, _ = strconv.ParseFloat(f[0], 64)
				user, _ = strconv.ParseFloat(f[2], 64)
				sys, _ = strconv.ParseFloat(f[4], 64)
			}
			lat = append(lat, time.Duration(max(real, user+sys)*float64(time.Second)))
		}
	}
	if len(lat) != len(qs) {
		return nil, 0, fmt.Errorf("read %d timings for %d queries", len(lat), len(qs))
	}
	return lat, found, nil
}
