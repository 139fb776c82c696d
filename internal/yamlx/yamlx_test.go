package yamlx

import (
	"testing"

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
