package profiles

import (
	"fmt"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/versement/versement/retention"
)

// exprRef is a table, or a column of a table, that an expression reads: INDIVIDU.D_NAISSANCE,
// the .ETA_IAA of map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU).
type exprRef struct {
	Table, Column string // Column "" when the table is read as a whole
}

func (r exprRef) String() string {
	if r.Column == "" {
		return r.Table
	}
	return r.Table + "." + r.Column
}

// exprRefs lists what an expression reads, in order of appearance, each once. Names the
// expression declares (let x = …) and functions are left out. The element of a predicate
// (.COL in map(TABLE, .COL)) is a column of the table the predicate walks, through filter and
// sortBy; an element of an unknown collection is not reported.
func exprRefs(src string) ([]exprRef, error) {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil, err
	}
	w := &refWalker{seen: map[exprRef]bool{}}
	w.walk(tree.Node, "", map[string]bool{})
	return w.refs, nil
}

type refWalker struct {
	refs []exprRef
	seen map[exprRef]bool
}

func (w *refWalker) add(r exprRef) {
	if r.Table == "" || r.Table == "nil" || r.Table == "true" || r.Table == "false" || w.seen[r] {
		return
	}
	w.seen[r] = true
	w.refs = append(w.refs, r)
}

// tableOf is the table a collection expression walks: TABLE, filter(TABLE, …), sortBy(TABLE, …).
func tableOf(n exprast.Node, declared map[string]bool) string {
	switch n := n.(type) {
	case *exprast.IdentifierNode:
		if !declared[n.Value] {
			return n.Value
		}
	case *exprast.BuiltinNode:
		switch n.Name {
		case "filter", "sortBy", "take", "reverse", "uniq", "concat":
			if len(n.Arguments) > 0 {
				return tableOf(n.Arguments[0], declared)
			}
		}
	case *exprast.ChainNode:
		return tableOf(n.Node, declared)
	}
	return ""
}

// rowTable is the table whose row an expression is: the root table itself (a map), TABLE[i],
// first(TABLE), last(TABLE), find(TABLE, …), findLast(TABLE, …).
func rowTable(n exprast.Node, declared map[string]bool) string {
	switch n := n.(type) {
	case *exprast.IdentifierNode:
		if !declared[n.Value] {
			return n.Value
		}
	case *exprast.MemberNode:
		if _, ok := n.Property.(*exprast.IntegerNode); ok {
			return tableOf(n.Node, declared)
		}
	case *exprast.BuiltinNode:
		switch n.Name {
		case "first", "last", "find", "findLast":
			if len(n.Arguments) > 0 {
				return tableOf(n.Arguments[0], declared)
			}
		}
	}
	return ""
}

func (w *refWalker) walk(n exprast.Node, scope string, declared map[string]bool) {
	switch n := n.(type) {
	case nil:
	case *exprast.IdentifierNode:
		if !declared[n.Value] {
			w.add(exprRef{Table: n.Value})
		}
	case *exprast.MemberNode:
		if prop, ok := n.Property.(*exprast.StringNode); ok {
			if p, ok := n.Node.(*exprast.PointerNode); ok && p.Name == "" {
				if scope != "" {
					w.add(exprRef{Table: scope, Column: prop.Value})
				}
				return
			}
			if t := rowTable(n.Node, declared); t != "" {
				w.walk(n.Node, scope, declared)
				w.add(exprRef{Table: t, Column: prop.Value})
				return
			}
		}
		w.walk(n.Node, scope, declared)
		w.walk(n.Property, scope, declared)
	case *exprast.BuiltinNode:
		inner := scope
		if len(n.Arguments) > 0 {
			inner = tableOf(n.Arguments[0], declared)
		}
		for _, a := range n.Arguments {
			if p, ok := a.(*exprast.PredicateNode); ok {
				w.walk(p.Node, inner, declared)
				continue
			}
			w.walk(a, scope, declared)
		}
	case *exprast.PredicateNode:
		w.walk(n.Node, scope, declared)
	case *exprast.CallNode:
		if _, ok := n.Callee.(*exprast.IdentifierNode); !ok {
			w.walk(n.Callee, scope, declared)
		}
		for _, a := range n.Arguments {
			w.walk(a, scope, declared)
		}
	case *exprast.VariableDeclaratorNode:
		w.walk(n.Value, scope, declared)
		inner := make(map[string]bool, len(declared)+1)
		for k := range declared {
			inner[k] = true
		}
		inner[n.Name] = true
		w.walk(n.Expr, scope, inner)
	case *exprast.SequenceNode:
		for _, c := range n.Nodes {
			w.walk(c, scope, declared)
		}
	case *exprast.ChainNode:
		w.walk(n.Node, scope, declared)
	case *exprast.BinaryNode:
		w.walk(n.Left, scope, declared)
		w.walk(n.Right, scope, declared)
	case *exprast.UnaryNode:
		w.walk(n.Node, scope, declared)
	case *exprast.ConditionalNode:
		w.walk(n.Cond, scope, declared)
		w.walk(n.Exp1, scope, declared)
		w.walk(n.Exp2, scope, declared)
	case *exprast.ArrayNode:
		for _, c := range n.Nodes {
			w.walk(c, scope, declared)
		}
	case *exprast.MapNode:
		for _, c := range n.Pairs {
			w.walk(c, scope, declared)
		}
	case *exprast.PairNode:
		w.walk(n.Value, scope, declared)
	case *exprast.SliceNode:
		w.walk(n.Node, scope, declared)
		w.walk(n.From, scope, declared)
		w.walk(n.To, scope, declared)
	}
}

// ruleExpr is one expression of a retention rule, named as the schedule file names its field.
type ruleExpr struct {
	field string
	refs  []exprRef
}

// ruleExprs lists what each expression of the rule reads: start, active_until, access.start,
// checks.birth, checks.periods, sampling.surname, sampling.birth, sampling.year.
func ruleExprs(r retention.Rule) []ruleExpr {
	var out []ruleExpr
	add := func(field, src string) {
		if strings.TrimSpace(src) == "" {
			return
		}
		refs, err := exprRefs(src)
		if err != nil {
			return // the schedule's compiler reports it
		}
		out = append(out, ruleExpr{field, refs})
	}
	add("start", r.StartEvent)
	add("active_until", r.ActiveUntil)
	if r.Access != nil {
		add("access.start", r.Access.StartEvent)
	}
	if r.Checks != nil {
		add("checks.birth", r.Checks.Birth)
		for i, p := range r.Checks.Periods {
			var refs []exprRef
			for _, c := range []string{p.Start, p.End} {
				if c != "" {
					refs = append(refs, exprRef{Table: p.Table, Column: c})
				}
			}
			if p.Table != "" {
				out = append(out, ruleExpr{fmt.Sprintf("checks.periods[%d]", i), refs})
			}
		}
	}
	if r.Sampling != nil {
		add("sampling.surname", r.Sampling.SurnameExpr)
		add("sampling.birth", r.Sampling.BirthExpr)
		add("sampling.year", r.Sampling.YearExpr)
	}
	return out
}

// RuleReads lists what a retention rule's expressions read, per table, in order of appearance:
// the columns of each table (none when the table is read as a whole). explain shows the values
// the rule saw in them.
func RuleReads(r retention.Rule) []TableColumns {
	var out []TableColumns
	at := map[string]int{}
	for _, e := range ruleExprs(r) {
		for _, ref := range e.refs {
			i, ok := at[ref.Table]
			if !ok {
				i = len(out)
				at[ref.Table] = i
				out = append(out, TableColumns{Table: ref.Table})
			}
			if ref.Column != "" && !slices.Contains(out[i].Columns, ref.Column) {
				out[i].Columns = append(out[i].Columns, ref.Column)
			}
		}
	}
	return out
}

// TableColumns are columns of one table.
type TableColumns struct {
	Table   string
	Columns []string
}
