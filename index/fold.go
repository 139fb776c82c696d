package index

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold is how names are compared: lower case, accents dropped (é→e, ç→c), ligatures and sharp s
// spelled out (œ→oe, æ→ae, ß→ss), and every run of anything that is not a letter or a digit
// (spaces, hyphens, apostrophes, dots) made one space, so that "Le-Goff", "LE GOFF" and "le goff"
// fold alike. Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is pending
	put := func(r rune) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		if x, ok := spelled[r]; ok {
			for _, r := range x {
				put(r)
			}
			continue
		}
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Cf, r):
			// accents (NFKD puts them apart) and invisible format characters: dropped, so that
			// "Hélène" and "Helene" are one name.
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
			put(foldRune(r))
		default:
			space = true
		}
	}
	return b.String()
}

// foldRune lowers a letter NFKD left alone, then folds it again in case lowering made a letter
// with an accent of its own.
func foldRune(r rune) rune {
	l := unicode.ToLower(r)
	if l == r {
		return r
	}
	if d := []rune(norm.NFKD.String(string(l))); len(d) > 0 {
		return d[0]
	}
	return l
}

// spelled are the letters that are not a base letter plus an accent in Unicode but that a French
// reader writes without the diacritic as these letters.
var spelled = map[rune]string{
	'œ': "oe", 'æ': "ae", 'ß': "ss", 'ø': "o", 'đ': "d", 'ł': "l", 'ı': "i", 'þ': "th", 'ð': "d",
	'ŀ': "l", 'ĸ': "k", 'ŉ': "n", 'ſ': "s", 'ĳ': "ij",
}

func init() {
	// Upper-case forms map through ToLower before the table is read, but a few have no lower case
	// of their own in Go's tables; make the table self-sufficient.
	spelled['ẞ'] = "ss"
	for r, x := range spelled {
		if r != 'ẞ' {
			if u := unicode.ToUpper(r); u != r {
				spelled[u] = x
			}
		}
	}
}

// MaxNameParts is the most name parts a query may have: more is not a name.
const MaxNameParts = 8

// queryParts are the folded words of a searched name, in the order typed.
func queryParts(name string) []string { return strings.Fields(Fold(name)) }

// maxFieldWords caps the words of one name field an entry is found by: a "name" of more words is
// a data error, and must not cost an entry hundreds of rows.
const maxFieldWords = 12

// maxJoined caps the parts of one name field that are joined into concatenated tokens: a name of
// more parts than that is noise, and the token count must stay small.
const maxJoined = 6

// NameTokens are the tokens a person's names are found by: the folded words of each name
// (FirstName, BirthName, UsageName), and each run of two or more consecutive words of one name
// written together, so that "LE GOFF" is also found as "legoff" and "Jean-Pierre" as "jeanpierre".
// A token appears once per name, in first-seen order: twice when two names hold it (Marie
// MARIE), for a query word matches a token of its own. A name counts its first maxFieldWords
// words.
func NameTokens(p Person) []string {
	var out []string
	for _, name := range []string{p.BirthName, p.UsageName, p.FirstName} {
		seen := map[string]bool{}
		add := func(t string) {
			if t != "" && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
		parts := queryParts(name)
		if len(parts) > maxFieldWords {
			parts = parts[:maxFieldWords]
		}
		for _, t := range parts {
			add(t)
		}
		if len(parts) > maxJoined {
			parts = parts[:maxJoined]
		}
		for i := range parts {
			for j := i + 2; j <= len(parts); j++ {
				add(strings.Join(parts[i:j], ""))
			}
		}
	}
	return out
}

// Edits is how many edits a token of n letters tolerates: none for 1–2 letters (particles "de",
// "le", initials: one edit would match every short word), 1 up to 7 letters, 2 from 8.
func Edits(n int) int {
	switch {
	case n <= 2:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}
