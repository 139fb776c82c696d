// Package yamlx holds what versement's YAML readers (profiles, retention schedules, jobs files)
// share beyond the YAML library.
package yamlx

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// FirstAlias returns the line of the first alias (*name) in f, or 0 when there is none.
//
// versement refuses aliases in its files: decoding copies an anchor's value at every alias, so a
// few lines of aliases to lists of aliases expand to gigabytes (a 9 KB profile reached 160 MB),
// and a file a colleague hands over must not be able to exhaust memory.
func FirstAlias(f *ast.File) int {
	if f == nil {
		return 0
	}
	v := &aliasFinder{}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		ast.Walk(v, doc.Body)
		if v.line > 0 {
			return v.line
		}
	}
	return 0
}

type aliasFinder struct{ line int }

func (v *aliasFinder) Visit(n ast.Node) ast.Visitor {
	if v.line > 0 {
		return nil
	}
	if a, ok := n.(*ast.AliasNode); ok {
		v.line = 1
		if tk := a.GetToken(); tk != nil && tk.Position != nil {
			v.line = tk.Position.Line
		}
		return nil
	}
	return v
}

// Error turns a go-yaml error into "file:line: field: message", with a message in the file's
// terms ("want a list, got a mapping") rather than Go's ("cannot unmarshal []interface {} into Go
// struct field …"). root is the document the error came from, to name the field; it may be nil.
// Syntax errors are better reported by Parse, which has the text to place them.
func Error(path string, root ast.Node, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	tk := ye.GetToken()
	field := ""
	var at ast.Node
	if root != nil {
		ast.Walk(visitFunc(func(n ast.Node) bool {
			if field != "" {
				return false
			}
			if n.GetToken() == tk {
				field, at = strings.TrimPrefix(n.GetPath(), "$."), n
				return false
			}
			return true
		}), root)
	}
	got := strconv.Quote(tk.Value)
	if at != nil {
		got = nodeName(at.Type(), tk.Value)
	}
	msg := ye.GetMessage()
	var te *yaml.TypeError
	var ne *yaml.UnexpectedNodeTypeError
	switch {
	case errors.As(err, &te):
		msg = fmt.Sprintf("want %s, got %s", kindName(te.DstType), got)
	case errors.As(err, &ne):
		// go-yaml says "int was used where sequence is expected".
		msg = fmt.Sprintf("want %s, got %s", nodeName(ne.Expected, ""), nodeName(ne.Actual, tk.Value))
	}
	if field == "" || field == "$" {
		return fmt.Errorf("%s:%d: %s", path, tk.Position.Line, msg)
	}
	return fmt.Errorf("%s:%d: %s: %s", path, tk.Position.Line, field, msg)
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "a mapping"
	}
	return t.String()
}

// nodeName names a YAML node kind in a user's terms; a scalar is shown by its text when
// there is one.
func nodeName(t ast.NodeType, text string) string {
	switch t {
	case ast.SequenceType:
		return "a list"
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.NullType:
		return "nothing (null)"
	}
	if text != "" {
		return strconv.Quote(text)
	}
	switch t {
	case ast.IntegerType, ast.FloatType:
		return "a number"
	case ast.BoolType:
		return "true or false"
	}
	return "text"
}

type visitFunc func(ast.Node) bool

func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

// Decode reads a configuration file of one YAML document into raw, the way every versement
// file is read: a syntax error placed at its line (Parse), no second document, no alias, no
// unknown field, each error as "file:line: …". kind names the file in errors ("jobs file") and
// want says what an empty one lacks ("a mapping with a jobs list"). The parsed file is returned
// for the lines of the fields the caller checks next.
func Decode(path string, b []byte, kind, want string, raw any) (*ast.File, error) {
	f, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, fmt.Errorf("%s: empty %s: want %s", path, kind, want)
	}
	if len(f.Docs) > 1 {
		line := 1
		if tk := f.Docs[1].Body.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return nil, fmt.Errorf("%s:%d: only one YAML document is allowed", path, line)
	}
	if line := FirstAlias(f); line > 0 {
		return nil, fmt.Errorf("%s:%d: YAML aliases (*name) are not allowed in a %s: repeat the value", path, line, kind)
	}
	if err := yaml.NodeToValue(f.Docs[0].Body, raw, yaml.DisallowUnknownField()); err != nil {
		return nil, Error(path, f.Docs[0].Body, err)
	}
	return f, nil
}

// Fields places the fields of a decoded configuration file at their lines, and its relative
// paths at its folder: what every checker of a versement file needs after Decode.
type Fields struct {
	Path string    // the file, as errors name it
	File *ast.File // Decode's result
}

// Errf is an error at the field whose YAML path is field (e.g. "jobs[0].cron"), or at its
// nearest written parent when the field itself is absent: "file:line: field: message".
func (fs Fields) Errf(field, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", fs.Path, fs.Line(field), field, fmt.Sprintf(format, args...))
}

// Line is the line of field, or of its nearest written parent (1 when none is written).
func (fs Fields) Line(field string) int {
	for f := field; f != ""; f = parentField(f) {
		p, err := yaml.PathString("$." + f)
		if err != nil {
			continue
		}
		if n, err := p.FilterFile(fs.File); err == nil && n != nil {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				return tk.Position.Line
			}
			return 1
		}
	}
	return 1
}

func parentField(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i <= 0 {
		return ""
	}
	return f[:i]
}

// Abs resolves p from the file's folder: the file means the same wherever the service starts.
func (fs Fields) Abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(fs.Path), p)
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}
