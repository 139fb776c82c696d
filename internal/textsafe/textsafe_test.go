package textsafe

import "testing"

func TestTerminalAndCSV(t *testing.T) {
	for in, want := range map[string]string{
		"DUPONT":                "DUPONT",
		"DUPONT\x1b[31m\a":      `DUPONT\x1b[31m\a`,
		"Léa\nMartin":           `Léa\nMartin`,
		"\u0085next-line\u009b": `\u0085next-line\u009b`,
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": `'=HYPERLINK("x")`,
		"+33 1 23":          "'+33 1 23",
		"-1":                "'-1",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               `'\tx`,
		"Dupont=":           "Dupont=",
		"A\x07":             `A\a`,
		"D'Artagnan Éloïse": "D'Artagnan Éloïse",
		"":                  "",
		"42":                "42",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
