package profiles

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/retention"
)

// Schedule is the retention schedule the profile names, loaded and compiled when the profile was.
func (p *Profile) Schedule() *retention.Schedule { return p.schedule }

// loadSchedule resolves retention.schedule: a built-in name, or a file relative to the profile.
func (p *Profile) loadSchedule() (*retention.Schedule, error) {
	ref := p.Retention.Schedule
	if !isPath(ref) {
		return retention.BuiltinSchedule(ref)
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Dir, path)
	}
	return retention.LoadSchedule(path)
}

func (p *Profile) validateRetention(el *errorList) {
	var s *retention.Schedule
	yearEnd := retention.DefaultYearEnd
	if p.Retention.Schedule != "" { // else reported already
		var err error
		if s, err = p.loadSchedule(); err != nil {
			el.add("retention.schedule", "%s", err)
		} else {
			p.schedule, yearEnd = s, s.YearEnd
		}
	}
	for i := range p.Classes {
		c := &p.Classes[i]
		// Content dates use the schedule's academic-year cut-off, as its rules do.
		path := fmt.Sprintf("classes[%d].content", i)
		c.dates = compileDates(el, path, c.Content, yearEnd)
		if c.dates.start != nil {
			c.checkExprTables(el, path+".start_date", c.Content.StartDate)
		}
		if c.dates.end != nil {
			c.checkExprTables(el, path+".end_date", c.Content.EndDate)
		}
		if c.Rule == "" || s == nil {
			continue
		}
		if _, ok := s.Rule(c.Rule); !ok {
			ids := make([]string, len(s.Rules))
			for j, r := range s.Rules {
				ids[j] = r.ID
			}
			el.add(fmt.Sprintf("classes[%d].rule", i), "schedule %s has no rule %s (it has %s)", s.Name, c.Rule, strings.Join(ids, ", "))
		}
	}
}

type contentDates struct {
	start, end *retention.CompiledRule
}

// compileDates compiles start_date and end_date in the retention expression language. Retention
// exports no compiler for a bare expression, so each is compiled as the start event of a rule of
// its own, which gives the same language, functions and errors.
func compileDates(el *errorList, path string, ct Content, yearEnd retention.MonthDay) *contentDates {
	cd := &contentDates{}
	for _, e := range []struct {
		field, src string
		to         **retention.CompiledRule
	}{{"start_date", ct.StartDate, &cd.start}, {"end_date", ct.EndDate, &cd.end}} {
		if e.src == "" {
			continue
		}
		r, err := compileExpr(e.src, yearEnd)
		if err != nil {
			if el != nil {
				el.add(path+"."+e.field, "bad expression: %s", oneLine(err.Error()))
			}
			continue
		}
		*e.to = r
	}
	return cd
}

func compileExpr(src string, yearEnd retention.MonthDay) (*retention.CompiledRule, error) {
	r, err := retention.Compile(retention.Rule{ID: "content", StartEvent: src, FinalAction: retention.Keep, Status: retention.Verified}, yearEnd)
	var re *retention.RuleError
	if errors.As(err, &re) {
		return nil, re.Err
	}
	return r, err
}

func evalDate(r *retention.CompiledRule, env map[string]any, key string) (civil.Date, error) {
	if r == nil {
		return civil.Date{}, nil
	}
	d := r.Decide(env, key, civil.Date{Year: 2000, Month: 1, Day: 1})
	if !d.Start.IsZero() {
		return d.Start, nil
	}
	if strings.HasPrefix(d.Reason, "start event gave no date") {
		return civil.Date{}, nil // NULL: the date is left out
	}
	return civil.Date{}, errors.New(strings.TrimPrefix(d.Reason, "start event: "))
}

// KeyString is the dossier key as text, as decisions, holds and reports carry it.
func KeyString(v extract.Value) string {
	switch k := v.(type) {
	case string:
		return k
	case extract.InvalidText:
		return strings.ToValidUTF8(string(k), "\uFFFD")
	}
	return fmt.Sprint(v)
}

// exprTables lists the names an expression reads as variables (table names: INDIVIDU.D_NAISSANCE,
// map(INS_ADM_ANU, …)), leaving out called functions and names it declares itself (let x = …).
func exprTables(src string) []string {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil
	}
	v := &tableVisitor{callees: map[exprast.Node]bool{}, declared: map[string]bool{}}
	exprast.Walk(&tree.Node, v)
	var out []string
	seen := map[string]bool{}
	for _, id := range v.idents {
		n := id.Value
		if v.callees[id] || v.declared[n] || seen[n] || n == "nil" || n == "true" || n == "false" {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

type tableVisitor struct {
	callees  map[exprast.Node]bool
	declared map[string]bool
	idents   []*exprast.IdentifierNode
}

func (v *tableVisitor) Visit(node *exprast.Node) {
	switch n := (*node).(type) {
	case *exprast.CallNode:
		v.callees[n.Callee] = true
	case *exprast.VariableDeclaratorNode:
		v.declared[n.Name] = true
	case *exprast.IdentifierNode:
		v.idents = append(v.idents, n)
	}
}

// checkExprTables refuses an expression that reads a table the class does not read: retention
// would find it missing in every dossier, and every decision would be undetermined.
func (c *Class) checkExprTables(el *errorList, field, src string) {
	tables := []string{c.Root.Table}
	for _, ch := range c.Children {
		tables = append(tables, ch.Table)
	}
	for _, name := range exprTables(src) {
		if !oneOf(name, tables) {
			el.add(field, "%s is not a table of this class (it reads %s)", name, strings.Join(tables, ", "))
		}
	}
}
