package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// SyntaxError is a YAML syntax error placed where the mistake most likely is, which is not always
// where go-yaml noticed it: a quote left open on line 6 is only noticed at the next quote, which
// may be on line 26.
type SyntaxError struct {
	File   string
	Line   int    // 1-based; 0 when go-yaml gave no position
	Column int    // 1-based, in characters
	Field  string // the field the mistake is in ("jobs[0].cron"), "" at the top of the file
	Msg    string
	Text   string // the text of line Line, secrets in URLs and key=value pairs masked
}

// Error is "file:line:column: field: message", then the line's text with a caret under the column.
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if x := e.Excerpt(); x != "" {
		b.WriteString("\n")
		b.WriteString(x)
	}
	return b.String()
}

// Excerpt is the line's text and a caret under the column, on two lines:
//
//	6 |     cron: "30 3 * * *
//	  |           ^
//
// or "" when the position is unknown. For callers that print the position their own way.
func (e *SyntaxError) Excerpt() string {
	if e.Line <= 0 {
		return ""
	}
	// The caret line repeats the tabs before the column so that it lines up in any terminal.
	pad := make([]byte, 0, e.Column)
	for i, r := range []rune(e.Text) {
		if i >= e.Column-1 {
			break
		}
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	return fmt.Sprintf("%5d | %s\n%5s | %s^", e.Line, e.Text, "", pad)
}

// Parse parses a YAML file like parser.ParseBytes (a UTF-8 byte order mark, which some Windows
// editors write, is skipped). A syntax error is a *SyntaxError naming file.
func Parse(file string, src []byte) (*ast.File, error) {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, Syntax(file, src, err)
	}
	return f, nil
}

var definedAt = regexp.MustCompile(`^mapping key "(.*)" already defined at \[(\d+):(\d+)\]$`)

// Syntax turns an error of parser.ParseBytes(src, …) into a *SyntaxError. An error that is not a
// go-yaml error is returned wrapped with the file's name.
//
// The cases are told apart by go-yaml's messages (v1.19.2, pinned in go.mod); an upgrade that
// rewords one falls back to "YAML syntax: <its message>" at go-yaml's position, and the exact
// messages in syntax_test.go say which.
func Syntax(file string, src []byte, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	tk := ye.GetToken()
	lines := lineBreak.Split(string(src), -1)
	at, msg := tk, "YAML syntax: "+ye.GetMessage()
	// The field is read from the tokens before stop, and with inclusive from stop's own when it
	// is a key (a key defined twice).
	stop, inclusive, parent := tk.Position, false, false
	levelsKept := -1 // the field is the first levelsKept levels of the structure; -1: all
	switch m := ye.GetMessage(); {
	case strings.HasPrefix(m, "could not find end character of"):
		q := quoteAt(lines, tk.Position)
		msg = fmt.Sprintf("quoted text not closed: the %s here has no closing %s before the end of the file", q, q)
	case m == "sequence end token ']' not found" || m == "could not find flow mapping end token '}'":
		// go-yaml gives the opening bracket.
		msg = fmt.Sprintf("%s not closed: the %s here has no closing %s before the end of the file", flowName(tk), tk.Value, closer(tk))
	case (m == "',' or ']' must be specified" || m == "',' or '}' must be specified") && unclosedFlow(tk) != nil:
		// go-yaml noticed at the first token after the collection's last line.
		at = unclosedFlow(tk)
		stop = at.Position
		msg = fmt.Sprintf("%s not closed: the %s here has no closing %s before line %d", flowName(at), at.Value, closer(at), tk.Position.Line)
	case unclosedQuote(lines, tk) != nil:
		// go-yaml read the open quote's text up to the next quote of its kind, further down, and
		// failed right after it.
		at = unclosedQuote(lines, tk)
		stop = at.Position
		q := quoteAt(lines, at.Position)
		msg = fmt.Sprintf("quoted text not closed: the %s here has no closing %s on its line, so YAML read on to line %d and stopped there",
			q, q, tk.Position.Line)
	case strings.Contains(m, "cannot start any token") && strings.Contains(m, "'\t'"):
		line := lineText(lines, tk.Position.Line)
		if i := strings.IndexByte(line, '\t'); i >= 0 && strings.TrimLeft(line[:i], " ") == "" {
			at = &token.Token{Position: &token.Position{Line: tk.Position.Line, Column: utf8.RuneCountInString(line[:i]) + 1}}
			msg = "a tab in the indentation: YAML indents with spaces only"
			// The line may hold a child of the key above or its sibling: name their parent.
			parent = true
		}
	case definedAt.MatchString(m):
		d := definedAt.FindStringSubmatch(m)
		msg = fmt.Sprintf("defined twice: the first %s is at line %s", strconv.Quote(d[1]), d[2])
		inclusive = true
	case strings.Contains(m, "not allowed in this context") && keyAbove(tk) != nil:
		// "  c: "1"\n   d: 2": a key deeper than the key above, whose value is on its line.
		msg = fmt.Sprintf("indented deeper than the key above it (line %d), which already has its value: indent it like its neighbours",
			keyAbove(tk).Position.Line)
	case strings.Contains(m, "not allowed in this context") && startsLine(lines, tk.Position) &&
		between(fieldAt(tk, tk.Position, false), tk.Position.Column) > 0:
		levels := fieldAt(tk, tk.Position, false)
		n := between(levels, tk.Position.Column)
		msg = fmt.Sprintf("not lined up: deeper than line %d (column %d) but less deep than line %d (column %d), so YAML cannot tell what it belongs to",
			levels[n-1].line, levels[n-1].col, levels[n].line, levels[n].col)
		levelsKept = n
	case m == "mapping value is not allowed in this context" && overIndented(tk):
		// "  c: 1\n   d: 2": the deeper line continues c's value ("1 d"), and its ':' cannot
		// follow a value. The mistake is the indentation of that second line.
		colon := tk.Next
		line := lineText(lines, colon.Position.Line)
		col := len([]rune(line)) - len([]rune(strings.TrimLeft(line, " "))) + 1
		at = &token.Token{Position: &token.Position{Line: colon.Position.Line, Column: col}}
		msg = fmt.Sprintf("indented deeper than the key above it (line %d), so YAML reads this line as the rest of that key's value: indent it like its neighbours",
			tk.Position.Line)
	}
	stack := fieldAt(tk, stop, inclusive)
	if n := len(stack); parent && n > 0 && stack[n-1].key != "" {
		stack = stack[:n-1]
	}
	if levelsKept >= 0 && levelsKept < len(stack) {
		stack = stack[:levelsKept]
	}
	return &SyntaxError{File: file, Line: at.Position.Line, Column: at.Position.Column,
		Field: path(stack), Msg: msg, Text: redact(lineText(lines, at.Position.Line))}
}

// unclosedQuote returns the quoted scalar just before tk when it spans lines: the likely mistake
// is its missing closing quote.
func unclosedQuote(lines []string, tk *token.Token) *token.Token {
	p := tk.Prev
	for p != nil && p.Type == token.CommentType {
		p = p.Prev
	}
	if p == nil || p.Position == nil || (p.Type != token.DoubleQuoteType && p.Type != token.SingleQuoteType) {
		return nil
	}
	if p.Position.Line >= tk.Position.Line || closedOnLine(lineText(lines, p.Position.Line), p.Position.Column) {
		return nil
	}
	return p
}

// unclosedFlow returns the opening bracket of the flow collection that tk, on a later line, was
// found in instead of its closing bracket.
func unclosedFlow(tk *token.Token) *token.Token {
	depth := 0
	for p := tk.Prev; p != nil; p = p.Prev {
		switch p.Type {
		case token.SequenceEndType, token.MappingEndType:
			depth++
		case token.SequenceStartType, token.MappingStartType:
			if depth > 0 {
				depth--
				continue
			}
			if p.Position == nil || p.Position.Line >= tk.Position.Line {
				return nil
			}
			return p
		}
	}
	return nil
}

func flowName(open *token.Token) string {
	if open.Type == token.MappingStartType {
		return "mapping"
	}
	return "list"
}

func closer(open *token.Token) string {
	if open.Type == token.MappingStartType {
		return "}"
	}
	return "]"
}

// closedOnLine says whether the quoted text opening at column col of line ends on that line.
func closedOnLine(line string, col int) bool {
	r := []rune(line)
	if col < 1 || col > len(r) {
		return false
	}
	q := r[col-1]
	for i := col; i < len(r); i++ {
		switch {
		case q == '"' && r[i] == '\\':
			i++ // an escaped character, \" included
		case q == '\'' && r[i] == '\'' && i+1 < len(r) && r[i+1] == '\'':
			i++ // '' is a quote inside single-quoted text
		case r[i] == q:
			return true
		}
	}
	return false
}

// between returns n when col falls between the columns of levels n-1 and n of stack, or 0.
func between(stack []frame, col int) int {
	for i := 1; i < len(stack); i++ {
		if stack[i-1].col < col && col < stack[i].col {
			return i
		}
	}
	return 0
}

// startsLine says whether only spaces come before pos on its line.
func startsLine(lines []string, pos *token.Position) bool {
	r := []rune(lineText(lines, pos.Line))
	return pos.Column >= 1 && pos.Column <= len(r)+1 && strings.TrimLeft(string(r[:pos.Column-1]), " ") == ""
}

// keyAbove returns the key of the line above tk when tk is a key indented deeper than it while
// that key's value is on its own line: then tk cannot be a child of it.
func keyAbove(tk *token.Token) *token.Token {
	if tk.Next == nil || tk.Next.Type != token.MappingValueType {
		return nil
	}
	v := tk.Prev
	for v != nil && v.Type == token.CommentType {
		v = v.Prev
	}
	if v == nil || v.Prev == nil || v.Prev.Type != token.MappingValueType || v.Prev.Prev == nil {
		return nil
	}
	k := v.Prev.Prev
	if v.Position == nil || k.Position == nil || k.Position.Line != v.Position.Line ||
		k.Position.Line >= tk.Position.Line || k.Position.Column >= tk.Position.Column {
		return nil
	}
	switch v.Type {
	case token.MappingStartType, token.SequenceStartType, token.LiteralType, token.FoldedType, token.AnchorType, token.TagType:
		return nil
	}
	return k
}

// overIndented says whether tk is a plain scalar folded over several lines and followed by ':'.
func overIndented(tk *token.Token) bool {
	return tk.Type == token.StringType && tk.Next != nil && tk.Next.Type == token.MappingValueType &&
		tk.Next.Position != nil && tk.Next.Position.Line > tk.Position.Line
}

// quoteAt is the quote character at pos, as the user typed it.
func quoteAt(lines []string, pos *token.Position) string {
	r := []rune(lineText(lines, pos.Line))
	if c := pos.Column - 1; c >= 0 && c < len(r) && (r[c] == '\'' || r[c] == '"') {
		return string(r[c])
	}
	return "quote"
}

// lineBreak is what ends a line for YAML, which counts a lone CR (old Mac files) as one too.
var lineBreak = regexp.MustCompile("\r\n|\r|\n")

func lineText(lines []string, n int) string {
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// fieldAt names the field a mistake is in ("jobs[0].cron"), from the block structure of the tokens
// before stop (tk is any token of the stream), and the token at stop when inclusive and it is a key.
// Keys inside flow collections ({a: 1}) are not followed: the field is then the block key that
// holds the collection.
func fieldAt(tk *token.Token, stop *token.Position, inclusive bool) []frame {
	first := tk
	for first.Prev != nil {
		first = first.Prev
	}
	var stack []frame
	counts := func(p *token.Position) bool {
		if p.Line != stop.Line {
			return p.Line < stop.Line
		}
		return p.Column < stop.Column || p.Column == stop.Column && inclusive
	}
	flow := 0
	for t := first; t != nil && t.Position != nil; t = t.Next {
		if !counts(t.Position) {
			break
		}
		switch t.Type {
		case token.DocumentHeaderType:
			stack = stack[:0]
		case token.MappingStartType, token.SequenceStartType:
			flow++
		case token.MappingEndType, token.SequenceEndType:
			flow--
		case token.SequenceEntryType:
			if flow > 0 {
				continue
			}
			c := t.Position.Column
			for len(stack) > 0 && stack[len(stack)-1].col > c {
				stack = stack[:len(stack)-1]
			}
			if n := len(stack); n > 0 && stack[n-1].key == "" && stack[n-1].col == c {
				stack[n-1].item++
				stack[n-1].line = t.Position.Line
			} else {
				stack = append(stack, frame{col: c, line: t.Position.Line})
			}
		default:
			if flow > 0 || t.Next == nil || t.Next.Type != token.MappingValueType {
				continue
			}
			c := t.Position.Column
			for len(stack) > 0 && stack[len(stack)-1].col >= c {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, frame{col: c, line: t.Position.Line, key: t.Value})
		}
	}
	return stack
}

// frame is one level of the block structure: a key, or a sequence and the number of its item.
type frame struct {
	col, line int    // where the key or the sequence's latest item is
	key       string // "" for a sequence
	item      int
}

func path(stack []frame) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case f.key == "":
			fmt.Fprintf(&b, "[%d]", f.item)
		case b.Len() > 0:
			b.WriteString(".")
			b.WriteString(f.key)
		default:
			b.WriteString(f.key)
		}
	}
	return b.String()
}

var (
	urlUser   = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'"]*@`)
	secretArg = regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|token|access_key|secret_key)=[^\s&'"},\]]*`)
)

// redact masks the secrets a line may hold by mistake (a connection string pasted where its
// variable's name belongs): errors never show secrets.
func redact(line string) string {
	line = urlUser.ReplaceAllString(line, "${1}***@")
	return secretArg.ReplaceAllString(line, "${1}=***")
}
