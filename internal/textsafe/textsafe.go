// Package textsafe makes text from a database safe where people read it: a terminal, which
// control characters (ESC, BEL) can drive, and a spreadsheet, which runs a cell starting with =,
// +, -, @ as a formula. Legacy bases hold both kinds of text in names and comments.
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
)

// Terminal writes the control characters of s as Go escapes (\x1b, \a, \n…); other text is
// unchanged.
func Terminal(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CSVCell is s for a CSV cell a spreadsheet will open: control characters escaped, and a leading
// =, +, -, @, tab or carriage return defused with a quote so that "=HYPERLINK(…)" stays a name.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	return Terminal(s)
}
