// Package yamlx holds what versement's YAML readers (profiles, retention schedules, jobs files)
// share beyond the YAML library.
package yamlx

import "github.com/goccy/go-yaml/ast"

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
