package pipeline

import (
	"crypto/sha256"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
)

// A SIP's name follows its content: the same ends with other keys between them, or the same keys
// as of another date, give another name; the same keys and date, the same name.
func TestSIPIDNamesTheContent(t *testing.T) {
	sum := func(keys ...string) []byte {
		b := &building{keySum: sha256.New()}
		for _, k := range keys {
			b.addKey(k)
		}
		return b.keySum.Sum(nil)
	}
	d1, d2 := civil.Date{Year: 2040, Month: 1, Day: 1}, civil.Date{Year: 2060, Month: 1, Day: 1}
	a := sipID("harpege", "agent", retention.Final, d1, sum("1", "2", "3"))
	if b := sipID("harpege", "agent", retention.Final, d1, sum("1", "2", "3")); a != b {
		t.Errorf("the same content, two names: %s, %s", a, b)
	}
	for what, b := range map[string]string{
		"a key more between the ends": sipID("harpege", "agent", retention.Final, d1, sum("1", "2", "2b", "3")),
		"another as-of date":          sipID("harpege", "agent", retention.Final, d2, sum("1", "2", "3")),
		"keys that join the same":     sipID("harpege", "agent", retention.Final, d1, sum("1", "23")),
		"another tier":                sipID("harpege", "agent", retention.Intermediate, d1, sum("1", "2", "3")),
	} {
		if a == b {
			t.Errorf("%s: the same name %s", what, a)
		}
	}
	if want := "harpege-agent-final-"; a[:len(want)] != want || len(a) != len(want)+16 {
		t.Errorf("name %q: want %s and 16 hex digits", a, want)
	}
}
