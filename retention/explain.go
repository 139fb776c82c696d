package retention

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
)

// Explain says in one line why the dossier is in its tier, e.g.
//
//	intermediate: APP-APO-IA start 2016-08-31 (end of year 2015-2016) · DUC 3y ended 2019-08-31 · DUA 7y ends 2026-08-31 · then sample (no criteria: every dossier kept) · access ACC-PERS-50 until 2066-08-31 · source: décision Amue 27/03/2013 (to confirm)
//
// A rule whose status is to-confirm always says so.
func (d Decision) Explain() string { return d.ExplainIn(lang.English) }

// ExplainIn is Explain in the reader's language.
func (d Decision) ExplainIn(tag language.Tag) string {
	p := lang.Printer(tag)
	var parts []string
	head := p.Sprintf("%s: %s", p.Sprintf(string(d.Tier)), d.Rule)
	if d.Key != "" {
		head += " [" + textsafe.Terminal(d.Key) + "]"
	}
	r := d.rule
	if d.Tier == Undetermined {
		parts = append(parts, head+" "+d.ReasonIn(tag))
	} else {
		start := head + p.Sprintf(" start %s", d.Start)
		note := noteIn(tag, d.StartNote)
		if note == "" && r != nil {
			note = r.StartLabel
		}
		if note != "" {
			start += " (" + note + ")"
		}
		parts = append(parts, start)
		if r != nil {
			parts = append(parts, d.phases(tag, r)...)
		}
		if d.AccessID != "" {
			parts = append(parts, p.Sprintf("access %s until %s", d.AccessID, d.AccessEnd))
		}
	}
	for _, a := range d.Anomalies {
		parts = append(parts, p.Sprintf("anomaly %s: %s", string(a.Code), a.Detail))
	}
	if r != nil && r.Basis != "" {
		parts = append(parts, p.Sprintf("source: %s", r.Basis))
	}
	line := strings.Join(parts, " · ")
	if d.Status == ToConfirm {
		line += p.Sprintf(" (to confirm)")
	}
	return line
}

func (d Decision) phases(tag language.Tag, r *CompiledRule) []string {
	p := lang.Printer(tag)
	tense := func(end fmt.Stringer, over bool) string {
		if over {
			return p.Sprintf("ended %s", end)
		}
		return p.Sprintf("ends %s", end)
	}
	var out []string
	switch {
	case d.Ongoing, d.noEnd:
		out = append(out, p.Sprintf("active: %s", noteIn(tag, d.ActiveNote)))
	case r.ActiveUntil != "":
		s := p.Sprintf("active %s", tense(d.ActiveEnd, !d.AsOf.Before(d.ActiveEnd)))
		var notes []string
		if d.ActiveNote != "" {
			notes = append(notes, noteIn(tag, d.ActiveNote))
		}
		if !d.LastDayIn.IsZero() {
			notes = append(notes, p.Sprintf("last day in %s", d.LastDayIn))
		}
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		out = append(out, s)
	default:
		out = append(out, p.Sprintf("DUC %s %s", r.Active.In(tag), tense(d.ActiveEnd, !d.AsOf.Before(d.ActiveEnd))))
	}
	dua := "DUA " + r.DUA.In(tag)
	if r.DUAFrom == FromStart {
		dua += p.Sprintf(" from start")
	}
	switch {
	case r.DUA.Unlimited:
		dua += p.Sprintf(" (no end)")
	case d.DUAEnd.IsZero():
		dua += p.Sprintf(" after the active phase")
	default:
		dua += " " + tense(d.DUAEnd, !d.AsOf.Before(d.DUAEnd))
	}
	out = append(out, dua)

	final := d.Tier == Final || d.Tier == ToDestroy || d.Tier == Held
	verb := p.Sprintf("then ")
	if final {
		verb = ""
	}
	switch r.FinalAction {
	case Keep:
		out = append(out, verb+p.Sprintf("keep"))
	case Destroy:
		out = append(out, verb+p.Sprintf("destroy (proposed for elimination, needs the archives' visa: R212-14)"))
	case Sample:
		switch {
		case !r.Sampling.HasCriteria():
			out = append(out, verb+p.Sprintf("sample (no criteria set: every dossier kept)"))
		case d.Sampled || d.SamplingUnknown:
			out = append(out, verb+p.Sprintf("sample (%s)", d.ReasonIn(tag)))
		default:
			out = append(out, verb+p.Sprintf("sample (%s; proposed for elimination, needs the archives' visa: R212-14)", d.ReasonIn(tag)))
		}
	}
	if h := d.Hold; h != nil {
		s := p.Sprintf("hold %s: %s", h.ID, h.Reason)
		if !h.Until.IsZero() {
			s += p.Sprintf(" (until %s)", h.Until)
		} else {
			s += p.Sprintf(" (until lifted)")
		}
		out = append(out, s)
	}
	return out
}
