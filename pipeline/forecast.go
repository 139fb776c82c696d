package pipeline

import (
	"maps"
	"slices"

	"github.com/versement/versement/retention"
)

// YearCount is the dossiers whose start event falls in Year, per tier.
type YearCount struct {
	Year  int                      `json:"year"`
	Tiers map[retention.Tier]int64 `json:"tiers"`
}

// ForecastYear is what comes due in Year: dossiers whose active phase ends (to intermediate
// archiving), and whose DUA ends, to be kept (final) or proposed for elimination (destroy).
type ForecastYear struct {
	Year           int   `json:"year"`
	ToIntermediate int64 `json:"to_intermediate"`
	ToFinal        int64 `json:"to_final"`
	ToDestroy      int64 `json:"to_destroy"`
}

// ForecastYears is how far the forecast looks: the as-of date's year and the 19 after it.
const ForecastYears = 20

// countYears adds a decided dossier to the counts per year of start and to the forecast. A
// transition on or before the as-of date has happened: it is in the tier, not in the forecast.
func (r *Report) countYears(dec retention.Decision, tier retention.Tier) {
	if r.years == nil {
		r.years, r.forecast = map[int]map[retention.Tier]int64{}, map[int]*ForecastYear{}
	}
	if !dec.Start.IsZero() {
		y := r.years[dec.Start.Year]
		if y == nil {
			y = map[retention.Tier]int64{}
			r.years[dec.Start.Year] = y
		}
		y[tier]++
	}
	due := func(year int) *ForecastYear {
		if year < r.AsOf.Year || year >= r.AsOf.Year+ForecastYears {
			return nil
		}
		f := r.forecast[year]
		if f == nil {
			f = &ForecastYear{Year: year}
			r.forecast[year] = f
		}
		return f
	}
	if dec.Tier == retention.Active && !dec.Ongoing && dec.ActiveEnd.After(r.AsOf) {
		if f := due(dec.ActiveEnd.Year); f != nil {
			f.ToIntermediate++
		}
	}
	if (dec.Tier == retention.Active || dec.Tier == retention.Intermediate) && !dec.DUAEnd.IsZero() && dec.DUAEnd.After(r.AsOf) {
		if f := due(dec.DUAEnd.Year); f != nil {
			switch dec.AppraisalAction() {
			case retention.Keep:
				f.ToFinal++
			case retention.Destroy:
				f.ToDestroy++
			}
		}
	}
}

// finishYears sorts the counts per year into the report.
func (r *Report) finishYears() {
	r.Years = r.Years[:0]
	for _, y := range slices.Sorted(maps.Keys(r.years)) {
		r.Years = append(r.Years, YearCount{Year: y, Tiers: r.years[y]})
	}
	r.Forecast = r.Forecast[:0]
	for y := r.AsOf.Year; y < r.AsOf.Year+ForecastYears; y++ {
		f := ForecastYear{Year: y}
		if p := r.forecast[y]; p != nil {
			f = *p
		}
		r.Forecast = append(r.Forecast, f)
	}
}
