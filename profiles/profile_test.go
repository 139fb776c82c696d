package profiles

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
)

// minimal is a valid profile; the cases below each break one thing in it.
const minimal = `name: minimal
seda:
  version: "2.1"
  archival_agency: {identifier: FRAD001}
  transferring_agency: {identifier: ETAB}
retention:
  schedule: apogee
classes:
  - name: person
    rule: APP-APO-IA
    root: {table: PERSON, key: ID}
    children:
      - table: ADDRESS
        join: PERSON_ID
    content:
      title: 'Person {{.NAME}} ({{.ID}})'
`

func TestBuiltinsLoad(t *testing.T) {
	names := BuiltinNames()
	if !reflect.DeepEqual(names, []string{"apogee", "harpege"}) {
		t.Fatalf("BuiltinNames() = %v", names)
	}
	for _, n := range names {
		p, err := Builtin(n)
		if err != nil {
			t.Fatalf("built-in %s: %v", n, err)
		}
		if p.Name != n || p.Retention.Schedule != n || len(p.Classes) != 1 {
			t.Errorf("built-in %s: name %q schedule %q classes %d", n, p.Name, p.Retention.Schedule, len(p.Classes))
		}
		// The resolved YAML reads back to the same profile.
		out, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("shown.yaml", "", out)
		if err != nil {
			t.Fatalf("built-in %s shown:\n%s\nreads back with: %v", n, out, err)
		}
		if !reflect.DeepEqual(withoutOrigins(q.Classes[0].ExtractSpec()), withoutOrigins(p.Classes[0].ExtractSpec())) || q.SEDA != p.SEDA {
			t.Errorf("built-in %s: show output does not read back to the same profile", n)
		}
	}
}

func TestBuiltinApogeeUsesTheRealSchema(t *testing.T) {
	p, err := Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Classes[0].ExtractSpec()
	if c.Root.Name != "INDIVIDU" || c.Root.Key != "COD_IND" {
		t.Errorf("root = %+v", c.Root)
	}
	var got []string
	for _, ch := range c.Children {
		if ch.JoinColumn != "COD_IND" {
			t.Errorf("%s joins on %s", ch.Name, ch.JoinColumn)
		}
		got = append(got, ch.Name)
	}
	want := []string{"ADRESSE", "INS_ADM_ANU", "INS_ADM_ETP", "RESULTAT_VET", "RESULTAT_VDI", "RESULTAT_ELP", "IND_BAC", "PHO_ETU", "THESE_HDR_SOUT"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("children = %v, want %v", got, want)
	}

	h, err := Builtin("harpege")
	if err != nil {
		t.Fatal(err)
	}
	hc := h.Classes[0].ExtractSpec()
	joins := map[string]string{}
	for _, ch := range hc.Children {
		joins[ch.Name] = ch.JoinColumn
	}
	wantJoins := map[string]string{"PERSONNEL": "NO_DOSSIER_PERS", "AFFECTATION": "NO_DOSSIER_PERS", "CARRIERE": "NO_DOSSIER_PERS",
		"ELEMENT_CARRIERE": "NO_DOSSIER_PERS", "CONTRAT_TRAVAIL": "NO_DOSSIER_PERS", "CONTRAT_AVENANT": "NO_DOSSIER_PERS",
		"ADRESSE_PERSONNELLE": "NO_INDIVIDU", "INDIVIDU_BANQUE": "NO_DOSSIER_PERS"}
	if hc.Root.Name != "INDIVIDU" || hc.Root.Key != "NO_INDIVIDU" || !reflect.DeepEqual(joins, wantJoins) {
		t.Errorf("harpege class = %+v", hc)
	}
}

// withoutOrigins drops the file:line of each table, which differ between a file and its shown form.
func withoutOrigins(c extract.Spec) extract.Spec {
	c.Root.Origin = ""
	c.Children = append([]extract.Child(nil), c.Children...)
	for i := range c.Children {
		c.Children[i].Origin = ""
	}
	return c
}

func TestMinimalDefaults(t *testing.T) {
	p, err := Parse("min.yaml", "/etc/versement", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxDossiers() != DefaultMaxDossiers || p.MaxBytes() != DefaultMaxBytes || p.DigestAlgorithm() != "SHA-256" {
		t.Errorf("defaults: %d dossiers, %d bytes, %s", p.MaxDossiers(), p.MaxBytes(), p.DigestAlgorithm())
	}
	p.OverrideBatch(10, 0)
	if p.MaxDossiers() != 10 || p.MaxBytes() != DefaultMaxBytes {
		t.Errorf("override: %d dossiers, %d bytes", p.MaxDossiers(), p.MaxBytes())
	}
	p.OverrideBatch(0, 5000)
	if p.MaxDossiers() != 10 || p.MaxBytes() != 5000 {
		t.Errorf("override: %d dossiers, %d bytes", p.MaxDossiers(), p.MaxBytes())
	}
	// Origins say where the profile names each table, for the source's messages.
	want := extract.Spec{Name: "person", Profile: "minimal", Root: extract.Table{Name: "PERSON", Key: "ID", Origin: "min.yaml:11"},
		Children: []extract.Child{{Table: extract.Table{Name: "ADDRESS", Origin: "min.yaml:13"}, JoinColumn: "PERSON_ID"}}}
	if got := p.Classes[0].ExtractSpec(); !reflect.DeepEqual(got, want) {
		t.Errorf("ExtractSpec() = %+v, want %+v", got, want)
	}
}

// TestErrors checks the exact text a user sees for each class of mistake: the file, the line, the
// field and what is wrong.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown field", "  version: \"2.1\"\n", "  version: \"2.1\"\n  digets: SHA-512\n",
			[]string{"p.yaml:4: seda.digets: unknown field (known here: archival_agency, archival_agreement, archival_profile, digest, legal_status, originating_agency, submission_agency, transferring_agency, version)"}},
		{"unknown field in a child", "        join: PERSON_ID\n", "        join: PERSON_ID\n        joint: ID\n",
			[]string{"p.yaml:15: classes[0].children[0].joint: unknown field (known here: columns, comment, join, meanings, optional, order, table, where)"}},
		{"missing key", "root: {table: PERSON, key: ID}", "root: {table: PERSON}",
			[]string{"p.yaml:11: classes[0].root.key: missing: the column holding the dossier key"}},
		{"missing join", "        join: PERSON_ID\n", "",
			[]string{"p.yaml:13: classes[0].children[0].join: missing: the column of ADDRESS holding the dossier key (ID)"}},
		{"missing rule and name", "  - name: person\n    rule: APP-APO-IA\n", "  - description: people\n",
			[]string{"p.yaml:9: classes[0].name: missing: every class has a name",
				"p.yaml:9: classes[0].rule: missing: the id of the retention rule that applies to this class"}},
		{"wrong type: list", "    children:\n", "    children: ADDRESS\n    other:\n",
			[]string{"p.yaml:12: classes[0].children: want a list, got \"ADDRESS\"", "p.yaml:13: classes[0].other: unknown field (known here: children, content, description, name, root, rule)"}},
		{"wrong type: number", "classes:\n", "batch:\n  max_dossiers: many\nclasses:\n",
			[]string{"p.yaml:9: batch.max_dossiers: want a whole number, got \"many\""}},
		{"wrong type: mapping", "  schedule: apogee\n", "  schedule: {name: apogee}\n",
			[]string{"p.yaml:7: retention.schedule: want text, got a mapping"}},
		{"bad template", "'Person {{.NAME}} ({{.ID}})'", "'Person {{.NAME} ({{.ID}})'",
			[]string{"p.yaml:16: classes[0].content.title: bad template: bad character U+007D '}'"}},
		{"template names a column not read", "root: {table: PERSON, key: ID}", "root: {table: PERSON, key: ID, columns: [ID, SURNAME]}",
			[]string{"p.yaml:16: classes[0].content.title: {{.NAME}}: NAME is not in root.columns"}},
		{"bad expression", "      title: 'Person {{.NAME}} ({{.ID}})'\n", "      title: 'Person {{.NAME}} ({{.ID}})'\n      start_date: 'earliest(PERSON.BORN'\n",
			[]string{"p.yaml:17: classes[0].content.start_date: bad expression: unexpected token EOF (1:20)"}},
		{"expression reading an unknown table", "      title: 'Person {{.NAME}} ({{.ID}})'\n", "      title: 'Person {{.NAME}} ({{.ID}})'\n      end_date: 'latest(map(ADRESS, .MOVED))'\n",
			[]string{"p.yaml:17: classes[0].content.end_date: ADRESS is not a table of this class (it reads PERSON, ADDRESS)"}},
		{"bad identifiers and person", "      title: 'Person {{.NAME}} ({{.ID}})'\n", "      title: 'Person {{.NAME}} ({{.ID}})'\n      identifiers:\n        - {name: 'N° étudiant', value: '{{.ID}}'}\n        - {name: ID, value: '{{.ID}}'}\n        - {name: ID}\n      person: {birth_date: '{{.BORN}'}\n",
			[]string{"p.yaml:18: classes[0].content.identifiers[0].name: \"N° étudiant\": want letters, digits, '_' or '-' (COD_ETU, INE)",
				"p.yaml:20: classes[0].content.identifiers[2].name: \"ID\" is given twice",
				"p.yaml:20: classes[0].content.identifiers[2].value: missing: the identifier's template, such as '{{.ID}}'",
				"p.yaml:21: classes[0].content.person.birth_date: bad template: bad character U+007D '}'"}},
		{"unknown rule", "    rule: APP-APO-IA\n", "    rule: APP-APO-XX\n",
			[]string{"p.yaml:10: classes[0].rule: schedule apogee has no rule APP-APO-XX (it has APP-APO-IA)"}},
		{"unknown built-in schedule", "  schedule: apogee\n", "  schedule: apogée\n",
			[]string{"p.yaml:7: retention.schedule: no built-in schedule \"apogée\" (have apogee, harpege)"}},
		{"missing schedule file", "  schedule: apogee\n", "  schedule: ./mine.yaml\n",
			[]string{"p.yaml:7: retention.schedule: schedule: open mine.yaml: no such file or directory"}},
		{"bad version and digest", "  version: \"2.1\"\n", "  version: \"2.0\"\n  digest: MD5\n",
			[]string{"p.yaml:3: seda.version: \"2.0\": want one of \"2.1\", \"2.2\", \"2.3\"", "p.yaml:4: seda.digest: \"MD5\": want one of \"SHA-256\", \"SHA-512\""}},
		{"reserved format", "classes:\n", "format: csv\nclasses:\n",
			[]string{"p.yaml:8: format: \"csv\" is reserved for a later version: only \"json\" is written today"}},
		{"bad size", "classes:\n", "batch: {max_bytes: 2 GO}\nclasses:\n",
			[]string{"p.yaml:8: batch.max_bytes: \"2 GO\": want a positive size such as 500MB, 2GiB or 1000000"}},
		{"table twice", "      - table: ADDRESS\n", "      - table: person\n",
			[]string{"p.yaml:13: classes[0].children[0].table: person is already read by classes[0].root: a table appears once per class"}},
		{"bad table name", "table: PERSON,", "table: 'PERSON; DROP TABLE X',",
			[]string{"p.yaml:11: classes[0].root.table: \"PERSON; DROP TABLE X\" is not a table name"}},
		{"meaning of a column not read", "root: {table: PERSON, key: ID}", "root: {table: PERSON, key: ID, columns: [ID, NAME], meanings: {BORN: date of birth, NAME: ''}}",
			[]string{"p.yaml:11: classes[0].root.meanings.BORN: BORN is not in this table's columns", "p.yaml:11: classes[0].root.meanings.NAME: empty meaning"}},
		{"meanings not a mapping", "        join: PERSON_ID\n", "        join: PERSON_ID\n        meanings: [STREET]\n",
			[]string{"p.yaml:15: classes[0].children[0].meanings: want a mapping (name: text), got a list"}},
		{"two documents", "classes:\n", "---\nname: other\nclasses:\n",
			[]string{"p.yaml:9: a profile is one YAML document, this file holds 2: one profile per file"}},
		{"duplicate field", "name: minimal\n", "name: minimal\nname: other\n",
			[]string{"p.yaml:2: name: defined twice: the first \"name\" is at line 1\n    2 | name: other\n      | ^"}},
		{"syntax", "  version: \"2.1\"\n", "  version: [\"2.1\"\n",
			[]string{"p.yaml:3: seda.version: list not closed: the [ here has no closing ] before line 4\n    3 |   version: [\"2.1\"\n      |            ^"}},
		{"alias", "root: {table: PERSON, key: ID}", "root: {table: PERSON, key: ID, columns: &cols [ID, NAME]}\n    description: *cols",
			[]string{"p.yaml:12: YAML aliases (*name) are not allowed in a profile: repeat the value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(minimal, tc.old) {
				t.Fatalf("case does not apply: %q not in the profile", tc.old)
			}
			src := strings.Replace(minimal, tc.old, tc.new, 1)
			_, err := Parse("p.yaml", "", []byte(src))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v (%T), want Errors", err, err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestLoadFileNamesItInErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(minimal, "  - name: person\n", "  - name: 'per son'\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	want := path + ":9: classes[0].name: \"per son\": use letters, digits, '-' and '_', starting with a letter (it goes into SIP identifiers)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if _, err := Open("nosuch"); err == nil || err.Error() != `no built-in profile "nosuch" (built-in: apogee, harpege)` {
		t.Errorf("Open(nosuch) = %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Open(missing) = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	p, err := Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	d := &extract.Dossier{Class: "etudiant", Key: int64(42), Tables: []extract.TableRows{{
		Table:   "INDIVIDU",
		Columns: []extract.Column{{Name: "COD_IND"}, {Name: "COD_ETU"}, {Name: "LIB_NOM_PAT_IND"}, {Name: "LIB_PR1_IND"}, {Name: "DATE_NAI_IND"}, {Name: "COD_NNE_IND"}, {Name: "LIB_NOM_USU_IND"}},
		Rows:    [][]extract.Value{{int64(42), "21001234", "D'ARTAGNAN", extract.InvalidText("Ren\xe9"), civil.Date{Year: 1999, Month: 2, Day: 28}, nil, "DUMAS"}},
	}}}
	desc, err := p.Classes[0].Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Title != "Dossier étudiant D'ARTAGNAN Ren\uFFFD (21001234)" {
		t.Errorf("title = %q", desc.Title)
	}
	if desc.Description != "Dossier de l'étudiant n° 21001234, né(e) le 1999-02-28, extrait de la base Apogée." {
		t.Errorf("description = %q", desc.Description)
	}
	if len(desc.Keywords) != 2 || desc.Keywords[0] != (RenderedKeyword{"persname", "D'ARTAGNAN Ren\uFFFD"}) {
		t.Errorf("keywords = %+v", desc.Keywords)
	}
	// The searchable identifiers leave out the empty ones (a NULL INE); the person is what a
	// consultation finds the dossier by.
	if fmt.Sprint(desc.Identifiers) != "[{COD_ETU 21001234}]" {
		t.Errorf("identifiers = %+v", desc.Identifiers)
	}
	if want := (Person{FirstName: "Ren\uFFFD", BirthName: "D'ARTAGNAN", UsageName: "DUMAS", BirthDate: civil.Date{Year: 1999, Month: 2, Day: 28}}); desc.Person != want {
		t.Errorf("person = %+v, want %+v", desc.Person, want)
	}
	// A birth date kept as text that is not a date is left out, with a note.
	d.Tables[0].Rows[0][4] = extract.KeptText{Text: "31/02/1999"}
	if desc, _ = p.Classes[0].Describe(d); !desc.Person.BirthDate.IsZero() || len(desc.Notes) == 0 || desc.Notes[0] != `content.person.birth_date: "31/02/1999" is not a date: left out of the manifest` {
		t.Errorf("bad birth date: person %+v, notes %q", desc.Person, desc.Notes)
	}
	// A timestamp reads as a date when it is midnight, else with its time.
	d.Tables[0].Rows[0][4] = time.Date(1999, 2, 28, 0, 0, 0, 0, time.UTC)
	if desc, _ = p.Classes[0].Describe(d); !strings.Contains(desc.Description, "né(e) le 1999-02-28,") {
		t.Errorf("description with a timestamp = %q", desc.Description)
	}
	d.Tables[0].Rows[0][4] = time.Date(1999, 2, 28, 13, 5, 0, 0, time.UTC)
	if desc, _ = p.Classes[0].Describe(d); !strings.Contains(desc.Description, "né(e) le 1999-02-28 13:05:00,") {
		t.Errorf("description with a timestamp = %q", desc.Description)
	}
	// A NULL birth date drops the clause rather than printing nothing or <no value>.
	d.Tables[0].Rows[0][4] = nil
	desc, _ = p.Classes[0].Describe(d)
	if desc.Description != "Dossier de l'étudiant n° 21001234, extrait de la base Apogée." {
		t.Errorf("description with NULL birth date = %q", desc.Description)
	}
	// A column the database does not have is an error, not "<no value>".
	d.Tables[0].Columns = d.Tables[0].Columns[:2]
	d.Tables[0].Rows[0] = d.Tables[0].Rows[0][:2]
	if _, err := p.Classes[0].Describe(d); err == nil || !strings.Contains(err.Error(), `map has no entry for key "LIB_NOM_PAT_IND"`) {
		t.Errorf("Describe with a missing column: %v", err)
	}
}

func TestDescribeDates(t *testing.T) {
	p, err := Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	root := extract.TableRows{Table: "INDIVIDU", Columns: []extract.Column{{Name: "COD_IND"}, {Name: "COD_ETU"}, {Name: "LIB_NOM_PAT_IND"}, {Name: "LIB_PR1_IND"}, {Name: "DATE_NAI_IND"}, {Name: "COD_NNE_IND"}, {Name: "LIB_NOM_USU_IND"}},
		Rows: [][]extract.Value{{int64(7), "7", "X", "Y", nil, nil, nil}}}
	iaa := extract.TableRows{Table: "INS_ADM_ANU", Columns: []extract.Column{{Name: "COD_ANU"}, {Name: "COD_IND"}, {Name: "DAT_CRE_IAA"}},
		Rows: [][]extract.Value{{"2017", int64(7), civil.Date{Year: 2017, Month: 9, Day: 5}}, {"2015", int64(7), civil.Date{Year: 2015, Month: 9, Day: 10}}}}
	d := &extract.Dossier{Class: "etudiant", Key: int64(7), Tables: []extract.TableRows{root, iaa}}
	for _, name := range []string{"ADRESSE", "INS_ADM_ETP", "RESULTAT_VET", "RESULTAT_VDI", "RESULTAT_ELP", "IND_BAC", "PHO_ETU", "THESE_HDR_SOUT"} {
		d.Tables = append(d.Tables, extract.TableRows{Table: name})
	}
	desc, err := p.Classes[0].Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.StartDate.String() != "2015-09-10" || desc.EndDate.String() != "2018-08-31" || len(desc.Notes) != 0 {
		t.Errorf("dates = %s … %s, notes %v", desc.StartDate, desc.EndDate, desc.Notes)
	}
	// A dirty year code leaves the end date out, says why, and does not stop the dossier.
	iaa.Rows[0][0] = "20x7"
	desc, err = p.Classes[0].Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if !desc.EndDate.IsZero() || len(desc.Notes) != 1 || !strings.Contains(desc.Notes[0], `content.end_date: endOfYear(map(INS_ADM_ANU, .COD_ANU)): endOfYear: year code "20x7" is not a year`) {
		t.Errorf("dirty year: end %s, notes %q", desc.EndDate, desc.Notes)
	}
	// A registration created after the year it is for ends before it starts: the end is left out.
	iaa.Rows[0][0] = "2017"
	iaa.Rows = [][]extract.Value{{"2014", int64(7), civil.Date{Year: 2016, Month: 9, Day: 5}}}
	d.Tables[1] = iaa
	desc, err = p.Classes[0].Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.StartDate.String() != "2016-09-05" || !desc.EndDate.IsZero() || len(desc.Notes) != 1 ||
		desc.Notes[0] != "content.end_date: 2015-08-31 is before the start date 2016-09-05: left out of the manifest" {
		t.Errorf("end before start: %s … %s, notes %q", desc.StartDate, desc.EndDate, desc.Notes)
	}
	// No registration at all: no dates, and no complaint.
	d.Tables[1].Rows = nil
	desc, _ = p.Classes[0].Describe(d)
	if !desc.StartDate.IsZero() || !desc.EndDate.IsZero() || len(desc.Notes) != 0 {
		t.Errorf("no registrations: %s … %s, notes %v", desc.StartDate, desc.EndDate, desc.Notes)
	}
}
