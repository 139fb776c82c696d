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
}

type span struct {
	from, to int // parts[from:to]
	text     string
	edits    int // tolerated: Edits(len(text))
}

func newNameQuery(name string) nameQuery {
	q := nameQuery{parts: queryParts(name)}
	for i := range q.parts {
		for j := i + 1; j <= len(q.parts) && j-i <= maxJoined; j++ {
			t := strings.Join(q.parts[i:j], "")
			q.spans = append(q.spans, span{from: i, to: j, text: t, edits: Edits(len([]rune(t)))})
		}
	}
	return q
}

// cost is the fewest edits that make the query's parts a subset of tokens, or ok=false.
func (q nameQuery) cost(tokens []string) (edits int, ok bool) {
	const none = 1 << 30
	best := make([]int, len(q.parts)+1)
	for i := range best {
		best[i] = none
	}
	best[0] = 0
	// spans are ordered by from, so best[from] is final when a span starting there is read.
	for _, s := range q.spans {
		if best[s.from] == none {
			continue
		}
		c := none
		for _, t := range tokens {
			if d := Distance(s.text, t, s.edits); d <= s.edits && d < c {
				c = d
				if d == 0 {
					break
				}
			}
		}
		if c != none && best[s.from]+c < best[s.to] {
			best[s.to] = best[s.from] + c
		}
	}
	if best[len(q.parts)] == none {
		return 0, false
	}
	return best[len(q.parts)], true
}

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
