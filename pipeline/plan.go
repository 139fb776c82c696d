package pipeline

import (
	"io"
	"strconv"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/plan"
	"github.com/versement/versement/retention"
)

// tierColors are the tiers' colours in the charts, the same on every page.
var tierColors = map[retention.Tier]string{
	retention.Active: "#4e79a7", retention.Intermediate: "#f28e2b", retention.Final: "#59a14f",
	retention.ToDestroy: "#e15759", retention.Held: "#b07aa1", retention.Undetermined: "#9c9c9c",
}

// WritePlanHTML writes the report as a page with pictures (package plan): the dossiers per tier
// by year of their start, and the forecast of the ForecastYears years from the as-of date, each
// with its table. Its numbers are the report's (Years, Forecast, Tiers).
func (r *Report) WritePlanHTML(w io.Writer, tag language.Tag) error {
	return plan.Write(w, r.planPage(tag))
}

func (r *Report) planPage(tag language.Tag) plan.Page {
	p := lang.Printer(tag)
	title := p.Sprintf("Run report")
	if r.DryRun {
		title = p.Sprintf("Archiving plan")
	}
	source := r.Source
	if source == "" {
		source = r.Dialect
	}
	page := plan.Page{Title: title, Lang: tag,
		Subtitle: p.Sprintf("profile %s, source %s, as of %s: %d dossiers", r.Profile, source, r.AsOf, r.Dossiers)}
	var tiers []retention.Tier
	for _, t := range AllTiers {
		if n := r.Tiers[t]; n > 0 || t == retention.Active || t == retention.Intermediate || t == retention.Final || t == retention.ToDestroy {
			tiers = append(tiers, t)
			page.Totals = append(page.Totals, plan.Total{Label: tierName(p, t), Count: n})
		}
	}
	byYear := plan.Chart{ID: "years", Title: p.Sprintf("Dossiers per tier, by year of their start"),
		Note: p.Sprintf("The year of each dossier's start event (the rule's start: the end of the last registered year, a date of birth); the colours are the tiers as of %s.", r.AsOf)}
	for _, t := range tiers {
		byYear.Series = append(byYear.Series, plan.Series{Key: string(t), Label: tierName(p, t), Color: tierColors[t]})
	}
	for _, y := range r.Years {
		b := plan.Bar{Label: strconv.Itoa(y.Year)}
		for _, t := range tiers {
			b.Values = append(b.Values, y.Tiers[t])
		}
		byYear.Bars = append(byYear.Bars, b)
	}
	forecast := plan.Chart{ID: "forecast", Title: p.Sprintf("What comes due in the next %d years", ForecastYears),
		Note: p.Sprintf("Per year: the dossiers whose active phase ends (they pass to intermediate archiving), and those whose DUA ends, to be kept in the final archives or proposed for elimination (with the archives' visa)."),
		Series: []plan.Series{
			{Key: "to_intermediate", Label: p.Sprintf("to intermediate"), Color: tierColors[retention.Intermediate]},
			{Key: "to_final", Label: p.Sprintf("to final"), Color: tierColors[retention.Final]},
			{Key: "to_destroy", Label: p.Sprintf("to eliminate"), Color: tierColors[retention.ToDestroy]},
		}}
	for _, f := range r.Forecast {
		forecast.Bars = append(forecast.Bars, plan.Bar{Label: strconv.Itoa(f.Year), Values: []int64{f.ToIntermediate, f.ToFinal, f.ToDestroy}})
	}
	page.Charts = []plan.Chart{byYear, forecast}
	return page
}

func init() {
	lang.Translate(map[string]string{
		"Run report":     "Rapport de versement",
		"Archiving plan": "Plan de versement",
		"profile %s, source %s, as of %s: %d dossiers": "profil %s, source %s, au %s : %d dossiers",
		"Dossiers per tier, by year of their start":    "Dossiers par phase, selon l'année de leur événement de départ",
		"The year of each dossier's start event (the rule's start: the end of the last registered year, a date of birth); the colours are the tiers as of %s.": "L'année de l'événement de départ de chaque dossier (le départ de la règle : fin de la dernière année d'inscription, date de naissance) ; les couleurs sont les phases au %s.",
		"What comes due in the next %d years": "Ce qui arrive à échéance dans les %d prochaines années",
		"Per year: the dossiers whose active phase ends (they pass to intermediate archiving), and those whose DUA ends, to be kept in the final archives or proposed for elimination (with the archives' visa).": "Par année : les dossiers dont la phase active se termine (ils passent en archivage intermédiaire), et ceux dont la DUA se termine, à conserver en archives définitives ou à proposer à l'élimination (avec le visa des archives).",
		"to intermediate": "vers l'intermédiaire",
		"to final":        "vers le définitif",
		"to eliminate":    "à éliminer",
	})
}
