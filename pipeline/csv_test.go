package pipeline

import "testing"

// Database text that a spreadsheet would execute stays text in the elimination proposal.
func TestCSVCellDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+33 1 23":                   "'+33 1 23",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tx":                        "'\tx",
		"D'Artagnan Éloïse":          "D'Artagnan Éloïse",
		"":                           "",
		"42":                         "42",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
