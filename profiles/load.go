package profiles

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/versement/versement/internal/yamlx"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames lists the built-in profiles, sorted.
func BuiltinNames() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Builtin loads the built-in profile name (apogee, harpege).
func Builtin(name string) (*Profile, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (built-in: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	return Parse("builtin/"+name+".yaml", "", data)
}

// BuiltinSource returns the YAML text of a built-in profile, as shipped.
func BuiltinSource(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (built-in: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	return data, nil
}

// Open loads a profile by built-in name or by file path: a name without a path separator or a
// .yaml/.yml suffix is a built-in one.
func Open(nameOrPath string) (*Profile, error) {
	if isPath(nameOrPath) {
		return Load(nameOrPath)
	}
	return Builtin(nameOrPath)
}

func isPath(s string) bool {
	return strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator) ||
		strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}

// Load reads and checks the profile in the file at path. Its error is an Errors listing every
// mistake found with its line, or a plain error when the file cannot be read.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return Parse(path, filepath.Dir(path), data)
}

// Parse checks and decodes a profile's YAML text. file names it in errors; dir resolves the relative
// paths it holds.
func Parse(file, dir string, data []byte) (*Profile, error) {
	f, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, Errors{syntaxError(file, err)}
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, Errors{{File: file, Line: 1, Msg: "empty profile: want one YAML document"}}
	case len(docs) > 1:
		return nil, Errors{{File: file, Line: docs[1].Body.GetToken().Position.Line,
			Msg: fmt.Sprintf("a profile is one YAML document, this file holds %d: one profile per file", len(docs))}}
	}
	if line := yamlx.FirstAlias(f); line > 0 {
		return nil, Errors{{File: file, Line: line, Msg: "YAML aliases (*name) are not allowed in a profile: repeat the value"}}
	}
	f.Docs = docs
	el := &errorList{file: file, lines: indexLines(f.Docs[0].Body)}
	// Check the shape (unknown fields, wrong types) ourselves: the decoder stops at the first
	// mistake, and the user wants all of them, each with its field path.
	checkShape(el, f.Docs[0].Body, reflect.TypeOf(Profile{}), "")
	if len(el.errs) > 0 {
		return nil, el.errs.err()
	}
	p := &Profile{File: file, Dir: dir, lines: el.lines}
	if err := yaml.NodeToValue(f.Docs[0].Body, p); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, Errors{{File: file, Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}}
		}
		return nil, Errors{{File: file, Msg: err.Error()}}
	}
	p.validate(el)
	if err := el.errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func syntaxError(file string, err error) *Error {
	var se *yamlx.SyntaxError
	if errors.As(err, &se) {
		return &Error{File: file, Line: se.Line, Field: se.Field, Msg: se.Msg + "\n" + se.Excerpt()}
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return &Error{File: file, Line: ye.GetToken().Position.Line, Msg: "YAML syntax: " + ye.GetMessage()}
	}
	return &Error{File: file, Msg: "YAML syntax: " + err.Error()}
}

// lineIndex maps a field path (classes[0].root.table) to the line it is on.
type lineIndex map[string]int

func indexLines(root ast.Node) lineIndex {
	li := lineIndex{}
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil {
			return
		}
		if tk := n.GetToken(); tk != nil {
			p := fieldPath(n.GetPath())
			if _, ok := li[p]; !ok {
				li[p] = tk.Position.Line
			}
		}
		switch n := n.(type) {
		case *ast.MappingNode:
			for _, v := range n.Values {
				walk(v)
			}
		case *ast.MappingValueNode:
			// The key's line is the field's line, even when its value starts on the next one.
			li[fieldPath(n.Value.GetPath())] = n.Key.GetToken().Position.Line
			walk(n.Value)
		case *ast.SequenceNode:
			for _, v := range n.Values {
				walk(v)
			}
		case *ast.AnchorNode:
			walk(n.Value)
		case *ast.TagNode:
			walk(n.Value)
		}
	}
	walk(root)
	return li
}

// fieldPath turns go-yaml's "$.classes[0].root" into "classes[0].root".
func fieldPath(p string) string {
	p = strings.TrimPrefix(p, "$")
	return strings.TrimPrefix(p, ".")
}

// line finds the line of field, or of its nearest parent present in the file (a missing field is
// reported on the line of the mapping that lacks it).
func (li lineIndex) line(field string) int {
	for field != "" {
		if l, ok := li[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 1
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkShape compares a YAML node with the Go type it will decode into: unknown fields, mappings
// where a list is wanted, text where a number is wanted.
func checkShape(el *errorList, n ast.Node, t reflect.Type, path string) {
	for {
		switch nn := n.(type) {
		case *ast.TagNode:
			n = nn.Value
			continue
		case *ast.AnchorNode:
			n = nn.Value
			continue
		}
		break
	}
	if n == nil {
		return
	}
	if _, ok := n.(*ast.NullNode); ok {
		return // null leaves the zero value; required fields are checked later
	}
	switch t.Kind() {
	case reflect.Struct:
		values, ok := mappingValues(n)
		if !ok {
			el.add(path, "want a mapping (field: value), got %s", describeNode(n))
			return
		}
		fields := yamlFields(t)
		for _, mv := range values {
			key := keyText(mv)
			fp := join(path, key)
			f, ok := fields[key]
			if !ok {
				el.errs = append(el.errs, &Error{File: el.file, Line: mv.Key.GetToken().Position.Line, Field: fp,
					Msg: fmt.Sprintf("unknown field (known here: %s)", strings.Join(sortedKeys(fields), ", "))})
				continue
			}
			checkShape(el, mv.Value, f.Type, fp)
		}
	case reflect.Map:
		values, ok := mappingValues(n)
		if !ok {
			el.add(path, "want a mapping (name: text), got %s", describeNode(n))
			return
		}
		for _, mv := range values {
			checkShape(el, mv.Value, t.Elem(), join(path, keyText(mv)))
		}
	case reflect.Slice:
		s, ok := n.(*ast.SequenceNode)
		if !ok {
			el.add(path, "want a list, got %s", describeNode(n))
			return
		}
		for i, v := range s.Values {
			checkShape(el, v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
			// Scalars read as text: version: 2.2 is the text "2.2".
		default:
			el.add(path, "want text, got %s", describeNode(n))
		}
	case reflect.Int, reflect.Int64:
		if _, ok := n.(*ast.IntegerNode); !ok {
			el.add(path, "want a whole number, got %s", describeNode(n))
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			el.add(path, "want true or false, got %s", describeNode(n))
		}
	}
}

// mappingValues lists a mapping's entries; go-yaml gives a one-entry mapping as a lone
// MappingValueNode.
func mappingValues(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// keyText is a mapping key as written, without the quotes a quoted key would keep in String().
func keyText(mv *ast.MappingValueNode) string {
	if k, ok := mv.Key.(*ast.StringNode); ok {
		return k.Value
	}
	return mv.Key.String()
}

func describeNode(n ast.Node) string {
	switch n := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return strconv.Quote(n.Value)
	case *ast.LiteralNode:
		return "a text block"
	default:
		return n.String()
	}
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	return fields
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// YAML renders the profile as it was resolved (defaults filled in), for `versement profiles show`.
func (p *Profile) YAML() ([]byte, error) {
	q := *p
	q.Classes = append([]Class(nil), p.Classes...)
	if q.Format == "" {
		q.Format = "json"
	}
	if q.SEDA.Digest == "" {
		q.SEDA.Digest = "SHA-256"
	}
	if q.Batch.MaxDossiers == 0 {
		q.Batch.MaxDossiers = q.batch.dossiers
	}
	if q.Batch.MaxBytes == "" {
		q.Batch.MaxBytes = strconv.FormatInt(q.batch.bytes, 10)
	}
	return yaml.MarshalWithOptions(&q, yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
}
