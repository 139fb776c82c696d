package profiles

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the profile loader: it must never panic, and whatever it
// refuses, it refuses with located errors (Errors), never a bare one.
func FuzzParse(f *testing.F) {
	// Small seeds only: the built-in profiles (4 KB each, tested as they are elsewhere) made every
	// new input's minimisation take the whole run, and the fuzzer explored a few inputs a minute.
	f.Add([]byte(minimal))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("classes:\n  - &a {name: x}\n  - *a\n"))
	f.Add([]byte("a: !!binary AAAA\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", "", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not located: %T %v", err, err)
			}
			return
		}
		if _, err := p.YAML(); err != nil {
			t.Fatalf("a valid profile cannot be shown: %v", err)
		}
	})
}
