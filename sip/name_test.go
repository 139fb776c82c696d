package sip

import (
	"crypto/sha256"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
)

// A SIP's name follows its content: the same ends with other keys between them, or the same keys
// as of another date, give another name; the same keys and date, the same name.
func TestIDNamesTheContent(t *testing.T) {
	sum := func(keys ...string) []byte {
		h := sha256.New()
		for _, k := range keys {
			addKey(h, k)
		}
		return h.Sum(nil)
	}
	d1, d2 := civil.Date{Year: 2040, Month: 1, Day: 1}, civil.Date{Year: 2060, Month: 1, Day: 1}
	a := ID("harpege", "agent", retention.Final, d1, sum("1", "2", "3"))
	if b := ID("harpege", "agent", retention.Final, d1, sum("1", "2", "3")); a != b {
		t.Errorf("the same content, two names: %s, %s", a, b)
	}
	for what, b := range map[string]string{
		"a key more between the ends": ID("harpege", "agent", retention.Final, d1, sum("1", "2", "2b", "3")),
		"another as-of date":          ID("harpege", "agent", retention.Final, d2, sum("1", "2", "3")),
		"keys that join the same":     ID("harpege", "agent", retention.Final, d1, sum("1", "23")),
		"another tier":                ID("harpege", "agent", retention.Intermediate, d1, sum("1", "2", "3")),
	} {
		if a == b {
			t.Errorf("%s: the same name %s", what, a)
		}
	}
	if want := "harpege-agent-final-"; a[:len(want)] != want || len(a) != len(want)+16 {
		t.Errorf("name %q: want %s and 16 hex digits", a, want)
	}
}

// RetainUntil takes the latest of the dates that protect a dossier.
func TestRetainUntil(t *testing.T) {
	for _, c := range []struct {
		dec  retention.Decision
		want string
	}{
		{retention.Decision{DUAEnd: day("2030-08-31"), AccessEnd: day("2066-08-31")}, "2066-08-31"},
		{retention.Decision{DUAEnd: day("2070-01-01"), AccessEnd: day("2066-08-31")}, "2070-01-01"},
		{retention.Decision{DUAEnd: day("2030-08-31"), Hold: &retention.Hold{Until: day("2080-01-01")}}, "2080-01-01"},
		{retention.Decision{}, ""},
	} {
		if got := RetainUntil(c.dec).String(); got != c.want {
			t.Errorf("RetainUntil(%+v) = %q, want %q", c.dec, got, c.want)
		}
	}
}

func TestFileSafe(t *testing.T) {
	for in, want := range map[string]string{
		"apogee": "apogee", "a/b c": "a_b_c", "../x": ".._x", "élève": "_l_ve",
	} {
		if got := FileSafe(in); got != want {
			t.Errorf("FileSafe(%q) = %q, want %q", in, got, want)
		}
	}
	if got := FileSafe(string(make([]byte, 100))); len(got) != 64 {
		t.Errorf("FileSafe of 100 bytes is %d bytes long, want 64", len(got))
	}
}

func TestParseID(t *testing.T) {
	asOf := civil.Date{Year: 2026, Month: 6, Day: 30}
	for _, tc := range []struct {
		class string
		tier  retention.Tier
	}{{"etudiant", retention.Final}, {"etudiant-these", retention.Intermediate}, {"agent", retention.Intermediate}} {
		id := ID("apogee", tc.class, tc.tier, asOf, []byte("1\x002"))
		// Rewritten once, then twice, by eliminations: still that class and tier.
		once := RewrittenID(id+".zip", "V-2026-1", []string{"42"})
		twice := RewrittenID(once, "V-2027-3", []string{"43", "44"})
		if once == RewrittenID(id, "V-2026-1", []string{"43"}) || once != RewrittenID(id, "V-2026-1", []string{"42"}) {
			t.Errorf("RewrittenID does not name the visa and the keys: %s", once)
		}
		for _, n := range []string{id, once, twice} {
			class, tier, ok := ParseID(n+".zip", "apogee", []string{"etudiant", "etudiant-these", "agent"})
			if !ok || class != tc.class || tier != tc.tier {
				t.Errorf("ParseID(%s) = %q, %q, %v", n, class, tier, ok)
			}
		}
	}
	for _, name := range []string{"harpege-agent-final-0123456789abcdef.zip", "apogee-etudiant-final-xyz.zip", "apogee-etudiant-active-0123456789abcdef.zip", "manifest.xml",
		"apogee-etudiant-final-0123456789abcdef-E1234.zip", "apogee-etudiant-final-0123456789abcdef-e12345678.zip"} {
		if _, _, ok := ParseID(name, "apogee", []string{"etudiant"}); ok {
			t.Errorf("ParseID(%s) is one of apogee's SIPs", name)
		}
	}
}
