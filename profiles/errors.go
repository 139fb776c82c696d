package profiles

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one mistake in a profile, located as precisely as can be known: the file, the line and
// the field (a YAML path such as classes[0].children[2].join).
type Error struct {
	File  string
	Line  int    // 0 when unknown (a problem found in the database, not in the text)
	Field string // "" for the whole file
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every mistake found in a profile, in file order. It is the error Load and Validate
// return, so a user fixes all of them in one pass.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// errorList collects errors for one file, locating fields through the file's line index.
type errorList struct {
	file  string
	lines lineIndex
	errs  Errors
}

func (l *errorList) add(field string, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: l.lines.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}
