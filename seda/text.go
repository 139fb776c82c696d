package seda

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Database text goes into the manifest as a description, never as the record itself: the record is
// the data object, written byte for byte. So the writer makes every manifest string legal XML 1.0
// instead of refusing the dossier:
//   - invalid UTF-8 bytes become U+FFFD (one per bad byte);
//   - characters XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD;
//   - CR and CR LF become LF, because an XML parser would do it anyway and the digest of the manifest
//     must describe what readers see.
//
// Identifier-like fields (NonEmptyToken in the XSD: MessageIdentifier, rule ids, agency ids…) are
// then whitespace-collapsed, and an empty result is an error, since the XSD refuses it.

// CleanText returns s as the writer puts it in the manifest, and whether it had to change anything
// other than line ends.
func CleanText(s string) (string, bool) {
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c < 0x20 && c != '\t' && c != '\n' || c == '\r' {
			ok = false
			break
		}
	}
	if ok {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
			changed = true
		case r == '\r':
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
		case !xmlChar(r):
			b.WriteRune(utf8.RuneError)
			changed = true
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String(), changed
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// token cleans s and collapses its whitespace, as xsd:token does; an empty result is an error
// naming the field.
func token(field, s string) (string, error) {
	s, _ = CleanText(s)
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", fmt.Errorf("seda: %s is empty (the XSD wants a non-empty token)", field)
	}
	return s, nil
}

var fileName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func checkFileName(name string) error {
	if !fileName.MatchString(name) || name == "." || name == ".." || len(name) > 255 {
		return fmt.Errorf("seda: file name %q: only A-Z a-z 0-9 . _ - are allowed (VITAM refuses others), at most 255 bytes, and not a dot or two alone", name)
	}
	return nil
}
