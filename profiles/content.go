package profiles

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
)

type classTemplates struct {
	title, description *template.Template
	keywords           []*template.Template
	identifiers        []*template.Template  // one per Content.Identifiers
	person             [4]*template.Template // first name, birth name, usage name, birth date; nil when not mapped
}

// templateFuncs are the functions a Content template may call, beyond text/template's own.
var templateFuncs = template.FuncMap{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	// default returns def when v is empty (NULL or blank).
	"default": func(def string, v any) string {
		if s := display(v); s != "" {
			return s
		}
		return def
	},
	// year gives the year of a date ("" when NULL).
	"year": func(v any) string {
		switch d := v.(type) {
		case civil.Date:
			return fmt.Sprint(d.Year)
		case time.Time:
			return fmt.Sprint(d.Year())
		case string: // a date kept as its text ('1950-07-14 00:00:00')
			if len(d) >= 10 {
				if day, err := civil.Parse(d[:10]); err == nil {
					return fmt.Sprint(day.Year)
				}
			}
		}
		return ""
	},
}

func compileTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
}

// templateFields lists the root columns a template refers to ({{.COD_ETU}}), for checks against the
// profile's column list and the database.
func templateFields(t *template.Template) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) > 0 && !seen[n.Ident[0]] {
				seen[n.Ident[0]] = true
				out = append(out, n.Ident[0])
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	if t != nil && t.Tree != nil {
		walk(t.Root)
	}
	return out
}

// Description is a dossier's SEDA Content as the profile maps it.
type Description struct {
	Title       string
	Description string
	Keywords    []RenderedKeyword
	StartDate   civil.Date // zero when not mapped or NULL
	EndDate     civil.Date
	Identifiers []Identifier // the searchable identifiers that are not empty, in the profile's order
	Person      Person
	// Notes say why a date is missing when its expression failed on this dossier (a dirty row):
	// the dossier is still described and archived, and the run logs the note.
	Notes []string
}

// Identifier is one searchable identifier of a dossier: COD_ETU 20000001.
type Identifier struct{ Name, Value string }

// Person is the person a dossier is about.
type Person struct {
	FirstName, BirthName, UsageName string
	BirthDate                       civil.Date // zero when not mapped, NULL or not a date
}

// RenderedKeyword is one Keyword of a dossier.
type RenderedKeyword struct {
	Type, Content string
}

// RootRow returns the dossier's root row as a map from column name to value, the data a Content
// template sees.
func RootRow(d *extract.Dossier) map[string]any {
	row := map[string]any{}
	if len(d.Tables) == 0 || len(d.Tables[0].Rows) == 0 {
		return row
	}
	t := d.Tables[0]
	for i, c := range t.Columns {
		if i < len(t.Rows[0]) {
			row[c.Name] = displayValue(t.Rows[0][i])
		}
	}
	return row
}

// displayValue turns a column value into what a template prints: text as is, NULL as empty text,
// dates in ISO 8601, invalid UTF-8 with replacement characters (the data object keeps the bytes).
func displayValue(v extract.Value) any {
	switch v := v.(type) {
	case nil:
		return ""
	case extract.InvalidText:
		return strings.ToValidUTF8(string(v), "\uFFFD")
	case extract.Decimal:
		return string(v)
	case extract.KeptText:
		return v.Text // what the base holds ('1950-07-14 00:00:00' in a DATE column)
	case *extract.LOB:
		return ""
	case time.Time:
		// A title wants a reading, not Go's default "2015-09-10 00:00:00 +0000 UTC".
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05")
	}
	return v
}

func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case civil.Date:
		if v.IsZero() {
			return ""
		}
		return v.String()
	}
	return fmt.Sprint(v)
}

// Describe renders the class's Content templates for one dossier.
func (c *Class) Describe(d *extract.Dossier) (Description, error) { return c.DescribeEnv(d, nil) }

// DescribeEnv is Describe with the dossier's d.Env() already built (by the caller that decided its
// retention with it), so that it is built once per dossier; nil builds it when needed.
func (c *Class) DescribeEnv(d *extract.Dossier, env map[string]any) (Description, error) {
	if c.tpl == nil {
		if err := c.compileTemplates(); err != nil {
			return Description{}, err
		}
	}
	row := RootRow(d)
	var out Description
	var err error
	if out.Title, err = execute(c.tpl.title, row); err != nil {
		return out, fmt.Errorf("class %s: content.title: %w", c.Name, err)
	}
	if out.Title == "" {
		// SEDA (and VITAM) need a Title; a blank one says which dossier it is rather than nothing.
		out.Title = fmt.Sprintf("%s %v", c.Name, d.Key)
	}
	if c.tpl.description != nil {
		if out.Description, err = execute(c.tpl.description, row); err != nil {
			return out, fmt.Errorf("class %s: content.description: %w", c.Name, err)
		}
	}
	for i, t := range c.tpl.keywords {
		s, err := execute(t, row)
		if err != nil {
			return out, fmt.Errorf("class %s: content.keywords[%d].value: %w", c.Name, i, err)
		}
		if s != "" {
			out.Keywords = append(out.Keywords, RenderedKeyword{Type: c.Content.Keywords[i].Type, Content: s})
		}
	}
	for i, t := range c.tpl.identifiers {
		s, err := execute(t, row)
		if err != nil {
			return out, fmt.Errorf("class %s: content.identifiers[%d].value: %w", c.Name, i, err)
		}
		if s != "" {
			out.Identifiers = append(out.Identifiers, Identifier{Name: c.Content.Identifiers[i].Name, Value: s})
		}
	}
	if err := c.describePerson(&out, row); err != nil {
		return out, err
	}
	if c.dates != nil && (c.dates.start != nil || c.dates.end != nil) {
		if env == nil {
			env = d.Env()
		}
		key := KeyString(d.Key)
		if out.StartDate, err = evalDate(c.dates.start, env, key); err != nil {
			out.Notes = append(out.Notes, "content.start_date: "+err.Error())
		}
		if out.EndDate, err = evalDate(c.dates.end, env, key); err != nil {
			out.Notes = append(out.Notes, "content.end_date: "+err.Error())
		}
		// A dirty row can end before it starts; SEDA's EndDate must not precede StartDate, and
		// neither date can be trusted over the other: the end is left out, and said why.
		if !out.StartDate.IsZero() && !out.EndDate.IsZero() && out.EndDate.Before(out.StartDate) {
			out.Notes = append(out.Notes, fmt.Sprintf("content.end_date: %s is before the start date %s: left out of the manifest", out.EndDate, out.StartDate))
			out.EndDate = civil.Date{}
		}
	}
	return out, nil
}

func (c *Class) describePerson(out *Description, row map[string]any) error {
	var v [4]string
	for i, t := range c.tpl.person {
		if t == nil {
			continue
		}
		s, err := execute(t, row)
		if err != nil {
			return fmt.Errorf("class %s: content.person.%s: %w", c.Name, personFields[i], err)
		}
		v[i] = s
	}
	out.Person = Person{FirstName: v[0], BirthName: v[1], UsageName: v[2]}
	if v[3] != "" {
		// A DATE column renders as 2000-01-16 or '2000-01-16 00:00:00' when the base keeps text.
		d, err := civil.Parse(v[3][:min(len(v[3]), 10)])
		if err != nil || !d.Valid() {
			out.Notes = append(out.Notes, fmt.Sprintf("content.person.birth_date: %q is not a date: left out of the manifest", v[3]))
		} else {
			out.Person.BirthDate = d
		}
	}
	return nil
}

// personFields are the YAML keys of PersonSpec, in classTemplates.person's order.
var personFields = [4]string{"first_name", "birth_name", "usage_name", "birth_date"}

func (p *PersonSpec) texts() [4]string {
	if p == nil {
		return [4]string{}
	}
	return [4]string{p.FirstName, p.BirthName, p.UsageName, p.BirthDate}
}

func execute(t *template.Template, row map[string]any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, row); err != nil {
		return "", err
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s, nil
}

func (c *Class) compileTemplates() error {
	ct := &classTemplates{}
	var err error
	if ct.title, err = compileTemplate("title", c.Content.Title); err != nil {
		return err
	}
	if c.Content.Description != "" {
		if ct.description, err = compileTemplate("description", c.Content.Description); err != nil {
			return err
		}
	}
	for i, k := range c.Content.Keywords {
		t, err := compileTemplate(fmt.Sprintf("keyword%d", i), k.Value)
		if err != nil {
			return err
		}
		ct.keywords = append(ct.keywords, t)
	}
	for i, id := range c.Content.Identifiers {
		t, err := compileTemplate(fmt.Sprintf("identifier%d", i), id.Value)
		if err != nil {
			return err
		}
		ct.identifiers = append(ct.identifiers, t)
	}
	for i, text := range c.Content.Person.texts() {
		if text == "" {
			continue
		}
		t, err := compileTemplate(personFields[i], text)
		if err != nil {
			return err
		}
		ct.person[i] = t
	}
	c.tpl = ct
	return nil
}
