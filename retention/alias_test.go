package retention

import "testing"

// TestAliasBombRefused: nested aliases would expand to gigabytes; they are refused before decoding.
func TestAliasBombRefused(t *testing.T) {
	bomb := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
schedule: x
rules:
  - id: A
    title: *g
`
	_, err := ParseSchedule([]byte(bomb), "bomb.yaml")
	if err == nil || err.Error() != "bomb.yaml:2: YAML aliases (*name) are not allowed in a schedule file: repeat the value" {
		t.Errorf("alias bomb: %v", err)
	}
}
