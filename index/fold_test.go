package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hélène":                 "helene",
		"FRANÇOIS":               "francois",
		"GAUTIER-LEBŒUF":         "gautier leboeuf",
		"Strauß":                 "strauss",
		"STRAUẞ":                 "strauss",
		"L'HÔTE":                 "l hote",
		"d’Alembert":             "d alembert",
		"  Le   Goff ":           "le goff",
		"NGUYỄN Thị":             "nguyen thi",
		"Æsa Ørsted":             "aesa orsted",
		"Łukasz":                 "lukasz",
		"Maëlle-Anaïs":           "maelle anais",
		"O'NEILL Jr.":            "o neill jr",
		"ﬁlle":                   "fille",
		"Ｍａｒｔｉｎ":                 "martin",
		"Dupont\u00a0\u200bJean": "dupont jean",
		"":                       "",
		"--":                     "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameTokens(t *testing.T) {
	got := NameTokens(Person{FirstName: "Marie-Hélène", BirthName: "DE LA FONTAINE", UsageName: "Dupont"})
	want := []string{"de", "la", "fontaine", "dela", "delafontaine", "lafontaine", "dupont", "marie", "helene", "mariehelene"}
	if !slices.Equal(got, want) {
		t.Errorf("NameTokens = %q\nwant %q", got, want)
	}
	if got := NameTokens(Person{FirstName: "Marie", BirthName: "MARIE", UsageName: "Marie Marie"}); !slices.Equal(got, []string{"marie", "marie", "mariemarie", "marie"}) {
		t.Errorf("repeated names: %q", got)
	}
	if got := NameTokens(Person{}); len(got) != 0 {
		t.Errorf("no names: %q", got)
	}
	// A name of many words joins only its first maxJoined.
	many := NameTokens(Person{BirthName: "a b c d e f g h"})
	if len(many) != 8+15 {
		t.Errorf("8 words: %d tokens", len(many))
	}
}

func TestEdits(t *testing.T) {
	for n, want := range map[int]int{1: 0, 2: 0, 3: 1, 5: 1, 7: 1, 8: 2, 20: 2} {
		if got := Edits(n); got != want {
			t.Errorf("Edits(%d) = %d, want %d", n, got, want)
		}
	}
}

// osa is the optimal string alignment distance, computed in full: the reference Distance is
// checked against.
func osa(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		max  int
		want int
	}{
		{"richard", "richard", 2, 0},
		{"richard", "richrad", 2, 1}, // transposition
		{"richard", "ricard", 2, 1},
		{"petit", "patix", 1, 2}, // capped at max+1
		{"petit", "patix", 2, 2},
		{"kerguelen", "kreguelan", 2, 2},
		{"kerguelen", "kregualan", 2, 3},
		{"ca", "abc", 3, 3}, // OSA, not full Damerau: 3
		{"", "abc", 5, 3},
		{"héloïse", "heloise", 2, 2}, // letters, not bytes
		{"a", "abcdef", 2, 3},
	} {
		if got := Distance(c.a, c.b, c.max); got != c.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", c.a, c.b, c.max, got, c.want)
		}
	}
}

// TestDeletesFindEveryNeighbour is the property the SQLite store's typo lookup rests on: two
// tokens within the edits the query tolerates share a string of their deletes, each side cut by
// its own Edits.
func TestDeletesFindEveryNeighbour(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		n := 1 + r.IntN(11)
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcde"[r.IntN(5)]
		}
		return string(b)
	}
	mutate := func(s string) string {
		b := []byte(s)
		for range 1 + r.IntN(2) {
			switch i := r.IntN(len(b) + 1); r.IntN(4) {
			case 0:
				b = slices.Insert(b, i, "abcde"[r.IntN(5)])
			case 1:
				if i < len(b) {
					b = slices.Delete(b, i, i+1)
				}
			case 2:
				if i < len(b) {
					b[i] = "abcde"[r.IntN(5)]
				}
			case 3:
				if i+1 < len(b) {
					b[i], b[i+1] = b[i+1], b[i]
				}
			}
			if len(b) == 0 {
				b = []byte{'a'}
			}
		}
		return string(b)
	}
	checked := 0
	for range 20000 {
		q := word()
		tok := mutate(q)
		k := Edits(len(q))
		if osa(q, tok) > k {
			continue
		}
		checked++
		side := map[string]bool{}
		for _, d := range deletes(tok, Edits(len(tok))) {
			side[d] = true
		}
		if !slices.ContainsFunc(deletes(q, k), func(d string) bool { return side[d] }) {
			t.Fatalf("%q and %q are %d edits apart but share no delete", q, tok, osa(q, tok))
		}
	}
	if checked < 5000 {
		t.Errorf("only %d pairs within reach", checked)
	}
}

func TestNameQueryCost(t *testing.T) {
	toks := NameTokens(Person{FirstName: "Hervé", BirthName: "LE GOFF"})
	for name, want := range map[string]int{
		"herve le goff": 0, "legoff herve": 0, "le goff": 0, "hevre legof": 2, "richard": -1, "le": 0, "goff herve zz": -1, "herve herve": -1, "goff le": 0, "le le goff": 0 /* "le" + "legoff": joined tokens overlap their words, accepted */, "goff herve x": 1, /* "hervex" is 1 edit from "herve" */
	} {
		got, ok := newNameQuery(name).cost(toks)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("cost(%q) = %d, want %d", name, got, want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Hélène", "GAUTIER-LEBŒUF", "Strauß", "L'HÔTE", "NGUYỄN", "ǅemal", "İstanbul", "ﬁ", "\u0301e", "a\u200bb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 300 {
			return // names are short; the checks below are quadratic in tokens
		}
		got := Fold(s)
		if Fold(got) != got {
			t.Fatalf("Fold is not idempotent on %q: %q then %q", s, got, Fold(got))
		}
		if !utf8.ValidString(got) || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q: bad spacing or encoding", s, got)
		}
		for _, r := range got {
			if r != ' ' && !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r)) {
				t.Fatalf("Fold(%q) = %q holds %q", s, got, r)
			}
			if unicode.IsUpper(r) {
				t.Fatalf("Fold(%q) = %q holds upper case %q", s, got, r)
			}
		}
		toks := NameTokens(Person{BirthName: s, FirstName: s})
		for _, tk := range toks {
			if tk == "" || strings.Contains(tk, " ") {
				t.Fatalf("NameTokens(%q) holds %q", s, tk)
			}
			// Every token is found by itself, exactly.
			if c, ok := newNameQuery(tk).cost(toks); !ok || c != 0 {
				t.Fatalf("token %q of %q does not match its own entry", tk, s)
			}
		}
		// The name matches its own entry exactly, in any case.
		if parts := queryParts(s); len(parts) > 0 && len(parts) <= MaxNameParts {
			if c, ok := newNameQuery(s).cost(toks); !ok || c != 0 {
				t.Fatalf("%q does not match its own entry: %d, %v", s, c, ok)
			}
		}
	})
}

func FuzzDistance(f *testing.F) {
	f.Add("richard", "richrad", 2)
	f.Add("héloïse", "heloise", 1)
	f.Fuzz(func(t *testing.T, a, b string, max int) {
		if len(a) > 40 || len(b) > 40 || max < 0 || max > 10 {
			return
		}
		want := min(osa(a, b), max+1)
		if got := Distance(a, b, max); got != want {
			t.Fatalf("Distance(%q, %q, %d) = %d, want %d", a, b, max, got, want)
		}
	})
}

func BenchmarkNameCost(b *testing.B) {
	q := newNameQuery("Marie-Hélène Le Goff")
	toks := NameTokens(Person{FirstName: "Marie-Hélène", BirthName: "LE GOFF", UsageName: "DUPONT"})
	other := NameTokens(Person{FirstName: "Marine", BirthName: "LEGOUT"})
	b.ReportAllocs()
	for b.Loop() {
		q.cost(toks)
		q.cost(other)
	}
}

// A search checks thousands of short ASCII tokens: checking one allocates nothing.
func TestDistanceASCIIAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Distance("dupont", "dupond", 2) }); n != 0 {
		t.Errorf("Distance allocates %v times per call", n)
	}
}
