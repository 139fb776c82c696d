package indextest

import (
	"math/rand/v2"
	"testing"

	"github.com/versement/versement/index"
)

func TestGenerator(t *testing.T) {
	g := NewGenerator(1)
	sur, first := g.Sizes()
	if sur < 2000 || first < 200 {
		t.Errorf("%d surnames, %d first names: want a few thousand and a few hundred", sur, first)
	}
	a, b := g.Entry(41), NewGenerator(1).Entry(41)
	if a.Person != b.Person || a.Key != "42" || len(a.Identifiers) == 0 || len(a.Objects) == 0 {
		t.Errorf("Entry(41) = %+v, again %+v", a.Person, b.Person)
	}
	counts := map[string]int{}
	for i := range 20000 {
		e := g.Entry(i)
		counts[e.Person.BirthName]++
		if d := e.Person.BirthDate; d < "1950-01-01" || d > "2008-12-31" {
			t.Fatalf("born %s", d)
		}
	}
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	if len(counts) < 1000 || top > 400 {
		t.Errorf("20000 entries: %d distinct surnames, the commonest %d times", len(counts), top)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		name := g.Entry(r.IntN(1000)).Person.BirthName
		typo := Typo(r, name)
		if _, ok := index.NameCost(typo, index.Person{BirthName: name}); !ok {
			t.Fatalf("Typo(%q) = %q is out of reach", name, typo)
		}
	}
}
