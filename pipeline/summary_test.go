package pipeline

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
)

// The same run's summary reads in French for a French reader and in English otherwise, with the
// same numbers.
func TestSummaryInFrenchAndEnglish(t *testing.T) {
	src := openDemo(t)
	rep, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: src, AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var en, fr strings.Builder
	if err := rep.WriteSummaryWith(&en, SummaryOptions{Lang: lang.English}); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteSummaryWith(&fr, SummaryOptions{Lang: lang.French, Files: []string{"rapport.json"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"versement dry run (nothing written): profile apogee", "\nby rule:\n", "  intermediate ", "would be archived", "left in place"} {
		if !strings.Contains(en.String(), want) {
			t.Errorf("English summary lacks %q:\n%s", want, en.String())
		}
	}
	for _, want := range []string{"versement : simulation (rien n'est écrit), profil apogee", "à la date du 2026-11-30", "\npar règle :\n", "  intermédiaire ", "  définitive ", "seraient archivés", "laissés en base", "fichiers écrits : rapport.json\n", "l'événement de départ ne donne pas de date"} {
		if !strings.Contains(fr.String(), want) {
			t.Errorf("French summary lacks %q:\n%s", want, fr.String())
		}
	}
	for _, english := range []string{"would be archived", "by rule", "left in place", "dossiers in ", "start event gave no date"} {
		if strings.Contains(fr.String(), english) {
			t.Errorf("French summary still says %q:\n%s", english, fr.String())
		}
	}
	// The totals are the same numbers, grouped as each language groups them.
	total := regexp.MustCompile(`(?m)^  total +([0-9][0-9,\x{a0}\x{202f} ]*)$`)
	e, f := total.FindStringSubmatch(en.String()), total.FindStringSubmatch(fr.String())
	if e == nil || f == nil || digits(e[1]) != digits(f[1]) || digits(e[1]) == "" {
		t.Errorf("totals differ: %q, %q", e, f)
	}
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
