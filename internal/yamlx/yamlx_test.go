package yamlx

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

func TestFirstAlias(t *testing.T) {
	for in, want := range map[string]int{
		"a: 1\nb: [x, y]\n":                   0,
		"a: &x [1, 2]\nb: 2\nc: {d: *x }\n":   3,
		"a: 1\n---\nb: &y 1\nc: *y\n":         4,
		"a:\n  - &z {k: v}\n  - *z\n  - *z\n": 3,
		"":                                    0,
	} {
		f, err := parser.ParseBytes([]byte(in), 0)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := FirstAlias(f); got != want {
			t.Errorf("FirstAlias(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestErrorSpeaksTheFilesTerms(t *testing.T) {
	type doc struct {
		Name  string   `yaml:"name"`
		Items []string `yaml:"items"`
	}
	for in, want := range map[string]string{
		"name: [a]\n":          `f.yaml:1: name: want a string, got a list`,
		"items: {a: 1}\n":      `f.yaml:1: items: want a list, got a mapping`,
		"items: 5\n":           `f.yaml:1: items: want a list, got "5"`,
		"name: a\ncolour: x\n": `f.yaml:2: colour: unknown field "colour"`,
	} {
		f, err := parser.ParseBytes([]byte(in), 0)
		if err != nil {
			t.Fatal(err)
		}
		var d doc
		err = yaml.NodeToValue(f.Docs[0].Body, &d, yaml.DisallowUnknownField())
		if got := Error("f.yaml", f.Docs[0].Body, err); got == nil || got.Error() != want {
			t.Errorf("%q: got %v, want %s", in, got, want)
		}
	}
}
