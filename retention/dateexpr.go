package retention

import (
	"fmt"
	"slices"
	"sort"

	"github.com/versement/versement/civil"
)

// DateExpr is one expression of the retention language compiled on its own, for callers that need
// a date from a dossier outside a rule (a profile's content start and end dates).
type DateExpr struct{ p *program }

// CompileDateExpr compiles src with the retention functions and the academic-year cut-off yearEnd
// (the zero MonthDay means DefaultYearEnd).
func CompileDateExpr(src string, yearEnd MonthDay) (*DateExpr, error) {
	if yearEnd == (MonthDay{}) {
		yearEnd = DefaultYearEnd
	}
	p, err := compileExpr(src, yearEnd)
	if err != nil {
		return nil, err
	}
	return &DateExpr{p}, nil
}

// Eval gives the date and how it was found ("end of year 2015-2016"); the zero date and no error
// when the expression gives nil (NULL, no rows). An impossible date, a value that is not a date or
// a failing expression is an error.
func (e *DateExpr) Eval(env map[string]any) (civil.Date, string, error) {
	v, err := e.p.run(env)
	if err != nil {
		return civil.Date{}, "", err
	}
	if o, ok := v.(Ongoing); ok {
		return civil.Date{}, "", fmt.Errorf("%s: %s, not a date", e.p.src, o.Note)
	}
	ev, err := toEvent(v)
	if err != nil {
		return civil.Date{}, "", fmt.Errorf("%s: %v", e.p.src, err)
	}
	if ev == nil {
		return civil.Date{}, "", nil
	}
	x := ev.(Event)
	return x.Date, x.Note, nil
}

// Tables lists the table names the expression reads.
func (e *DateExpr) Tables() []string { return append([]string(nil), e.p.names...) }

// Tables lists the table names the rule's expressions read (start, active_until, access start,
// sampling), so that a profile can check its class reads them all.
func (r *CompiledRule) Tables() []string {
	names := unionNames(r.start, r.activeUntil, r.access, r.surname, r.birth, r.sampleYear, r.checkBirth)
	if r.Checks != nil {
		for _, p := range r.Checks.Periods {
			if !slices.Contains(names, p.Table) {
				names = append(names, p.Table)
			}
		}
		sort.Strings(names)
	}
	return names
}

// Tables lists the table names the hold's predicate reads.
func (h *CompiledHold) Tables() []string { return unionNames(h.where) }

func unionNames(ps ...*program) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, n := range p.names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}
