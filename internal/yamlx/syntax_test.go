package yamlx

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// jobs is the start of a jobs file: the cases below break it in one place.
const jobs = `timezone: UTC
jobs:
  - name: a
    cron: "@every 2s"
    profile: apogee
    source: {file: a.dsn}
  - name: b
    cron: "@daily"
    profile: apogee
`

func TestParseSyntaxErrorsPointAtTheMistake(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unclosed quote", strings.Replace(jobs, `"@every 2s"`, `"@every 2s`, 1),
			`jobs.yaml:4:11: jobs[0].cron: quoted text not closed: the " here has no closing " on its line, so YAML read on to line 8 and stopped there
    4 |     cron: "@every 2s
      |           ^`},
		{"unclosed single quote at the end", jobs + "    as_of: 'today\n",
			`jobs.yaml:10:12: jobs[1].as_of: quoted text not closed: the ' here has no closing ' before the end of the file
   10 |     as_of: 'today
      |            ^`},
		{"indented too deep", strings.Replace(jobs, "    profile: apogee\n    source", "    profile: apogee\n     source", 1),
			`jobs.yaml:6:6: jobs[0].profile: indented deeper than the key above it (line 5), so YAML reads this line as the rest of that key's value: indent it like its neighbours
    6 |      source: {file: a.dsn}
      |      ^`},
		{"indented too deep after a quoted value", strings.Replace(jobs, "    profile: apogee\n    source", "    profile: \"apogee\"  # built in\n      source", 1),
			`jobs.yaml:6:7: jobs[0].profile: indented deeper than the key above it (line 5), which already has its value: indent it like its neighbours
    6 |       source: {file: a.dsn}
      |       ^`},
		{"not indented enough", "jobs:\n  - a\n - b\n",
			`jobs.yaml:3:2: jobs: not lined up: deeper than line 1 (column 1) but less deep than line 2 (column 3), so YAML cannot tell what it belongs to
    3 |  - b
      |  ^`},
		{"key not lined up", strings.Replace(jobs, "    profile: apogee\n    source", "   profile: apogee\n    source", 1),
			`jobs.yaml:5:4: jobs[0]: not lined up: deeper than line 3 (column 3) but less deep than line 4 (column 5), so YAML cannot tell what it belongs to
    5 |    profile: apogee
      |    ^`},
		{"generic", "a: b: c\n",
			`jobs.yaml:1:4: a: YAML syntax: mapping value is not allowed in this context
    1 | a: b: c
      |    ^`},
		{"tab", strings.TrimSuffix(jobs, "    profile: apogee\n") + "\tprofile: apogee\n",
			"jobs.yaml:9:1: jobs[1]: a tab in the indentation: YAML indents with spaces only\n    9 | \tprofile: apogee\n      | ^"},
		{"tab at the top", "jobs:\n\t- name: a\n",
			"jobs.yaml:2:1: a tab in the indentation: YAML indents with spaces only\n    2 | \t- name: a\n      | ^"},
		{"duplicate key", strings.Replace(jobs, "    source: {file: a.dsn}\n", "    source: {file: a.dsn}\n    name: c\n", 1),
			`jobs.yaml:7:5: jobs[0].name: defined twice: the first "name" is at line 3
    7 |     name: c
      |     ^`},
		{"duplicate top-level key", jobs + "timezone: Europe/Paris\n",
			`jobs.yaml:10:1: timezone: defined twice: the first "timezone" is at line 1
   10 | timezone: Europe/Paris
      | ^`},
		{"flow mapping not closed", strings.Replace(jobs, "{file: a.dsn}", "{file: a.dsn", 1),
			`jobs.yaml:6:13: jobs[0].source: mapping not closed: the { here has no closing } before line 7
    6 |     source: {file: a.dsn
      |             ^`},
		{"list not closed", "jobs:\n  - name: a\n    targets: [a, [b, c]\n    cron: x\n",
			`jobs.yaml:3:14: jobs[0].targets: list not closed: the [ here has no closing ] before line 4
    3 |     targets: [a, [b, c]
      |              ^`},
		{"list not closed at the end", "schedule: t\nrules: [\n",
			`jobs.yaml:2:8: rules: list not closed: the [ here has no closing ] before the end of the file
    2 | rules: [
      |        ^`},
		{"wrong bracket", "a: {x: [1, 2}\n",
			`jobs.yaml:1:13: a: YAML syntax: ',' or ']' must be specified
    1 | a: {x: [1, 2}
      |             ^`},
		{"a secret in the line", strings.Replace(jobs, "{file: a.dsn}", "{env: \"postgres://u:hunter2@db/x?password=hunter2}", 1),
			`jobs.yaml:6:19: jobs[0].source: quoted text not closed: the " here has no closing " on its line, so YAML read on to line 8 and stopped there
    6 |     source: {env: "postgres://***@db/x?password=***}
      |                   ^`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("jobs.yaml", []byte(tc.in))
			if err == nil {
				t.Fatalf("parsed (%v), want %s", f, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != "jobs.yaml" || se.Line == 0 {
				t.Errorf("%#v: want a *SyntaxError with a position", err)
			}
		})
	}
}

func TestParseKeepsGoodFiles(t *testing.T) {
	f, err := Parse("jobs.yaml", []byte("\ufeff"+jobs))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Docs[0].Body.GetToken().Position.Line; got != 1 {
		t.Errorf("first token on line %d, want 1", got)
	}
}

// FuzzParse checks that any text gives a file or a SyntaxError whose position and text are those
// of a line of the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{jobs, "a: \"x\n", "a:\n  b: 1\n   c: 2\n", "a: 1\n\tb: 2\n", "a: 1\na: 2\n",
		"a: [1, {b: 'c\n", "- a\nb: 1\n", "a: |\n  x\n b: 1\n", "\"a\nb\": c\n: d\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Parse("f.yaml", src)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line == 0 {
			return
		}
		lines := regexp.MustCompile(`\r\n|\r|\n`).Split(strings.TrimPrefix(string(src), "\ufeff"), -1)
		if se.Line > len(lines) {
			t.Fatalf("line %d of a %d-line input: %v", se.Line, len(lines), err)
		}
		if want := redact(lines[se.Line-1]); se.Text != want {
			t.Fatalf("text %q, want line %d %q", se.Text, se.Line, want)
		}
		if se.Column < 1 {
			t.Fatalf("column %d: %v", se.Column, err)
		}
		_ = se.Error()
	})
}

// A file that parses and names a field the decoder does not know goes through Error, with the
// field's path and its line.
func TestUnknownFieldAfterParse(t *testing.T) {
	type job struct {
		Name string `yaml:"name"`
		Cron string `yaml:"cron"`
	}
	var doc struct {
		Jobs []job `yaml:"jobs"`
	}
	f, err := Parse("jobs.yaml", []byte("jobs:\n  - name: a\n    cron: x\n  - name: b\n    cronn: y\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = yaml.NodeToValue(f.Docs[0].Body, &doc, yaml.DisallowUnknownField())
	want := `jobs.yaml:5: jobs[1].cronn: unknown field "cronn"`
	if got := Error("jobs.yaml", f.Docs[0].Body, err); got == nil || got.Error() != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
