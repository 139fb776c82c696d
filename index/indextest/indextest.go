// Package indextest is the conformance suite every index.Store passes: the SQLite store now, the
// PostgreSQL store later. Run it from the store's own tests with a function that opens an empty
// store:
//
//	func TestConformance(t *testing.T) {
//		indextest.Run(t, func(t *testing.T) index.Store { … })
//	}
package indextest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versement/versement/index"
)

// Open returns a new, empty store; the suite closes it.
type Open func(t *testing.T) index.Store

// Run runs the whole suite, each case on a store of its own.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, index.Store)
	}{
		{"PutGetCount", testPutGetCount},
		{"Replace", testReplace},
		{"Forget", testForget},
		{"BatchIsAtomic", testBatchIsAtomic},
		{"Identifier", testIdentifier},
		{"NameFolding", testNameFolding},
		{"NameOrder", testNameOrder},
		{"Typos", testTypos},
		{"ExactBeforeFuzzy", testExactBeforeFuzzy},
		{"Born", testBorn},
		{"Year", testYear},
		{"Limit", testLimit},
		{"BadQueries", testBadQueries},
		{"RepeatedName", testRepeatedName},
		{"Concurrent", testConcurrent},
		{"SearchWhileReplacing", testSearchWhileReplacing},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			c.f(t, s)
		})
	}
}

// Sample returns the suite's entries: people whose names exercise folding, particles and typos.
func Sample() []index.Entry {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := func(profile, key, first, birth, usage, born, start, end string, ids ...string) index.Entry {
		x := index.Entry{
			Profile: profile, Class: "dossier-etudiant", Tier: "intermediaire", Key: key,
			Title:     "Dossier " + key,
			Person:    index.Person{FirstName: first, BirthName: birth, UsageName: usage, BirthDate: born},
			StartDate: start, EndDate: end,
			Rule: "APP-50", FinalAction: "Keep", RuleStart: end, DUAEnd: "2062-06-30",
			AccessRule: "AR038", AccessStart: end, AccessEnd: "2087-06-30",
			SIP: "apogee-0001.zip", SIPDigest: strings.Repeat("ab", 32), Target: "dir:///srv/archives",
			Objects:  []index.Object{{Name: "Content/D" + key + "-1.json", Size: 1234, Algorithm: "SHA-512", Digest: strings.Repeat("cd", 64), MIME: "application/json"}},
			Archived: at,
		}
		for i := 0; i+1 < len(ids); i += 2 {
			x.Identifiers = append(x.Identifiers, index.Identifier{Name: ids[i], Value: ids[i+1]})
		}
		return x
	}
	return []index.Entry{
		e("apogee", "1001", "Hervé", "RICHARD", "", "1990-05-12", "2008-09-01", "2012-06-30", "COD_ETU", "20000001", "INE", "0123456789A"),
		e("apogee", "1002", "Marie-Hélène", "LE GOFF", "DUPONT", "1991-02-03", "2010-09-01", "2011-06-30", "COD_ETU", "20000002"),
		e("apogee", "1003", "Zoé", "BŒUF", "", "1995-11-30", "2014-09-01", "2015-06-30", "COD_ETU", "20000003"),
		e("apogee", "1004", "Loïc", "MARTIN", "", "1990-07-01", "2009-09-01", "2010-06-30", "COD_ETU", "20000004"),
		e("apogee", "1005", "Loïc", "MARTIN", "", "1985-01-01", "2003-09-01", "2004-06-30", "COD_ETU", "20000005"),
		e("apogee", "1006", "Camille", "PETIT", "", "1992-03-04", "2011-09-01", "2013-06-30", "COD_ETU", "20000006"),
		e("apogee", "1007", "Jean-Christophe", "KERGUÉLEN", "", "1988-08-08", "2006-09-01", "2007-06-30", "COD_ETU", "20000007"),
		e("apogee", "1008", "Loïc", "MARTON", "", "1990-02-02", "2009-09-01", "2010-06-30", "COD_ETU", "20000008"),
		e("apogee", "1009", "Anna", "STRAUß", "", "1993-01-01", "2012-09-01", "2012-12-31"),
		e("harpege", "1001", "Jean", "DUPONT", "", "1970-01-01", "1995-09-01", "2020-08-31", "MATRICULE", "H0042"),
	}
}

func put(t *testing.T, s index.Store, es ...index.Entry) {
	t.Helper()
	if err := s.Put(context.Background(), es...); err != nil {
		t.Fatal(err)
	}
}

func search(t *testing.T, s index.Store, q index.Query) []index.Match {
	t.Helper()
	ms, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return ms
}

// keys are the profile/key of each match, in order.
func keys(ms []index.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Entry.Profile+"/"+m.Entry.Key)
	}
	return out
}

func wantKeys(t *testing.T, s index.Store, q index.Query, want ...string) []index.Match {
	t.Helper()
	ms := search(t, s, q)
	got := keys(ms)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%+v: got %v, want %v", q, got, want)
	}
	return ms
}

func testPutGetCount(t *testing.T, s index.Store) {
	ctx := context.Background()
	sample := Sample()
	put(t, s, sample...)
	n, err := s.Count(ctx)
	if err != nil || n != int64(len(sample)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(sample))
	}
	for _, want := range sample {
		got, err := s.Get(ctx, want.Profile, want.Key)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) || !got.Archived.Equal(want.Archived) {
			t.Errorf("Get %s/%s:\n got %#v\nwant %#v", want.Profile, want.Key, got, want)
		}
	}
	_, err = s.Get(ctx, "apogee", "9999")
	if !errors.Is(err, index.ErrNotFound) || err.Error() != `index: dossier "9999" of profile "apogee": not in the index` {
		t.Errorf("Get absent: %v", err)
	}
	// The same key in another profile is another dossier.
	if _, err := s.Get(ctx, "scolarite", "1001"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("Get of another profile: %v", err)
	}
}

func testReplace(t *testing.T, s index.Store) {
	ctx := context.Background()
	sample := Sample()
	put(t, s, sample...)
	again := sample[0]
	again.Person = index.Person{FirstName: "Hervé", BirthName: "RICHARD", UsageName: "LAMBERT", BirthDate: "1990-05-12"}
	again.Identifiers = []index.Identifier{{Name: "COD_ETU", Value: "20009999"}}
	again.SIP = "apogee-0002.zip"
	put(t, s, again)
	if n, _ := s.Count(ctx); n != int64(len(sample)) {
		t.Errorf("Count after replacing = %d, want %d", n, len(sample))
	}
	got, err := s.Get(ctx, "apogee", "1001")
	if err != nil || got.SIP != "apogee-0002.zip" {
		t.Fatalf("Get after replacing: %v, SIP %q", err, got.SIP)
	}
	wantKeys(t, s, index.Query{Identifier: "20000001"})
	wantKeys(t, s, index.Query{Identifier: "0123456789A"})
	wantKeys(t, s, index.Query{Identifier: "20009999"}, "apogee/1001")
	wantKeys(t, s, index.Query{Name: "Lambert", Born: "1990"}, "apogee/1001")
	// Twice in one batch: the last wins.
	b := again
	b.Person.UsageName = "MOREAU"
	put(t, s, again, b)
	wantKeys(t, s, index.Query{Name: "Lambert", Born: "1990"})
	wantKeys(t, s, index.Query{Name: "Moreau Hervé", Born: "1990"}, "apogee/1001")
}

func testForget(t *testing.T, s index.Store) {
	ctx := context.Background()
	sample := Sample()
	put(t, s, sample...)
	if err := s.Forget(ctx, "apogee", "1007"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "apogee", "1007"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("Get after Forget: %v", err)
	}
	if n, _ := s.Count(ctx); n != int64(len(sample)-1) {
		t.Errorf("Count after Forget = %d, want %d", n, len(sample)-1)
	}
	wantKeys(t, s, index.Query{Name: "Kerguelen"})
	wantKeys(t, s, index.Query{Identifier: "20000007"})
	wantKeys(t, s, index.Query{Year: 2006, Profile: "apogee"})
	if err := s.Forget(ctx, "apogee", "1007"); err != nil {
		t.Errorf("Forget absent: %v", err)
	}
	// Forgetting one of two holders of a name leaves the other findable.
	if err := s.Forget(ctx, "apogee", "1004"); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, s, index.Query{Name: "Loïc Martin"}, "apogee/1005", "apogee/1008") // MARTON: 1 edit
	// And the entry can come back.
	put(t, s, sample[6])
	wantKeys(t, s, index.Query{Name: "Kerguelen"}, "apogee/1007")
}

func testBatchIsAtomic(t *testing.T, s index.Store) {
	ctx := context.Background()
	sample := Sample()
	bad := sample[1]
	bad.Key = ""
	err := s.Put(ctx, sample[0], bad)
	if err == nil || err.Error() != "index: entry 2 of 2 has no profile or no key" {
		t.Fatalf("Put with a keyless entry: %v", err)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("Count after a refused batch = %d, want 0", n)
	}
	if err := s.Put(ctx); err != nil {
		t.Errorf("empty Put: %v", err)
	}
}

func testIdentifier(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	ms := wantKeys(t, s, index.Query{Identifier: "20000001"}, "apogee/1001")
	if ms[0].Score != 1 || ms[0].Reason != index.ReasonIdentifier || ms[0].Why != "identifiant COD_ETU exact" {
		t.Errorf("match: score %v reason %q why %q", ms[0].Score, ms[0].Reason, ms[0].Why)
	}
	ms = wantKeys(t, s, index.Query{Identifier: " 0123456789A "}, "apogee/1001")
	if ms[0].Why != "identifiant INE exact" {
		t.Errorf("why %q", ms[0].Why)
	}
	wantKeys(t, s, index.Query{Identifier: "0123456789a"}) // exact: case matters
	wantKeys(t, s, index.Query{Identifier: "2000000"})     // exact: no prefix
	ms = wantKeys(t, s, index.Query{Identifier: "1001"}, "apogee/1001", "harpege/1001")
	if ms[0].Reason != index.ReasonKey || ms[0].Why != "clé du dossier exacte" {
		t.Errorf("key match: %q %q", ms[0].Reason, ms[0].Why)
	}
	wantKeys(t, s, index.Query{Identifier: "1001", Profile: "harpege"}, "harpege/1001")
	wantKeys(t, s, index.Query{Identifier: "H0042"}, "harpege/1001")
	// Other fields narrow an identifier.
	wantKeys(t, s, index.Query{Identifier: "1001", Name: "Dupont"}, "harpege/1001")
	wantKeys(t, s, index.Query{Identifier: "1001", Born: "1990"}, "apogee/1001")
	wantKeys(t, s, index.Query{Identifier: "20000001", Name: "Martin"})
}

func testNameFolding(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	for _, name := range []string{"LE GOFF", "le goff", "Le-Goff", "LEGOFF", "Le Goff Marie-Hélène", "legoff marie helene", "Marie Helene Dupont", "MARIEHELENE", "l'egoff"} {
		ms := wantKeys(t, s, index.Query{Name: name}, "apogee/1002")
		if len(ms) == 1 && (ms[0].Score != 1 || ms[0].Reason != index.ReasonName || ms[0].Edits != 0 || ms[0].Why != "nom exact") {
			t.Errorf("%q: score %v reason %q edits %d why %q", name, ms[0].Score, ms[0].Reason, ms[0].Edits, ms[0].Why)
		}
	}
	for _, name := range []string{"BŒUF", "boeuf", "Zoe Boeuf", "ZOÉ BOEUF"} {
		wantKeys(t, s, index.Query{Name: name}, "apogee/1003")
	}
	for _, name := range []string{"strauss", "STRAUSS Anna", "Strauß"} {
		wantKeys(t, s, index.Query{Name: name}, "apogee/1009")
	}
	// Every word must match: a name the person does not have excludes them.
	wantKeys(t, s, index.Query{Name: "Le Goff Camille"})
}

func testNameOrder(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	for _, name := range []string{"Hervé Richard", "RICHARD Hervé", "richard herve", "Richard-Hervé", "  richard , HERVE "} {
		wantKeys(t, s, index.Query{Name: name, Born: "1990-05-12"}, "apogee/1001")
	}
}

func testTypos(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	cases := []struct {
		name  string
		want  []string
		edits int
	}{
		{"Richrad Hervé", []string{"apogee/1001"}, 1}, // transposition: 1 edit
		{"Ricard Herve", []string{"apogee/1001"}, 1},  // deletion
		{"Richard Hevre", []string{"apogee/1001"}, 1},
		{"Richardd Herbe", []string{"apogee/1001"}, 2}, // one edit in each word
		{"PETTI", []string{"apogee/1006"}, 1},          // 5 letters, 1 transposition
		{"PETIX", []string{"apogee/1006"}, 1},
		{"PATIX", nil, 0}, // 5 letters, 2 edits: no
		{"PTIT", []string{"apogee/1006"}, 1},
		{"KREGUELAN", []string{"apogee/1007"}, 2}, // 9 letters: 2 edits (transposition + substitution)
		{"KERGUELLENN", []string{"apogee/1007"}, 2},
		{"KREGUALAN", nil, 0}, // 3 edits: no
		{"Jean-Cristophe Kerguelen", []string{"apogee/1007"}, 1},
		{"Jeanchristofe Kerguelen", []string{"apogee/1007"}, 2}, // joined first names, 2 edits on 13 letters
		{"LEGOF", []string{"apogee/1002"}, 1},
		{"De Gaff", nil, 0}, // particles are exact ("de" is not "le"), and "degaff" is 2 edits from "legoff"
	}
	for _, c := range cases {
		ms := wantKeys(t, s, index.Query{Name: c.name}, c.want...)
		if len(ms) == 1 && len(c.want) == 1 {
			m := ms[0]
			faute := "faute"
			if c.edits > 1 {
				faute = "fautes"
			}
			if m.Edits != c.edits || m.Reason != index.ReasonNameFuzzy || m.Score >= 1 || m.Why != fmt.Sprintf("nom à %d %s près", c.edits, faute) {
				t.Errorf("%q: edits %d reason %q score %v why %q; want %d edits", c.name, m.Edits, m.Reason, m.Score, m.Why, c.edits)
			}
		}
	}
}

func testExactBeforeFuzzy(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	// MARTON (1 edit from MARTIN) was born in 1990 too, before MARTIN in the year: it still comes
	// after the exact name.
	ms := wantKeys(t, s, index.Query{Name: "Loic Martin", Born: "1990"}, "apogee/1004", "apogee/1008")
	if len(ms) == 2 && !(ms[0].Score > ms[1].Score && ms[0].Edits == 0 && ms[1].Edits == 1) {
		t.Errorf("scores %v, %v; edits %d, %d", ms[0].Score, ms[1].Score, ms[0].Edits, ms[1].Edits)
	}
	ms = wantKeys(t, s, index.Query{Name: "Loic Marton", Born: "1990"}, "apogee/1008", "apogee/1004")
	if len(ms) == 2 && ms[0].Why != "nom exact, année de naissance" {
		t.Errorf("why %q", ms[0].Why)
	}
	got := keys(search(t, s, index.Query{Name: "Martin Loic"}))
	if len(got) != 3 || got[2] != "apogee/1008" {
		t.Errorf("Martin Loic: %v, want the two MARTIN then MARTON", got)
	}
}

func testBorn(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	wantKeys(t, s, index.Query{Name: "Loïc Martin", Born: "1990"}, "apogee/1004", "apogee/1008")
	wantKeys(t, s, index.Query{Name: "Loïc Martin", Born: "1985-01-01"}, "apogee/1005")
	ms := wantKeys(t, s, index.Query{Name: "Loïc Martin", Born: "1985-01-01"}, "apogee/1005")
	if len(ms) == 1 && ms[0].Why != "nom exact, date de naissance" {
		t.Errorf("why %q", ms[0].Why)
	}
	wantKeys(t, s, index.Query{Name: "Loïc Martin", Born: "1985-01-02"})
	wantKeys(t, s, index.Query{Name: "Loïc Martin", Born: "1986"})
	wantKeys(t, s, index.Query{Name: "Richrad", Born: "1990"}, "apogee/1001")
	wantKeys(t, s, index.Query{Name: "Richrad", Born: "1991"})
}

func testYear(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	// 1001 is registered 2008–2012: every year of the span, not only its ends.
	for _, y := range []int{2008, 2010, 2012} {
		wantKeys(t, s, index.Query{Name: "Richard", Year: y}, "apogee/1001")
	}
	wantKeys(t, s, index.Query{Name: "Richard", Year: 2007})
	wantKeys(t, s, index.Query{Name: "Richard", Year: 2013})
	ms := wantKeys(t, s, index.Query{Year: 2011}, "apogee/1001", "apogee/1002", "apogee/1006", "harpege/1001")
	if len(ms) > 0 && (ms[0].Reason != index.ReasonYear || ms[0].Why != "inscrit en 2011") {
		t.Errorf("year alone: %q %q", ms[0].Reason, ms[0].Why)
	}
	wantKeys(t, s, index.Query{Year: 2011, Profile: "harpege"}, "harpege/1001")
	wantKeys(t, s, index.Query{Year: 1960})
	wantKeys(t, s, index.Query{Year: 2012, Born: "1993"}, "apogee/1009")
}

func testLimit(t *testing.T, s index.Store) {
	ctx := context.Background()
	var es []index.Entry
	for i := range 60 {
		es = append(es, index.Entry{Profile: "apogee", Key: fmt.Sprint(5000 + i), StartDate: "2020-09-01", EndDate: "2021-06-30",
			Person: index.Person{FirstName: "Camille", BirthName: "DURAND", BirthDate: fmt.Sprintf("%d-01-01", 1980+i%20)}})
	}
	put(t, s, es...)
	if got := search(t, s, index.Query{Name: "Durand"}); len(got) != index.DefaultLimit {
		t.Errorf("name alone: %d matches, want the default limit %d", len(got), index.DefaultLimit)
	}
	got := search(t, s, index.Query{Name: "Camille Durand", Limit: 10})
	if len(got) != 10 {
		t.Fatalf("limit 10: %d matches", len(got))
	}
	// The ten are the first ten in rank: by birth year, three a year.
	for _, m := range got {
		if m.Entry.Person.BirthDate > "1983-01-01" {
			t.Errorf("limit 10 kept one born %s, after others left out", m.Entry.Person.BirthDate)
		}
	}
	if got := search(t, s, index.Query{Name: "Durand", Limit: 500}); len(got) != 60 {
		t.Errorf("limit 500: %d matches", len(got))
	}
	if got := search(t, s, index.Query{Name: "Durant", Limit: 7}); len(got) != 7 {
		t.Errorf("fuzzy, limit 7: %d matches", len(got))
	}
	if got := search(t, s, index.Query{Year: 2021, Limit: 5}); len(got) != 5 {
		t.Errorf("year, limit 5: %d matches", len(got))
	}
	_ = ctx
}

func testBadQueries(t *testing.T, s index.Store) {
	put(t, s, Sample()...)
	for _, c := range []struct {
		q    index.Query
		want string
	}{
		{index.Query{}, "bad query: give an identifier, a name or a registration year to search on"},
		{index.Query{Profile: "apogee", Name: "  "}, "bad query: give an identifier, a name or a registration year to search on"},
		{index.Query{Name: "r"}, "bad query: a name alone needs at least 2 letters"},
		{index.Query{Name: "É-"}, "bad query: a name alone needs at least 2 letters"},
		{index.Query{Name: "--"}, "bad query: the name has no letters"},
		{index.Query{Born: "1990"}, "bad query: a birth date narrows a search by name or identifier: give a name too"},
		{index.Query{Name: "Martin", Born: "90"}, "bad query: birth date must be YYYY or YYYY-MM-DD"},
		{index.Query{Name: "Martin", Born: "1990-13-01"}, "bad query: birth date must be YYYY or YYYY-MM-DD"},
		{index.Query{Name: "Martin", Born: "12/05/1990"}, "bad query: birth date must be YYYY or YYYY-MM-DD"},
		{index.Query{Name: "Martin", Year: 95}, "bad query: registration year 95 is not a four-digit year"},
		{index.Query{Name: "Martin", Limit: 501}, "bad query: limit 501 is outside 1–500"},
		{index.Query{Name: "Martin", Limit: -1}, "bad query: limit -1 is outside 1–500"},
		{index.Query{Name: "a b c d e f g h i"}, "bad query: a name has at most 8 words"},
	} {
		_, err := s.Search(context.Background(), c.q)
		if !errors.Is(err, index.ErrBadQuery) || err.Error() != c.want {
			t.Errorf("%+v: %v; want %q", c.q, err, c.want)
		}
	}
	// A one-letter name is allowed when something else narrows it.
	if _, err := s.Search(context.Background(), index.Query{Name: "r", Born: "1990"}); err != nil {
		t.Errorf("one letter with a birth year: %v", err)
	}
}

func testConcurrent(t *testing.T, s index.Store) {
	ctx := context.Background()
	put(t, s, Sample()...)
	const writers, batches, per = 2, 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var es []index.Entry
				for i := range per {
					k := fmt.Sprintf("w%d-%d-%d", w, b, i)
					es = append(es, index.Entry{Profile: "apogee", Key: k, Identifiers: []index.Identifier{{Name: "COD_ETU", Value: k}},
						Person: index.Person{FirstName: "Paul", BirthName: "BERNARD", BirthDate: "1999-09-09"}})
				}
				if err := s.Put(ctx, es...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	written := make(chan struct{})
	go func() { wg.Wait(); close(written) }()
	var searches int
	go func() {
		defer close(done)
		for {
			ms, err := s.Search(ctx, index.Query{Name: "Hervé Richard", Born: "1990"})
			if err != nil {
				errs <- err
				return
			}
			if len(ms) != 1 {
				errs <- fmt.Errorf("search during writes: %d matches", len(ms))
				return
			}
			if _, err := s.Search(ctx, index.Query{Name: "Paul Bernard", Born: "1999", Limit: 500}); err != nil {
				errs <- err
				return
			}
			searches++
			select {
			case <-written:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	<-written
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.Count(ctx); n != int64(len(Sample())+writers*batches*per) {
		t.Errorf("Count = %d", n)
	}
	if searches == 0 {
		t.Error("no search ran alongside the writes")
	}
	if got := search(t, s, index.Query{Name: "Paul Bernard", Born: "1999", Limit: 500}); len(got) != writers*batches*per {
		t.Errorf("%d Paul Bernard, want %d", len(got), writers*batches*per)
	}
	wantKeys(t, s, index.Query{Identifier: "w1-9-19"}, "apogee/w1-9-19")
}

// testSearchWhileReplacing: a dossier archived again while it is searched for is always found
// once, never an error, never twice (a search sees one state of the index).
func testSearchWhileReplacing(t *testing.T, s index.Store) {
	ctx := context.Background()
	sample := Sample()
	put(t, s, sample...)
	done := make(chan error, 1)
	go func() {
		for i := range 100 {
			e := sample[0]
			e.SIP = fmt.Sprintf("apogee-%04d.zip", i)
			if err := s.Put(ctx, e); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for n := 0; ; n++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Log("the writer finished before the first search")
			}
			return
		default:
		}
		for _, q := range []index.Query{{Name: "Hervé Richard", Born: "1990"}, {Identifier: "20000001"}, {Year: 2009, Profile: "apogee"}} {
			ms, err := s.Search(ctx, q)
			if err != nil {
				t.Fatalf("%+v while replacing: %v", q, err)
			}
			got := keys(ms)
			if once := slices.DeleteFunc(slices.Clone(got), func(k string) bool { return k != "apogee/1001" }); len(once) != 1 {
				t.Fatalf("%+v while replacing: %v", q, got)
			}
		}
	}
}

// testRepeatedName: each word typed matches a name of its own, so "Marie Marie" is a person with
// two names Marie, and a misspelt "Mrie Marie" finds her rather than every Marie.
func testRepeatedName(t *testing.T, s index.Store) {
	e := func(key, first, birth string) index.Entry {
		return index.Entry{Profile: "apogee", Key: key, Person: index.Person{FirstName: first, BirthName: birth, BirthDate: "2002-12-15"}}
	}
	put(t, s, e("1", "Marie", "MARIE"), e("2", "Marie", "DURAND"), e("3", "Anne", "MARIE"), e("4", "Marie-Marie", "DUPONT"))
	wantKeys(t, s, index.Query{Name: "Marie", Born: "2002"}, "apogee/1", "apogee/2", "apogee/3", "apogee/4")
	ms := wantKeys(t, s, index.Query{Name: "Marie Marie", Born: "2002"}, "apogee/1", "apogee/4")
	if len(ms) == 2 && (ms[0].Edits != 0 || ms[1].Edits != 0) {
		t.Errorf("Marie Marie: edits %d, %d", ms[0].Edits, ms[1].Edits)
	}
	ms = wantKeys(t, s, index.Query{Name: "Mrie Marie", Born: "2002"}, "apogee/1", "apogee/4")
	if len(ms) == 2 && ms[0].Edits != 1 {
		t.Errorf("Mrie Marie: edits %d", ms[0].Edits)
	}
	wantKeys(t, s, index.Query{Name: "Durand Durand"})
}
