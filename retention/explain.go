package retention

import (
	"fmt"
	"strings"

	"github.com/versement/versement/internal/textsafe"
)

// Explain says in one line why the dossier is in its tier, e.g.
//
//	intermediate: APP-APO-IA start 2016-08-31 (end of year 2015-2016) · DUC 3y ended 2019-08-31 · DUA 7y ends 2026-08-31 · then sample (no criteria: every dossier kept) · access ACC-PERS-50 until 2066-08-31 · source: décision Amue 27/03/2013 (to confirm)
//
// A rule whose status is to-confirm always says so.
func (d Decision) Explain() string {
	var parts []string
	head := fmt.Sprintf("%s: %s", d.Tier, d.Rule)
	if d.Key != "" {
		head += " [" + textsafe.Terminal(d.Key) + "]"
	}
	r := d.rule
	if d.Tier == Undetermined {
		parts = append(parts, head+" "+d.Reason)
	} else {
		start := head + " start " + d.Start.String()
		note := d.StartNote
		if note == "" && r != nil {
			note = r.StartLabel
		}
		if note != "" {
			start += " (" + note + ")"
		}
		parts = append(parts, start)
		if r != nil {
			parts = append(parts, d.phases(r)...)
		}
		if d.AccessID != "" {
			parts = append(parts, fmt.Sprintf("access %s until %s", d.AccessID, d.AccessEnd))
		}
	}
	for _, a := range d.Anomalies {
		parts = append(parts, a.String())
	}
	if r != nil && r.Basis != "" {
		parts = append(parts, "source: "+r.Basis)
	}
	line := strings.Join(parts, " · ")
	if d.Status == ToConfirm {
		line += " (to confirm)"
	}
	return line
}

func (d Decision) phases(r *CompiledRule) []string {
	tense := func(end fmt.Stringer, over bool) string {
		if over {
			return "ended " + end.String()
		}
		return "ends " + end.String()
	}
	var out []string
	switch {
	case d.Ongoing, d.noEnd:
		out = append(out, "active: "+d.ActiveNote)
	case r.ActiveUntil != "":
		s := "active " + tense(d.ActiveEnd, !d.AsOf.Before(d.ActiveEnd))
		var notes []string
		if d.ActiveNote != "" {
			notes = append(notes, d.ActiveNote)
		}
		if !d.LastDayIn.IsZero() {
			notes = append(notes, "last day in "+d.LastDayIn.String())
		}
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		out = append(out, s)
	default:
		out = append(out, fmt.Sprintf("DUC %s %s", r.Active, tense(d.ActiveEnd, !d.AsOf.Before(d.ActiveEnd))))
	}
	dua := "DUA " + r.DUA.String()
	if r.DUAFrom == FromStart {
		dua += " from start"
	}
	switch {
	case r.DUA.Unlimited:
		dua += " (no end)"
	case d.DUAEnd.IsZero():
		dua += " after the active phase"
	default:
		dua += " " + tense(d.DUAEnd, !d.AsOf.Before(d.DUAEnd))
	}
	out = append(out, dua)

	final := d.Tier == Final || d.Tier == ToDestroy || d.Tier == Held
	verb := "then "
	if final {
		verb = ""
	}
	switch r.FinalAction {
	case Keep:
		out = append(out, verb+"keep")
	case Destroy:
		out = append(out, verb+"destroy (proposed for elimination, needs the archives' visa: R212-14)")
	case Sample:
		switch {
		case !r.Sampling.HasCriteria():
			out = append(out, verb+"sample (no criteria set: every dossier kept)")
		case d.Sampled || d.SamplingUnknown:
			out = append(out, verb+"sample ("+d.Reason+")")
		default:
			out = append(out, verb+"sample ("+d.Reason+"; proposed for elimination, needs the archives' visa: R212-14)")
		}
	}
	if h := d.Hold; h != nil {
		s := fmt.Sprintf("hold %s: %s", h.ID, h.Reason)
		if !h.Until.IsZero() {
			s += " (until " + h.Until.String() + ")"
		} else {
			s += " (until lifted)"
		}
		out = append(out, s)
	}
	return out
}
