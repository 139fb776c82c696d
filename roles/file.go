package roles

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/versement/versement/internal/yamlx"
)

// The file's shape. Unknown fields are errors: a misspelt access_log would silently deny, a
// misspelt classes silently widen.
type fileDoc struct {
	Motives []motiveSpec `yaml:"motives"`
	Roles   []roleSpec   `yaml:"roles"`
}

type roleSpec struct {
	Name            string      `yaml:"name"`
	Groups          []string    `yaml:"groups"`
	Consult         []grantSpec `yaml:"consult"`
	AccessLog       bool        `yaml:"access_log"`
	ArchivesService bool        `yaml:"archives_service"`
}

type grantSpec struct {
	Profile string   `yaml:"profile"`
	Classes []string `yaml:"classes"`
	Tiers   []string `yaml:"tiers"`
}

// motiveSpec is a motive written as its id alone (a default category: its label is known) or as
// {id, label}.
type motiveSpec struct {
	ID, Label string
	line      int
}

// lineError is an error at a line, from a value's own decoding.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func (m *motiveSpec) UnmarshalYAML(n ast.Node) error {
	m.line = n.GetToken().Position.Line
	switch n := n.(type) {
	case *ast.StringNode:
		m.ID = n.Value
		return nil
	case *ast.MappingNode, *ast.MappingValueNode:
		var v struct {
			ID    string `yaml:"id"`
			Label string `yaml:"label"`
		}
		if err := yaml.NodeToValue(n, &v, yaml.DisallowUnknownField()); err != nil {
			var ye yaml.Error
			if errors.As(err, &ye) && ye.GetToken() != nil {
				return &lineError{ye.GetToken().Position.Line, ye.GetMessage()}
			}
			return &lineError{m.line, err.Error()}
		}
		m.ID, m.Label = v.ID, v.Label
		return nil
	}
	return &lineError{m.line, "want a category id (droit-acces) or {id: …, label: …}"}
}

// Load reads and checks the roles file at path. A missing file is an error wrapping
// fs.ErrNotExist: the caller decides what no file means (nobody may consult).
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return Parse(path, data)
}

// Parse checks and decodes a roles file's YAML text; name names it in errors. Every mistake
// found is reported, one per line, as "file:line: field: message".
func Parse(name string, data []byte) (*Policy, error) {
	f, err := yamlx.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, fmt.Errorf("%s:1: empty roles file: want motives (optional) and roles", name)
	case len(docs) > 1:
		return nil, fmt.Errorf("%s:%d: a roles file is one YAML document, this one holds %d", name, docs[1].Body.GetToken().Position.Line, len(docs))
	}
	if line := yamlx.FirstAlias(f); line > 0 {
		return nil, fmt.Errorf("%s:%d: YAML aliases (*name) are not allowed in a roles file: repeat the value", name, line)
	}
	body := docs[0].Body
	if line := firstTag(body); line > 0 {
		return nil, fmt.Errorf("%s:%d: YAML tags (!name) are not allowed in a roles file: write the value alone", name, line)
	}
	var doc fileDoc
	if err := decode(body, &doc); err != nil {
		var le *lineError
		if errors.As(err, &le) {
			c := &checker{file: name, body: body}
			return nil, fmt.Errorf("%s:%d: %s: %s", name, le.line, c.itemAt("motives", le.line), le.msg)
		}
		return nil, yamlx.Error(name, body, err)
	}
	c := &checker{file: name, body: body}
	p := &Policy{File: name, Motives: c.motives(doc.Motives), Roles: c.roles(doc.Roles)}
	if len(c.errs) > 0 {
		// In the file's order, as one reads it.
		slices.SortStableFunc(c.errs, func(a, b lineMsg) int { return a.line - b.line })
		msgs := make([]string, len(c.errs))
		for i, e := range c.errs {
			msgs[i] = e.msg
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return p, nil
}

// decode decodes strictly, and turns a panic of the YAML library into an error: goccy/go-yaml
// v1.19.2 dereferences nil on some malformed inputs (retention's schedules met it too), and a bad
// file must be an error, not a crash.
func decode(body ast.Node, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a valid roles file (the YAML reader failed: %v)", p)
		}
	}()
	return yaml.NodeToValue(body, v, yaml.DisallowUnknownField())
}

// firstTag is the line of the first tag (!name) under n, 0 when there is none. A roles file has
// no use for one, and tagged sequences crash goccy/go-yaml v1.19.2's decoder ("groups: ![x]").
func firstTag(n ast.Node) int {
	line := 0
	ast.Walk(visitor(func(n ast.Node) bool {
		if line > 0 {
			return false
		}
		if t, ok := n.(*ast.TagNode); ok {
			line = 1
			if tk := t.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
			return false
		}
		return true
	}), n)
	return line
}

type visitor func(ast.Node) bool

func (v visitor) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

// checker collects the mistakes of one file, each at its line.
type checker struct {
	file string
	body ast.Node
	errs []lineMsg
}

type lineMsg struct {
	line int
	msg  string
}

// line is the line of the field at path ("roles[0].groups"), or of its nearest parent in the
// file (a missing field is reported where the mapping that lacks it is).
func (c *checker) line(path string) int {
	for path != "" {
		if p, err := yaml.PathString("$." + path); err == nil {
			if n, err := p.FilterNode(c.body); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 1
}

func (c *checker) errorf(path, format string, args ...any) {
	l := c.line(path)
	c.errs = append(c.errs, lineMsg{l, fmt.Sprintf("%s:%d: %s: %s", c.file, l, path, fmt.Sprintf(format, args...))})
}

// itemAt names the item of the list at path that holds line: the last one starting at or before it.
func (c *checker) itemAt(path string, line int) string {
	at := path
	for i := 0; ; i++ {
		item := fmt.Sprintf("%s[%d]", path, i)
		p, err := yaml.PathString("$." + item)
		if err != nil {
			return at
		}
		n, err := p.FilterNode(c.body)
		if err != nil || n == nil || n.GetToken() == nil || n.GetToken().Position.Line > line {
			return at
		}
		at = item
	}
}

func (c *checker) motives(specs []motiveSpec) []Motive {
	var ms []Motive
	first := map[string]int{}
	for i, s := range specs {
		at := fmt.Sprintf("motives[%d]", i)
		m := Motive{ID: strings.TrimSpace(s.ID), Label: strings.TrimSpace(s.Label)}
		switch {
		case m.ID == "":
			c.errorf(at, "a category needs an id (droit-acces, verification-diplome…)")
			continue
		case strings.ContainsAny(m.ID, " \t,"):
			c.errorf(at, "category id %q: no spaces or commas (it is typed on the command line and recorded in the access log)", m.ID)
			continue
		}
		if l, dup := first[m.ID]; dup {
			c.errorf(at, "category %q is listed twice (first at line %d)", m.ID, l)
			continue
		}
		first[m.ID] = s.line
		if m.Label == "" {
			i := slices.IndexFunc(DefaultMotives, func(d Motive) bool { return d.ID == m.ID })
			if i < 0 {
				c.errorf(at, "category %q is not a default one (%s): give it a label ({id: %s, label: …})", m.ID, strings.Join((*Policy)(nil).MotiveIDs(), ", "), m.ID)
				continue
			}
			m.Label = DefaultMotives[i].Label
		}
		ms = append(ms, m)
	}
	return ms
}

func (c *checker) roles(specs []roleSpec) []Role {
	if len(specs) == 0 {
		c.errorf("roles", "no role: nobody could consult; name at least one role with its groups")
		return nil
	}
	var rs []Role
	first := map[string]int{}
	for i, s := range specs {
		at := fmt.Sprintf("roles[%d]", i)
		r := Role{Name: strings.TrimSpace(s.Name), Groups: s.Groups, AccessLog: s.AccessLog, ArchivesService: s.ArchivesService, Line: c.line(at)}
		switch l, dup := first[r.Name]; {
		case r.Name == "":
			c.errorf(at+".name", "a role needs a name (the service: scolarite, archives…)")
		case dup:
			c.errorf(at+".name", "role %q is defined twice (first at line %d)", r.Name, l)
		default:
			first[r.Name] = c.line(at + ".name")
		}
		if len(s.Groups) == 0 {
			c.errorf(at+".groups", "a role needs at least one group: the sign-on groups whose members hold it")
		}
		for j, g := range s.Groups {
			if strings.TrimSpace(g) == "" {
				c.errorf(fmt.Sprintf("%s.groups[%d]", at, j), "empty group name")
			}
		}
		if len(s.Consult) == 0 && !s.AccessLog {
			c.errorf(at, "role %q grants nothing: give it consult, access_log: true, or both", r.Name)
		}
		for j, g := range s.Consult {
			r.Consult = append(r.Consult, c.grant(fmt.Sprintf("%s.consult[%d]", at, j), g, s))
		}
		rs = append(rs, r)
	}
	return rs
}

func (c *checker) grant(at string, s grantSpec, role roleSpec) Grant {
	g := Grant{Profile: strings.TrimSpace(s.Profile), Classes: s.Classes, Tiers: s.Tiers}
	switch {
	case g.Profile == "":
		c.errorf(at+".profile", `missing: name the profile (apogee, harpege…), or "*" for every profile`)
	case g.Profile == Any && !role.ArchivesService:
		// Intermediate archives are reachable by the service that needs them, not by all.
		c.errorf(at+".profile", `"*" (every profile) is for the archives service only (archives_service: true): name the profiles this service works with`)
	}
	for k, cl := range s.Classes {
		if strings.TrimSpace(cl) == "" {
			c.errorf(fmt.Sprintf("%s.classes[%d]", at, k), "empty class name")
		}
	}
	if len(s.Tiers) == 0 {
		c.errorf(at+".tiers", "missing: want intermediate, final or both")
	}
	seen := map[string]bool{}
	for k, t := range s.Tiers {
		tat := fmt.Sprintf("%s.tiers[%d]", at, k)
		switch {
		case t != TierIntermediate && t != TierFinal:
			c.errorf(tat, "unknown tier %q: want intermediate or final (active dossiers are still in the application; those due for destruction are not archived)", t)
		case seen[t]:
			c.errorf(tat, "tier %s is listed twice", t)
		case t == TierFinal && !role.ArchivesService:
			c.errorf(tat, "final archives are consulted only through the archives service (CNIL, délibération 2005-213): grant them to the role with archives_service: true")
		}
		seen[t] = true
	}
	return g
}
