// Package plan draws a run's plan and report as a page a person reads and prints: stacked bars of
// the dossiers per tier by year of their start, and the forecast of what comes due in the years
// after the as-of date, each chart with its table of counts beside it. The charts are SVG drawn
// here, with no script and no external resource; every bar carries its numbers in data-*
// attributes, so that a test (or a machine) can check them against the JSON report.
package plan

import (
	_ "embed"
	"html/template"
	"io"
	"math"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
)

// Page is one plan or report page.
type Page struct {
	Title    string
	Subtitle string // profile, source, as-of date: what the page is of
	Lang     language.Tag
	Totals   []Total // the tier counts, as the summary prints them
	Charts   []Chart
}

// Total is one line of the totals table.
type Total struct {
	Label string
	Count int64
}

// Chart is a bar chart: one bar per label, each stacked from its series' values.
type Chart struct {
	ID     string // the chart's id in the page (data-chart)
	Title  string
	Note   string // what it shows, in one sentence
	Series []Series
	Bars   []Bar
}

// Series is one colour of a stacked chart.
type Series struct {
	Key   string // stable key (a tier), in data-series
	Label string // as the reader reads it
	Color string // CSS colour
}

// Bar is one bar: its label (a year) and one value per series.
type Bar struct {
	Label  string
	Values []int64
}

//go:embed plan.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("plan").Parse(pageTemplate))

// geometry of a chart, in SVG user units.
const (
	chartWidth  = 640
	chartHeight = 260
	marginLeft  = 48
	marginBot   = 36
	marginTop   = 10
)

type rect struct {
	X, Y, W, H float64
	Color      string
	Series     string
	Label      string
	Count      int64
}

type tick struct {
	Y     float64
	Label string
}

type drawn struct {
	Chart
	Rects   []rect
	Ticks   []tick
	XLabels []rect // X, Y and Label only
	Width   int
	Height  int
	Plot    float64 // the plot's bottom, in user units
	Rows    []row
	Heads   []string
}

type row struct {
	Label  string
	Values []string
	Total  string
}

// Write renders the page.
func Write(w io.Writer, p Page) error {
	pr := lang.Printer(p.Lang)
	data := struct {
		Page
		Lang   string
		Charts []drawn
		T      func(string) string
		Num    func(int64) string
	}{Page: p, Lang: "en", T: func(s string) string { return pr.Sprintf(s) }, Num: func(n int64) string { return pr.Sprintf("%d", n) }}
	if lang.IsFrench(p.Lang) {
		data.Lang = "fr"
	}
	for _, c := range p.Charts {
		data.Charts = append(data.Charts, draw(c, data.Num))
	}
	return tmpl.Execute(w, data)
}

func draw(c Chart, num func(int64) string) drawn {
	d := drawn{Chart: c, Width: chartWidth, Height: chartHeight, Plot: chartHeight - marginBot}
	var max int64
	for _, b := range c.Bars {
		var sum int64
		for _, v := range b.Values {
			sum += v
		}
		max = maxInt(max, sum)
	}
	step := niceStep(max)
	top := step * int64(math.Ceil(float64(max)/float64(maxInt(step, 1))))
	if top == 0 {
		top = 1
	}
	plotH := float64(chartHeight - marginBot - marginTop)
	for v := int64(0); v <= top; v += maxInt(step, 1) {
		d.Ticks = append(d.Ticks, tick{Y: d.Plot - plotH*float64(v)/float64(top), Label: num(v)})
	}
	n := len(c.Bars)
	slot := float64(chartWidth-marginLeft) / float64(maxInt(int64(n), 1))
	every := int(math.Ceil(float64(n) / 20)) // at most 20 year labels
	for i, b := range c.Bars {
		x := marginLeft + slot*float64(i) + slot*0.1
		y := d.Plot
		for j, v := range b.Values {
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(top)
			y -= h
			s := c.Series[j]
			d.Rects = append(d.Rects, rect{X: x, Y: y, W: slot * 0.8, H: h, Color: s.Color, Series: s.Key, Label: b.Label, Count: v})
		}
		if every < 1 || i%every == 0 {
			d.XLabels = append(d.XLabels, rect{X: x + slot*0.4, Y: d.Plot + 14, Label: b.Label})
		}
		r := row{Label: b.Label}
		var sum int64
		for _, v := range b.Values {
			r.Values = append(r.Values, num(v))
			sum += v
		}
		r.Total = num(sum)
		d.Rows = append(d.Rows, r)
	}
	for _, s := range c.Series {
		d.Heads = append(d.Heads, s.Label)
	}
	return d
}

// niceStep is a tick step of 1, 2 or 5 times a power of ten giving about five ticks.
func niceStep(max int64) int64 {
	if max <= 5 {
		return 1
	}
	raw := float64(max) / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return int64(m * p)
		}
	}
	return int64(10 * p)
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func init() {
	lang.Translate(map[string]string{
		"Year":               "Année",
		"Total":              "Total",
		"Tier":               "Phase",
		"Number of dossiers": "Nombre de dossiers",
	})
}
