package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/versement/versement/extract"
)

// ValidateSource checks the profile against a live database: every table exists, and every column
// the profile names (keys, join columns, column lists, order, template fields) is one of its columns.
// Its error is an Errors, each located at the field that names the missing table or column.
// An optional table that is absent is not an error (CheckSource reports it).
func (p *Profile) ValidateSource(ctx context.Context, src extract.Source) error {
	_, err := p.CheckSource(ctx, src)
	return err
}

// CheckSource is ValidateSource that also returns the warnings: each optional table the database
// lacks, located where the profile names it. Every problem is found in one pass.
func (p *Profile) CheckSource(ctx context.Context, src extract.Source) (Errors, error) {
	el := &errorList{file: p.File, lines: p.lines}
	var warnings Errors
	for i := range p.Classes {
		c := &p.Classes[i]
		path := fmt.Sprintf("classes[%d]", i)
		// One table at a time, so that a missing table is reported where the profile names it,
		// and the other tables are still checked.
		held := map[string][]string{} // table → the columns its dossier rows hold
		rootCols, err := describeTable(ctx, src, p.Name, extract.Table{Name: c.Root.Table, Key: c.Root.Key, Columns: named(c.Root.Columns, nil, c.Root.Meanings)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			el.add(path+".root.table", "%s", oneLine(err.Error()))
		} else {
			t := c.Root.Table
			held[t] = heldColumns(c.Root.Columns, rootCols)
			checkLive(el, path+".root.key", t, rootCols, c.Root.Key)
			for j, col := range c.Root.Columns {
				checkLive(el, fmt.Sprintf("%s.root.columns[%d]", path, j), t, rootCols, col)
			}
			for _, col := range sortedNames(c.Root.Meanings) {
				checkLive(el, path+".root.meanings."+col, t, rootCols, col)
			}
			if c.tpl == nil {
				_ = c.compileTemplates()
			}
			if c.tpl != nil {
				for _, f := range templateFields(c.tpl.title) {
					checkLiveTemplate(el, path+".content.title", t, rootCols, f)
				}
				if c.tpl.description != nil {
					for _, f := range templateFields(c.tpl.description) {
						checkLiveTemplate(el, path+".content.description", t, rootCols, f)
					}
				}
				for k, kt := range c.tpl.keywords {
					for _, f := range templateFields(kt) {
						checkLiveTemplate(el, fmt.Sprintf("%s.content.keywords[%d].value", path, k), t, rootCols, f)
					}
				}
			}
		}
		for j, ch := range c.Children {
			cp := fmt.Sprintf("%s.children[%d]", path, j)
			cols, err := describeTable(ctx, src, p.Name, extract.Table{Name: ch.Table, Key: ch.Join, Columns: named(ch.Columns, ch.Order, ch.Meanings)})
			var missing *extract.MissingTableError
			if ch.Optional && errors.As(err, &missing) {
				warnings = append(warnings, &Error{File: p.File, Line: p.lines.line(cp + ".table"), Field: cp + ".table",
					Msg: fmt.Sprintf("optional table %s not found in %s (%s): dossiers are archived without it", ch.Table, missing.Where, missing.Detail())})
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				el.add(cp+".table", "%s", oneLine(err.Error()))
				continue
			}
			held[ch.Table] = heldColumns(ch.Columns, cols)
			checkLive(el, cp+".join", ch.Table, cols, ch.Join)
			for k, col := range ch.Columns {
				checkLive(el, fmt.Sprintf("%s.columns[%d]", cp, k), ch.Table, cols, col)
			}
			for k, col := range ch.Order {
				checkLive(el, fmt.Sprintf("%s.order[%d]", cp, k), ch.Table, cols, col)
			}
			for _, col := range sortedNames(ch.Meanings) {
				checkLive(el, cp+".meanings."+col, ch.Table, cols, col)
			}
		}
		c.checkLiveExprs(el, path, p, held)
	}
	return warnings, el.errs.err()
}

// named lists the columns a table's entry names, so that the description spells them as the
// profile does.
func named(cols, order []string, meanings map[string]string) []string {
	out := append(append([]string(nil), cols...), order...)
	return append(out, sortedNames(meanings)...)
}

// heldColumns are the columns a dossier's rows of the table hold: those listed, else all.
func heldColumns(listed []string, cols []extract.Column) []string {
	if len(listed) > 0 {
		return listed
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// checkLiveExprs checks what the class's retention rule and content dates read against what its
// dossiers hold: each table must be one of the class's, each column one its rows carry, spelled
// as the dossier spells it (expressions are case-sensitive). held has the tables that were found
// (an absent optional table and a missing one are reported already).
func (c *Class) checkLiveExprs(el *errorList, path string, p *Profile, held map[string][]string) {
	tables := []string{c.Root.Table}
	optional := map[string]bool{}
	for _, ch := range c.Children {
		tables = append(tables, ch.Table)
		optional[ch.Table] = ch.Optional
	}
	check := func(field, what string, refs []exprRef) {
		reported := map[string]bool{}
		for _, ref := range refs {
			if !oneOf(ref.Table, tables) {
				if reported[ref.Table] {
					continue
				}
				reported[ref.Table] = true
				el.add(field, "%s reads table %s, which is not a table of this class (it reads %s)", what, ref.Table, strings.Join(tables, ", "))
				continue
			}
			cols, found := held[ref.Table]
			if ref.Column == "" || !found || oneOf(ref.Column, cols) {
				continue
			}
			why := "unknown column " + ref.Column + " in table " + ref.Table
			for _, n := range cols {
				if strings.EqualFold(n, ref.Column) {
					why = "the dossier names it " + ref.Table + "." + n + ": expressions are case-sensitive"
				}
			}
			el.add(field, "%s reads %s, which its dossiers do not hold (%s)", what, ref, why)
		}
	}
	if s := p.schedule; s != nil && c.Rule != "" {
		if r, ok := s.Rule(c.Rule); ok {
			for _, e := range ruleExprs(r.Rule) {
				check(path+".rule", fmt.Sprintf("rule %s (schedule %s) %s", r.ID, s.Name, e.field), e.refs)
			}
		}
	}
	for _, d := range []struct{ field, src string }{{"start_date", c.Content.StartDate}, {"end_date", c.Content.EndDate}} {
		if d.src == "" {
			continue
		}
		if refs, err := exprRefs(d.src); err == nil {
			check(path+".content."+d.field, d.field, refs)
		}
	}
}

func describeTable(ctx context.Context, src extract.Source, profile string, t extract.Table) ([]extract.Column, error) {
	infos, err := src.Describe(ctx, extract.Spec{Name: "describe", Profile: profile, Root: t})
	if err != nil {
		return nil, err
	}
	for _, ti := range infos {
		if strings.EqualFold(ti.Name, t.Name) {
			if len(ti.Columns) == 0 {
				return nil, fmt.Errorf("unknown table (the database has no table %s)", t.Name)
			}
			return ti.Columns, nil
		}
	}
	return nil, fmt.Errorf("unknown table (the database has no table %s)", t.Name)
}

// hasColumn says whether the table has the column as the dossier spells it (the description
// resolved the profile's names as the database folds them).
func hasColumn(cols []extract.Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func checkLive(el *errorList, field, table string, cols []extract.Column, name string) {
	if name != "" && !hasColumn(cols, name) {
		el.add(field, "unknown column %s in table %s", name, table)
	}
}

func checkLiveTemplate(el *errorList, field, table string, cols []extract.Column, name string) {
	if hasColumn(cols, name) {
		return
	}
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			el.add(field, "{{.%s}}: the dossier names it %s: template fields are case-sensitive", name, c.Name)
			return
		}
	}
	el.add(field, "{{.%s}}: unknown column %s in table %s", name, name, table)
}

// Dictionary describes the class's tables for the data dictionary every SIP carries: the database's
// own description (types, nullability, comments), with the profile's comments and meanings in place
// of the database's where the profile gives them.
func (c *Class) Dictionary(ctx context.Context, src extract.Source) ([]extract.TableInfo, error) {
	infos, err := src.Describe(ctx, c.ExtractSpec())
	if err != nil {
		return nil, err
	}
	meanings := map[string]Meaning{strings.ToUpper(c.Root.Table): c.Root.Meaning}
	for _, ch := range c.Children {
		meanings[strings.ToUpper(ch.Table)] = ch.Meaning
	}
	for i := range infos {
		m := meanings[strings.ToUpper(infos[i].Name)]
		if m.Comment != "" {
			infos[i].Comment = m.Comment
		}
		cols := make([]extract.Column, len(infos[i].Columns))
		copy(cols, infos[i].Columns)
		for j := range cols {
			for name, text := range m.Meanings {
				if strings.EqualFold(name, cols[j].Name) {
					cols[j].Comment = text
				}
			}
		}
		infos[i].Columns = cols
	}
	return infos, nil
}
