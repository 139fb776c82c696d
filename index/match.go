package index

import (
	"fmt"
	"strings"
)

// nameQuery is a searched name cut into folded parts, with every run of consecutive parts
// written together ("le goff" is also "legoff"): a span. A name matches an entry when its parts
// can be cut into spans each within Edits of one of the entry's tokens, in any order; the fewest
// edits over all such cuts is the match's cost.
type nameQuery struct {
	parts []string
	spans []span
	from  [][]int // from[i]: the indexes of the spans starting at part i
}

type span struct {
	from, to int // parts[from:to]
	text     string
	edits    int // tolerated: Edits(len(text))
}

func newNameQuery(name string) nameQuery {
	q := nameQuery{parts: queryParts(name)}
	q.from = make([][]int, len(q.parts))
	for i := range q.parts {
		for j := i + 1; j <= len(q.parts) && j-i <= maxJoined; j++ {
			t := strings.Join(q.parts[i:j], "")
			q.from[i] = append(q.from[i], len(q.spans))
			q.spans = append(q.spans, span{from: i, to: j, text: t, edits: Edits(len([]rune(t)))})
		}
	}
	return q
}

// cost is the fewest edits that match the query's parts to distinct tokens of an entry, or
// ok=false. Distinct: "Marie Marie" needs a person with two names Marie, so that a misspelt
// "Mrie Marie" finds Marie MARIE rather than every Marie. The search is a depth-first walk over
// the ways to cut the query into spans, each given an unused token; exact tokens are tried first
// and a walk stops once it cannot beat the best, so the common case is a few comparisons. The
// walk is capped (maxSteps) against adversarial names; past the cap the best found so far holds.
func (q nameQuery) cost(tokens []string) (edits int, ok bool) {
	if len(tokens) > 64 {
		tokens = tokens[:64]
	}
	const unknown, far = -1, 100
	var buf [512]int8 // span × token → edits, far, or unknown; on the stack for most queries
	var dist []int8
	if n := len(q.spans) * len(tokens); n <= len(buf) {
		dist = buf[:n]
	} else {
		dist = make([]int8, n)
	}
	for i := range dist {
		dist[i] = unknown
	}
	d := func(si, ti int) int {
		k := si*len(tokens) + ti
		if dist[k] == unknown {
			sp := q.spans[si]
			if e := Distance(sp.text, tokens[ti], sp.edits); e <= sp.edits {
				dist[k] = int8(e)
			} else {
				dist[k] = far
			}
		}
		return int(dist[k])
	}
	best, steps := int(far), 0
	var walk func(pos int, used uint64, acc int)
	walk = func(pos int, used uint64, acc int) {
		if acc >= best || steps > maxSteps {
			return
		}
		steps++
		if pos == len(q.parts) {
			best = acc
			return
		}
		for _, si := range q.from[pos] {
			// Exact tokens first: they make the bound that cuts the rest.
			for pass := 0; pass < 2; pass++ {
				for ti := range tokens {
					if used&(1<<ti) != 0 {
						continue
					}
					e := d(si, ti)
					if e == far || (pass == 0) != (e == 0) {
						continue
					}
					walk(q.spans[si].to, used|1<<ti, acc+e)
					if best == 0 {
						return
					}
				}
			}
		}
	}
	walk(0, 0, 0)
	if best == far {
		return 0, false
	}
	return best, true
}

// maxSteps caps the walk of one entry against one query.
const maxSteps = 2000

// score is a match's Score for a number of edits: 1 exact, then ½, ⅓…
func score(edits int) float64 { return 1 / float64(1+edits) }

// why says in French why an entry matched, for the person searching; it names no searched value
// but the registration year they typed.
func why(reason Reason, edits int, idName string, q Query) string {
	var parts []string
	switch reason {
	case ReasonKey:
		parts = append(parts, "clé du dossier exacte")
	case ReasonIdentifier:
		parts = append(parts, fmt.Sprintf("identifiant %s exact", idName))
	case ReasonName:
		parts = append(parts, "nom exact")
	case ReasonNameFuzzy:
		f := "faute"
		if edits > 1 {
			f = "fautes"
		}
		parts = append(parts, fmt.Sprintf("nom à %d %s près", edits, f))
	}
	if q.Name != "" && (reason == ReasonKey || reason == ReasonIdentifier) {
		if edits == 0 {
			parts = append(parts, "nom exact")
		} else {
			parts = append(parts, fmt.Sprintf("nom à %d faute(s) près", edits))
		}
	}
	switch len(q.Born) {
	case 4:
		parts = append(parts, "année de naissance")
	case 10:
		parts = append(parts, "date de naissance")
	}
	if q.Year != 0 {
		parts = append(parts, fmt.Sprintf("inscrit en %d", q.Year))
	}
	return strings.Join(parts, ", ")
}

// registration is the span of registration years of an entry: the years of StartDate..EndDate,
// 0, 0 when a date is missing or malformed (a dossier no year search can find).
func registration(e Entry) (from, to int) {
	f, t := yearOf(e.StartDate), yearOf(e.EndDate)
	if f == 0 && t == 0 {
		return 0, 0
	}
	if f == 0 {
		f = t
	}
	if t == 0 {
		t = f
	}
	if t < f {
		f, t = t, f
	}
	return f, t
}

// yearOf is the year of a YYYY… date, or 0.
func yearOf(d string) int {
	if len(d) < 4 {
		return 0
	}
	y := 0
	for _, c := range d[:4] {
		if c < '0' || c > '9' {
			return 0
		}
		y = y*10 + int(c-'0')
	}
	if len(d) > 4 && d[4] != '-' {
		return 0
	}
	return y
}

// narrows reports whether an entry satisfies the query's profile, birth and year conditions.
func narrows(q Query, profile, born string, yFrom, yTo int) bool {
	if q.Profile != "" && profile != q.Profile {
		return false
	}
	if q.Born != "" && !strings.HasPrefix(born, q.Born) {
		return false
	}
	if q.Year != 0 && (yFrom == 0 || q.Year < yFrom || q.Year > yTo) {
		return false
	}
	return true
}

// NameCost reports whether a searched name matches a person's names, and with how many edits: the
// rule every store applies to the entries it reads.
func NameCost(name string, p Person) (edits int, ok bool) {
	return newNameQuery(name).cost(NameTokens(p))
}
