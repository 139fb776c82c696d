package deposit

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// checkObjectName refuses a name the archive or a zip would refuse, or that could reach outside
// the transaction's folder. Names are refused, never normalised: the units' documents name the
// objects, and a name changed here would no longer match theirs. Pastell's users met the same
// refusals (names starting with '.' or '-', lifecycle.md §4).
func checkObjectName(name string) error {
	field := "objects/" + name
	bad := func(why string) error { return errorf(Invalid, field, "object name %q refused: %s", name, why) }
	switch {
	case name == "":
		return errorf(Invalid, "objects/", "an object needs a name")
	case !utf8.ValidString(name):
		return errorf(Invalid, "objects/"+strings.ToValidUTF8(name, "\uFFFD"), "object name refused: not UTF-8")
	case len(name) > 255:
		return bad("longer than 255 bytes (a file system's limit)")
	case name == "." || name == "..":
		return bad("a folder reference")
	case strings.ContainsAny(name, `/\`):
		return bad("a path separator ('/' or '\\'): give the file's name only")
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-"):
		return bad("it starts with '.' or '-' (hidden files and options to archive tools)")
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") || strings.HasPrefix(name, " "):
		return bad("it starts or ends with a space, or ends with '.' (Windows drops them)")
	case strings.ContainsAny(name, `:*?"<>|`):
		return bad(`it holds one of : * ? " < > | (refused by Windows file systems and zip tools)`)
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) >= 0:
		return bad("it holds a control character")
	case !norm.NFC.IsNormalString(name):
		return bad("not in Unicode NFC form (the same name would be two different byte strings): send it NFC-normalised")
	}
	return nil
}
