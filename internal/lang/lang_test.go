package lang

import (
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		lcAll, lcMessages, lang, flag string
		french                        bool
	}{
		{"", "", "fr_FR.UTF-8", "", true},
		{"", "", "en_US.UTF-8", "", false},
		{"C", "", "fr_FR.UTF-8", "", false}, // LC_ALL wins, as setlocale reads it
		{"", "fr_CA.UTF-8", "en_US.UTF-8", "", true},
		{"", "", "", "", false},
		{"", "", "en_US.UTF-8", "fr", true}, // --lang wins
		{"", "", "fr_FR.UTF-8", "en", false},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", c.lcMessages)
		t.Setenv("LANG", c.lang)
		if got := IsFrench(FromEnv(c.flag)); got != c.french {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q --lang %q: French %v, want %v", c.lcAll, c.lcMessages, c.lang, c.flag, got, c.french)
		}
	}
}

func TestPrinterTranslates(t *testing.T) {
	Translate(map[string]string{"%d dossiers archived": "%d dossiers archivés"})
	if got := Printer(French).Sprintf("%d dossiers archived", 1234); got != "1\u00a0234 dossiers archivés" && got != "1 234 dossiers archivés" && got != "1\u202f234 dossiers archivés" {
		t.Errorf("French: %q", got)
	}
	if got := Printer(English).Sprintf("%d dossiers archived", 1234); got != "1,234 dossiers archived" {
		t.Errorf("English: %q", got)
	}
	if got := Printer(French).Sprintf("not in the catalogue: %s", "x"); got != "not in the catalogue: x" {
		t.Errorf("untranslated: %q", got)
	}
}

func TestTranslatedTwiceOtherwisePanics(t *testing.T) {
	Translate(map[string]string{"a message": "un message"})
	Translate(map[string]string{"a message": "un message"}) // the same twice is fine
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"a message" is translated twice: "un message" and "une missive"`) {
			t.Errorf("recovered %v", r)
		}
	}()
	Translate(map[string]string{"a message": "une missive"})
}
