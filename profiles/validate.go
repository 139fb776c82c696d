package profiles

import (
	"fmt"
	"github.com/versement/versement/internal/bytesize"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Defaults for the batch limits.
const (
	DefaultMaxDossiers       = 1000
	DefaultMaxBytes    int64 = 1 << 30
)

var (
	// nameRe is what profile and class names may hold: they go into SIP identifiers and file names.
	nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	// identRe is a table or column name every dialect accepts unquoted-or-quoted alike; a table may
	// carry its schema (APOGEE.INDIVIDU).
	identRe      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$#]*$`)
	tableRe      = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_$#]*\.)?[A-Za-z_][A-Za-z0-9_$#]*$`)
	sedaVersions = []string{"2.1", "2.2", "2.3"}
	legalStatus  = []string{"Public Archive", "Private Archive", "Public and Private Archive"}
	digests      = []string{"SHA-256", "SHA-512"}
	dialects     = []string{"sqlite", "postgres", "oracle"}
	// identifierName keeps an identifier's name readable in "NAME:value" and in a search form.
	identifierName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
	// keywordTypes are SEDA's KeywordType code list.
	keywordTypes = []string{"corpname", "famname", "geogname", "name", "occupation", "persname", "subject", "genreform", "function"}
)

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func quoteList(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, ", ")
}

func (p *Profile) validate(el *errorList) {
	if p.Name == "" {
		el.add("name", "missing: every profile has a name")
	} else if !nameRe.MatchString(p.Name) {
		el.add("name", "%q: use letters, digits, '-' and '_', starting with a letter (it goes into SIP identifiers)", p.Name)
	}
	if p.Source.Dialect != "" && !oneOf(p.Source.Dialect, dialects) {
		el.add("source.dialect", "%q: want one of %s", p.Source.Dialect, quoteList(dialects))
	}
	if p.Source.DSNEnv != "" && p.Source.DSNFile != "" {
		el.add("source.dsn_file", "give dsn_env or dsn_file, not both")
	}

	s := p.SEDA
	switch {
	case s.Version == "":
		el.add("seda.version", "missing: want one of %s", quoteList(sedaVersions))
	case !oneOf(s.Version, sedaVersions):
		el.add("seda.version", "%q: want one of %s", s.Version, quoteList(sedaVersions))
	}
	if s.ArchivalAgency.Identifier == "" {
		el.add("seda.archival_agency.identifier", "missing: the archive service's identifier (ArchivalAgency)")
	}
	if s.TransferringAgency.Identifier == "" {
		el.add("seda.transferring_agency.identifier", "missing: the transferring service's identifier (TransferringAgency)")
	}
	if s.LegalStatus != "" && !oneOf(s.LegalStatus, legalStatus) {
		el.add("seda.legal_status", "%q: want one of %s", s.LegalStatus, quoteList(legalStatus))
	}
	if s.Digest != "" && !oneOf(s.Digest, digests) {
		el.add("seda.digest", "%q: want one of %s", s.Digest, quoteList(digests))
	}

	if p.Retention.Schedule == "" {
		el.add("retention.schedule", "missing: a built-in schedule name (apogee, harpege) or a schedule file")
	}

	p.batch = batchLimits{dossiers: DefaultMaxDossiers, bytes: DefaultMaxBytes}
	if p.Batch.MaxDossiers < 0 {
		el.add("batch.max_dossiers", "%d: want a positive number", p.Batch.MaxDossiers)
	} else if p.Batch.MaxDossiers > 0 {
		p.batch.dossiers = p.Batch.MaxDossiers
	}
	if p.Batch.MaxBytes != "" {
		n, err := bytesize.Parse(p.Batch.MaxBytes)
		if err != nil {
			el.add("batch.max_bytes", "%v", err)
		} else {
			p.batch.bytes = n
		}
	}

	switch p.Format {
	case "", "json":
	case "csv", "xml":
		el.add("format", "%q is reserved for a later version: only \"json\" is written today", p.Format)
	default:
		el.add("format", "%q: want \"json\"", p.Format)
	}

	if len(p.Classes) == 0 {
		el.add("classes", "missing: a profile needs at least one class of dossiers")
	}
	seen := map[string]int{}
	for i := range p.Classes {
		c := &p.Classes[i]
		path := fmt.Sprintf("classes[%d]", i)
		if c.Name != "" {
			if j, dup := seen[c.Name]; dup {
				el.add(path+".name", "%q is already the name of classes[%d]", c.Name, j)
			}
			seen[c.Name] = i
		}
		c.profile, c.file, c.path, c.lines = p.Name, el.file, path, el.lines
		c.validate(el, path)
	}
	p.validateRetention(el)
}

func (c *Class) validate(el *errorList, path string) {
	switch {
	case c.Name == "":
		el.add(path+".name", "missing: every class has a name")
	case !nameRe.MatchString(c.Name):
		el.add(path+".name", "%q: use letters, digits, '-' and '_', starting with a letter (it goes into SIP identifiers)", c.Name)
	}
	if c.Rule == "" {
		el.add(path+".rule", "missing: the id of the retention rule that applies to this class")
	}

	r := c.Root
	rp := path + ".root"
	switch {
	case r.Table == "":
		el.add(rp+".table", "missing: the root table whose rows are the dossiers")
	case !tableRe.MatchString(r.Table):
		el.add(rp+".table", "%q is not a table name", r.Table)
	}
	switch {
	case r.Key == "":
		el.add(rp+".key", "missing: the column holding the dossier key")
	case !identRe.MatchString(r.Key):
		el.add(rp+".key", "%q is not a column name", r.Key)
	case len(r.Columns) > 0 && !oneOf(r.Key, r.Columns):
		el.add(rp+".key", "%s is not in root.columns: the key must be read", r.Key)
	}
	checkColumns(el, rp+".columns", r.Columns)
	checkMeanings(el, rp+".meanings", r.Meanings, r.Columns)

	tables := map[string]string{strings.ToUpper(r.Table): rp}
	for i, ch := range c.Children {
		cp := fmt.Sprintf("%s.children[%d]", path, i)
		switch {
		case ch.Table == "":
			el.add(cp+".table", "missing: the child table's name")
		case !tableRe.MatchString(ch.Table):
			el.add(cp+".table", "%q is not a table name", ch.Table)
		default:
			if prev, dup := tables[strings.ToUpper(ch.Table)]; dup {
				el.add(cp+".table", "%s is already read by %s: a table appears once per class", ch.Table, prev)
			}
			tables[strings.ToUpper(ch.Table)] = cp
		}
		switch {
		case ch.Join == "":
			el.add(cp+".join", "missing: the column of %s holding the dossier key (%s)", orTable(ch.Table), r.Key)
		case !identRe.MatchString(ch.Join):
			el.add(cp+".join", "%q is not a column name", ch.Join)
		case len(ch.Columns) > 0 && !oneOf(ch.Join, ch.Columns):
			el.add(cp+".join", "%s is not in this child's columns: the join column must be read", ch.Join)
		}
		checkColumns(el, cp+".columns", ch.Columns)
		checkColumns(el, cp+".order", ch.Order)
		checkMeanings(el, cp+".meanings", ch.Meanings, ch.Columns)
		if len(ch.Columns) > 0 {
			for j, o := range ch.Order {
				if !oneOf(o, ch.Columns) {
					el.add(fmt.Sprintf("%s.order[%d]", cp, j), "%s is not in this child's columns", o)
				}
			}
		}
	}

	c.validateContent(el, path+".content")
}

func orTable(t string) string {
	if t == "" {
		return "the child table"
	}
	return t
}

func checkColumns(el *errorList, path string, cols []string) {
	seen := map[string]bool{}
	for i, col := range cols {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !identRe.MatchString(col) {
			el.add(p, "%q is not a column name", col)
		}
		if seen[strings.ToUpper(col)] {
			el.add(p, "%s is listed twice", col)
		}
		seen[strings.ToUpper(col)] = true
	}
}

func checkMeanings(el *errorList, path string, meanings map[string]string, cols []string) {
	for _, col := range sortedNames(meanings) {
		p := path + "." + col
		switch {
		case !identRe.MatchString(col):
			el.add(p, "%q is not a column name", col)
		case len(cols) > 0 && !oneOf(col, cols):
			el.add(p, "%s is not in this table's columns", col)
		case strings.TrimSpace(meanings[col]) == "":
			el.add(p, "empty meaning")
		}
	}
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *Class) validateContent(el *errorList, path string) {
	ct := &classTemplates{}
	check := func(field, text string) *template.Template {
		t, err := compileTemplate(field, text)
		if err != nil {
			el.add(path+"."+field, "bad template: %s", templateError(err))
			return nil
		}
		c.checkTemplateFields(el, path+"."+field, templateFields(t))
		return t
	}
	if c.Content.Title == "" {
		el.add(path+".title", "missing: a title template such as 'Dossier {{.%s}}'", orKey(c.Root.Key))
	} else if t := check("title", c.Content.Title); t != nil {
		ct.title = t
	}
	if c.Content.Description != "" {
		if t := check("description", c.Content.Description); t != nil {
			ct.description = t
		}
	}
	ok := true
	for i, k := range c.Content.Keywords {
		kp := fmt.Sprintf("keywords[%d]", i)
		if k.Type != "" && !oneOf(k.Type, keywordTypes) {
			el.add(path+"."+kp+".type", "%q: want one of %s", k.Type, quoteList(keywordTypes))
		}
		if k.Value == "" {
			el.add(path+"."+kp+".value", "missing: the keyword's template")
			ok = false
			continue
		}
		t := check(kp+".value", k.Value)
		if t == nil {
			ok = false
			continue
		}
		ct.keywords = append(ct.keywords, t)
	}
	names := map[string]bool{}
	for i, id := range c.Content.Identifiers {
		ip := fmt.Sprintf("identifiers[%d]", i)
		switch {
		case !identifierName.MatchString(id.Name):
			el.add(path+"."+ip+".name", "%q: want letters, digits, '_' or '-' (COD_ETU, INE)", id.Name)
		case names[id.Name]:
			el.add(path+"."+ip+".name", "%q is given twice", id.Name)
		}
		names[id.Name] = true
		if id.Value == "" {
			el.add(path+"."+ip+".value", "missing: the identifier's template, such as '{{.%s}}'", orKey(c.Root.Key))
			ok = false
			continue
		}
		t := check(ip+".value", id.Value)
		if t == nil {
			ok = false
			continue
		}
		ct.identifiers = append(ct.identifiers, t)
	}
	for i, text := range c.Content.Person.texts() {
		if text == "" {
			continue
		}
		if ct.person[i] = check("person."+personFields[i], text); ct.person[i] == nil {
			ok = false
		}
	}
	if ct.title != nil && ok {
		c.tpl = ct
	}
}

func orKey(k string) string {
	if k == "" {
		return "KEY"
	}
	return k
}

// checkTemplateFields refuses a template that names a column the class does not read, when the
// root's columns are listed (otherwise the database says, through ValidateSource).
func (c *Class) checkTemplateFields(el *errorList, path string, fields []string) {
	if len(c.Root.Columns) == 0 {
		return
	}
	for _, f := range fields {
		if !oneOf(f, c.Root.Columns) {
			el.add(path, "{{.%s}}: %s is not in root.columns", f, f)
		}
	}
}

// templateError drops text/template's "template: NAME:LINE:" prefix: the profile's line is given.
func templateError(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "template: ") {
		rest := strings.TrimPrefix(s, "template: ")
		// NAME:LINE: msg or NAME:LINE:COL: msg
		parts := strings.SplitN(rest, ": ", 2)
		if len(parts) == 2 {
			return parts[1]
		}
	}
	return s
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
