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
		rootCols, err := describeTable(ctx, src, p.Name, extract.Table{Name: c.Root.Table, Key: c.Root.Key})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			el.add(path+".root.table", "%s", oneLine(err.Error()))
		} else {
			t := c.Root.Table
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
			cols, err := describeTable(ctx, src, p.Name, extract.Table{Name: ch.Table, Key: ch.Join})
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
	}
	return warnings, el.errs.err()
}

func describeTable(ctx context.Context, src extract.Source, profile string, t extract.Table) ([]extract.Column, error) {
	infos, err := src.Describe(ctx, extract.Class{Name: "describe", Profile: profile, Root: t})
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

func hasColumn(cols []extract.Column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
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
	if !hasColumn(cols, name) {
		el.add(field, "{{.%s}}: unknown column %s in table %s", name, name, table)
	}
}

// Dictionary describes the class's tables for the data dictionary every SIP carries: the database's
// own description (types, nullability, comments), with the profile's comments and meanings in place
// of the database's where the profile gives them.
func (c *Class) Dictionary(ctx context.Context, src extract.Source) ([]extract.TableInfo, error) {
	infos, err := src.Describe(ctx, c.ExtractClass())
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
