package retention

import (
	"testing"
	"time"

	"github.com/versement/versement/civil"
)

func eval(t *testing.T, src string, env map[string]any) (any, error) {
	t.Helper()
	p, err := compileExpr(src, DefaultYearEnd)
	if err != nil {
		t.Fatalf("compile %s: %v", src, err)
	}
	return p.run(env)
}

func TestFunctions(t *testing.T) {
	env := map[string]any{
		"INDIVIDU": map[string]any{"D_NAISSANCE": day("1950-03-02"), "TXT": "15/06/2001", "ODD": "2001.06.15", "TS": time.Date(2019, 12, 31, 23, 30, 0, 0, time.FixedZone("x", 3600)), "NUL": nil},
		"INS_ADM_ANU": []map[string]any{
			{"COD_ANU": "2013", "ETA_IAA": "E"}, {"COD_ANU": "2015", "ETA_IAA": "E"}, {"COD_ANU": "2016", "ETA_IAA": "A"},
		},
		"AFFECTATION": []map[string]any{
			{"D_FIN_AFFECTATION": day("2001-01-31")}, {"D_FIN_AFFECTATION": day("2012-08-31")}, {"D_FIN_AFFECTATION": day("1999-12-31")},
		},
		"CONTRAT_AVENANT": []map[string]any{
			{"D_FIN_EXECUTION": nil, "D_FIN_CONTRAT_TRAV": day("2014-06-30")}, {"D_FIN_EXECUTION": day("2013-03-01"), "D_FIN_CONTRAT_TRAV": day("2015-06-30")},
		},
		"EMPTY": []map[string]any{},
	}
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"date(INDIVIDU.D_NAISSANCE)", Event{Date: day("1950-03-02")}},
		{"date(INDIVIDU.TXT)", Event{Date: day("2001-06-15")}},
		{"date(INDIVIDU.TS)", Event{Date: day("2019-12-31")}}, // the date in the timestamp's own zone
		{"date(INDIVIDU.NUL)", nil},
		{`date("2019-12-31T10:00:00Z")`, Event{Date: day("2019-12-31")}},
		{`parseDate(INDIVIDU.ODD, "YYYY.MM.DD")`, Event{Date: day("2001-06-15")}},
		{`parseDate(INDIVIDU.NUL, "YYYY.MM.DD")`, nil},
		{`endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))`, Event{Date: day("2016-08-31"), Note: "end of year 2015-2016"}},
		{`endOfYear("2015")`, Event{Date: day("2016-08-31"), Note: "end of year 2015-2016"}},
		{`endOfYear(2015)`, Event{Date: day("2016-08-31"), Note: "end of year 2015-2016"}},
		{`endOfYear(map(EMPTY, .COD_ANU))`, nil},
		{"addYears(INDIVIDU.D_NAISSANCE, 80)", Event{Date: day("2030-03-02"), Note: "80y after 1950-03-02"}},
		{"addMonths(date(\"2016-01-31\"), 1)", Event{Date: day("2016-02-29"), Note: "1m after 2016-01-31"}},
		{"addDays(date(\"2016-02-28\"), 2)", Event{Date: day("2016-03-01"), Note: "2d after 2016-02-28"}},
		{"latest(map(AFFECTATION, .D_FIN_AFFECTATION))", Event{Date: day("2012-08-31")}},
		{"earliest(map(AFFECTATION, .D_FIN_AFFECTATION))", Event{Date: day("1999-12-31")}},
		{"latest(INDIVIDU.NUL, INDIVIDU.D_NAISSANCE, \"2001-01-01\")", Event{Date: day("2001-01-01")}},
		{"latest(map(EMPTY, .X))", nil},
		{"latest(map(CONTRAT_AVENANT, coalesce(.D_FIN_EXECUTION, .D_FIN_CONTRAT_TRAV)))", Event{Date: day("2014-06-30")}},
		{"latest(map(CONTRAT_AVENANT, .D_FIN_EXECUTION ?? .D_FIN_CONTRAT_TRAV))", Event{Date: day("2014-06-30")}},
		{"latestEnd(map(AFFECTATION, .D_FIN_AFFECTATION), map(CONTRAT_AVENANT, .D_FIN_CONTRAT_TRAV))", Event{Date: day("2015-06-30")}},
		{"latestEnd(map(CONTRAT_AVENANT, .D_FIN_EXECUTION))", Ongoing{Note: "an end date is NULL (still running)"}},
		{"latestEnd(map(EMPTY, .X))", nil},
		{"year(INDIVIDU.D_NAISSANCE)", 1950},
		{`year("2015")`, 2015},
		{`let y = year(INDIVIDU.D_NAISSANCE); y % 5`, 0},
	} {
		got, err := eval(t, tc.src, env)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`parseDate("31/04/2015", "DD/MM/YYYY")`, `parseDate("31/04/2015", "DD/MM/YYYY"): text "31/04/2015" does not match DD/MM/YYYY or is not a date`},
		{`parseDate("2015", "xx")`, `parseDate("2015", "xx"): parseDate: layout "xx" has none of YYYY, MM, DD`},
		{`endOfYear("20A5")`, `endOfYear("20A5"): endOfYear: year code "20A5" is not a year`},
		{`date("2015-02-29")`, `date("2015-02-29"): text "2015-02-29" is not a date (want YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD; use parseDate for others)`},
		{`NOPE.X`, `NOPE.X: the dossier has no table NOPE`},
		{`date(latestEnd(map(CONTRAT_AVENANT, .D_FIN_EXECUTION)))`, `date(latestEnd(map(CONTRAT_AVENANT, .D_FIN_EXECUTION))): an open-ended period (an end date is NULL (still running)) is not a date`},
	} {
		_, err := eval(t, tc.src, env)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestParseMonthDay(t *testing.T) {
	md, err := ParseMonthDay("09-30")
	if err != nil || md != (MonthDay{time.September, 30}) {
		t.Errorf("09-30: %v %v", md, err)
	}
	if _, err := ParseMonthDay("31-08"); err == nil || err.Error() != `"31-08": want MM-DD, e.g. 08-31` {
		t.Errorf("31-08: %v", err)
	}
	// A 29 February cut-off falls on the 28th in common years.
	p, _ := compileExpr(`endOfYear("2014")`, MonthDay{time.February, 29})
	v, _ := p.run(map[string]any{})
	if v.(Event).Date != (civil.Date{Year: 2015, Month: 2, Day: 28}) {
		t.Errorf("29 Feb cut-off: %v", v)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]Duration{
		"7y": {Years: 7}, "18m": {Months: 18}, "30d": {Days: 30}, "1y6m": {Years: 1, Months: 6},
		"80 years": {Years: 80}, "1 year 2 months 3 days": {Years: 1, Months: 2, Days: 3}, "0d": {},
		"unlimited": {Unlimited: true}, " Unlimited ": {Unlimited: true},
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
		if back, err := ParseDuration(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q does not read back", in, got.String())
		}
	}
	for in, want := range map[string]string{
		"":         "empty duration: want e.g. 7y, 18m, 30d, 1y6m or unlimited",
		"7":        `duration "7": unit "": want y, m or d`,
		"7w":       `duration "7w": unit "w": want y, m or d`,
		"y":        `duration "y": want e.g. 7y, 18m, 30d, 1y6m or unlimited`,
		"1y2y":     `duration "1y2y": unit y given twice`,
		"-1y":      `duration "-1y": want e.g. 7y, 18m, 30d, 1y6m or unlimited`,
		"9999999y": `duration "9999999y": number too large`,
	} {
		if _, err := ParseDuration(in); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
}
