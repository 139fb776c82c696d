package index

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Query is a search. Every field given narrows it: an entry matches when it satisfies them all.
type Query struct {
	// Profile, when set, keeps only that profile's entries.
	Profile string
	// Identifier is an exact value of any of the dossier's identifiers (COD_ETU, INE…) or its key.
	Identifier string
	// Name is names in any order, any case, accents or not, with typos tolerated (see Edits).
	Name string
	// Born is a birth year (YYYY) or date (YYYY-MM-DD).
	Born string
	// Year is a registration year: the dossier's StartDate..EndDate covers it.
	Year int
	// Limit caps the matches; 0 means DefaultLimit, more than MaxLimit is refused.
	Limit int
}

// Limits on the number of matches.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Match is one entry a search found. Score is 1 for an exact match and less for each edit a name
// needed; Why says in French, for the person searching, why it matched ("nom à 1 faute près");
// Reason says it for programs, Edits counts the edits.
type Match struct {
	Entry  Entry
	Score  float64
	Why    string
	Reason Reason
	Edits  int
}

// Reason is the machine-readable kind of a match.
type Reason string

// The reasons a search gives.
const (
	ReasonKey        Reason = "key"        // Identifier was the dossier's key
	ReasonIdentifier Reason = "identifier" // Identifier was one of its identifiers
	ReasonName       Reason = "name"       // every name matched exactly (after folding)
	ReasonNameFuzzy  Reason = "name-fuzzy" // names matched with Edits edits
	ReasonYear       Reason = "year"       // registration year alone
)

var bornRE = regexp.MustCompile(`^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$`)

// Normalize checks a query and returns it with its Limit filled in, or an error wrapping
// ErrBadQuery whose message says what to change. Stores call it first, so that every store
// refuses the same queries with the same words. The errors name no searched value: they may end up
// in a server's log.
func (q Query) Normalize() (Query, error) {
	q.Profile = strings.TrimSpace(q.Profile)
	q.Identifier = strings.TrimSpace(q.Identifier)
	q.Name = strings.TrimSpace(q.Name)
	q.Born = strings.TrimSpace(q.Born)
	bad := func(format string, a ...any) (Query, error) {
		return Query{}, fmt.Errorf("%w: "+format, append([]any{ErrBadQuery}, a...)...)
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return bad("limit %d is outside 1–%d", q.Limit, MaxLimit)
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Born != "" {
		if !bornRE.MatchString(q.Born) {
			return bad("birth date must be YYYY or YYYY-MM-DD")
		}
		if len(q.Born) == 10 {
			m, _ := strconv.Atoi(q.Born[5:7])
			d, _ := strconv.Atoi(q.Born[8:10])
			if m < 1 || m > 12 || d < 1 || d > 31 {
				return bad("birth date must be YYYY or YYYY-MM-DD")
			}
		}
	}
	if q.Year != 0 && (q.Year < 1000 || q.Year > 9999) {
		return bad("registration year %d is not a four-digit year", q.Year)
	}
	parts := queryParts(q.Name)
	if len(parts) > MaxNameParts {
		return bad("a name has at most %d words", MaxNameParts)
	}
	letters := 0
	for _, t := range parts {
		letters += len([]rune(t))
	}
	if q.Name != "" && letters == 0 {
		return bad("the name has no letters")
	}
	switch {
	case q.Identifier == "" && q.Name == "" && q.Year == 0 && q.Born == "":
		return bad("give an identifier, a name or a registration year to search on")
	case q.Identifier == "" && q.Name == "" && q.Year == 0:
		return bad("a birth date narrows a search by name or identifier: give a name too")
	case q.Identifier == "" && letters < 2 && q.Born == "" && q.Year == 0:
		return bad("a name alone needs at least 2 letters")
	}
	return q, nil
}
