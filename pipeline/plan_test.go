package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/retention"
)

var barAttrs = regexp.MustCompile(`data-series="([^"]+)" data-label="([^"]+)" data-count="([0-9]+)"`)

// planNumbers reads back, from a plan page, the count of every bar: chart-series-label → count.
func planNumbers(t *testing.T, page string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, sec := range strings.Split(page, `<section class="chart" data-chart="`)[1:] {
		chart := sec[:strings.IndexByte(sec, '"')]
		for _, m := range barAttrs.FindAllStringSubmatch(sec, -1) {
			n, _ := strconv.ParseInt(m[3], 10, 64)
			out[chart+"/"+m[1]+"/"+m[2]] = n
		}
	}
	return out
}

// reportNumbers is what the JSON report says the bars are, in the same keys.
func reportNumbers(t *testing.T, rep *Report) map[string]int64 {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Years []struct {
			Year  int              `json:"year"`
			Tiers map[string]int64 `json:"tiers"`
		} `json:"years"`
		Forecast []ForecastYear `json:"forecast"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, y := range r.Years {
		for tier, n := range y.Tiers {
			if n > 0 {
				out[fmt.Sprintf("years/%s/%d", tier, y.Year)] = n
			}
		}
	}
	for _, f := range r.Forecast {
		for k, n := range map[string]int64{"to_intermediate": f.ToIntermediate, "to_final": f.ToFinal, "to_destroy": f.ToDestroy} {
			if n > 0 {
				out[fmt.Sprintf("forecast/%s/%d", k, f.Year)] = n
			}
		}
	}
	return out
}

// The plan's charts say what the JSON report says, bar for bar, and the years' bars add up to the
// dossiers that have a start date; the forecast counts what the tiers will become.
func TestPlanChartsAreTheReportsNumbers(t *testing.T) {
	src := openDemo(t)
	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	rep, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: src, AsOf: asOf, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []struct {
		name  string
		words []string
	}{{"en", []string{"Archiving plan", "What comes due in the next 20 years"}}, {"fr", []string{"Plan de versement", "Ce qui arrive à échéance dans les 20 prochaines années", `lang="fr"`}}} {
		var b strings.Builder
		if err := rep.WritePlanHTML(&b, lang.Parse(tag.name)); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		got, want := planNumbers(t, page), reportNumbers(t, rep)
		if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the page's bars\n %v\nthe report's\n %v", tag.name, got, want)
		}
		for _, w := range tag.words {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", tag.name, w)
			}
		}
		if strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(page, "https://") {
			t.Errorf("%s: the page has a script or an external reference", tag.name)
		}
	}
	var dated, forecast int64
	for _, y := range rep.Years {
		for _, n := range y.Tiers {
			dated += n
		}
	}
	if dated != rep.Dossiers-rep.Tiers[retention.Undetermined] {
		t.Errorf("%d dossiers in the years' bars, %d dossiers with a tier", dated, rep.Dossiers-rep.Tiers[retention.Undetermined])
	}
	for _, f := range rep.Forecast {
		forecast += f.ToIntermediate
	}
	if len(rep.Forecast) != ForecastYears || rep.Forecast[0].Year != 2026 || forecast == 0 || forecast > rep.Tiers[retention.Active] {
		t.Errorf("forecast %+v: %d leave the active phase of %d active", rep.Forecast, forecast, rep.Tiers[retention.Active])
	}
	if path := os.Getenv("VERSEMENT_TEST_PLAN_OUT"); path != "" {
		f, _ := os.Create(path)
		rep.WritePlanHTML(f, lang.French)
		f.Close()
	}
}
