package retention_test

import (
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

func d(s string) civil.Date {
	v, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// TestBlankContentDates: the built-in profiles' content dates are retention expressions too; blank
// text in the columns they read is missing, as in the rules (TestBlankDatesHarpege): skipped among
// the others. Before, a blank COD_ANU made the Apogée end date fail (`year code "" is not a year`).
func TestBlankContentDates(t *testing.T) {
	content := func(profile string) profiles.Content {
		p, err := profiles.Builtin(profile)
		if err != nil {
			t.Fatal(err)
		}
		return p.Classes[0].Content
	}
	eval := func(src string, env map[string]any) civil.Date {
		t.Helper()
		e, err := retention.CompileDateExpr(src, retention.MonthDay{})
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := e.Eval(env)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return v
	}
	for _, blank := range []string{"", " "} {
		h := content("harpege")
		env := map[string]any{
			"CARRIERE":    []map[string]any{{"D_DEB_CARRIERE": d("1990-09-01"), "D_FIN_CARRIERE": d("2009-06-30")}},
			"AFFECTATION": []map[string]any{{"D_DEB_AFFECTATION": blank, "D_FIN_AFFECTATION": blank}, {"D_DEB_AFFECTATION": d("1991-01-01"), "D_FIN_AFFECTATION": d("2001-12-31")}},
		}
		if got := eval(h.StartDate, env); got != d("1990-09-01") {
			t.Errorf("harpege start_date with %q: %s", blank, got)
		}
		if got := eval(h.EndDate, env); got != d("2009-06-30") {
			t.Errorf("harpege end_date with %q: %s", blank, got)
		}
		a := content("apogee")
		env = map[string]any{"INS_ADM_ANU": []map[string]any{
			{"COD_ANU": "2014", "DAT_CRE_IAA": blank}, {"COD_ANU": blank, "DAT_CRE_IAA": d("2015-09-10")},
		}}
		if got := eval(a.StartDate, env); got != d("2015-09-10") {
			t.Errorf("apogee start_date with %q: %s", blank, got)
		}
		if got := eval(a.EndDate, env); got != d("2015-08-31") {
			t.Errorf("apogee end_date with %q: %s", blank, got)
		}
	}
}
