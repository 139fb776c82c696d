package retention

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"

	"github.com/versement/versement/civil"
)

// scenario is a random rule, dossier, hold and sequence of increasing as-of dates.
type scenario struct {
	rule  Rule
	env   map[string]any
	hold  *Hold
	dates []civil.Date
}

func (scenario) Generate(r *rand.Rand, _ int) reflect.Value {
	dur := func() Duration {
		if r.Intn(10) == 0 {
			return Duration{}
		}
		return Duration{Years: r.Intn(15), Months: r.Intn(3) * r.Intn(12), Days: r.Intn(2) * r.Intn(40)}
	}
	// Starts cluster on month ends and 29 February, where calendar arithmetic goes wrong.
	start := civil.Date{Year: 1950 + r.Intn(80), Month: time.Month(1 + r.Intn(12)), Day: 1 + r.Intn(28)}
	switch r.Intn(3) {
	case 0:
		start = civil.Date{Year: 1952 + 4*r.Intn(20), Month: time.February, Day: 29}
	case 1:
		start.Day = civil.DaysIn(start.Year, start.Month)
	}
	s := scenario{
		rule: Rule{ID: "APP-P", StartEvent: "date(ROOT.START)", Active: dur(), DUA: dur(), Status: Verified,
			FinalAction: []FinalAction{Keep, Destroy, Sample}[r.Intn(3)]},
		env: map[string]any{"ROOT": map[string]any{"START": start, "NAME": []string{"Bernard", "Martin", "Thomas", "Élie"}[r.Intn(4)], "END": nil}},
	}
	if r.Intn(2) == 0 {
		s.rule.DUAFrom = FromStart
		if r.Intn(2) == 0 {
			s.rule.OpenPastDUA = ActiveWins
		}
	}
	if r.Intn(8) == 0 {
		s.rule.DUA = Duration{Unlimited: true}
	}
	if r.Intn(3) == 0 {
		s.rule.ActiveUntil = "date(ROOT.END)"
		s.env["ROOT"].(map[string]any)["END"] = start.AddDays(r.Intn(20000))
	}
	if s.rule.FinalAction == Sample && r.Intn(2) == 0 {
		s.rule.Sampling = &Sampling{Letters: []string{"B", "E"}, SurnameExpr: "ROOT.NAME"}
	}
	if r.Intn(3) == 0 {
		s.hold = &Hold{ID: "HOL-P", Keys: []string{"k"}, Reason: "test", Until: start.AddDays(r.Intn(40000))}
	}
	d := start.AddDays(-r.Intn(1000))
	for range 40 {
		s.dates = append(s.dates, d)
		d = d.AddDays(1 + r.Intn(400))
	}
	return reflect.ValueOf(s)
}

// TestTierNeverGoesBack: as asOf advances, a dossier's tier never goes backwards, and nothing is
// final, destroyed or held before its DUA has ended (nor ever when the DUA is unlimited), whichever
// of the DUA end or the active phase wins (open_past_dua); checks never change the tier.
func TestTierNeverGoesBack(t *testing.T) {
	prop := func(s scenario) bool {
		c, err := Compile(s.rule, MonthDay{})
		if err != nil {
			t.Logf("compile: %v", err)
			return false
		}
		var holds []*CompiledHold
		if s.hold != nil {
			h, err := CompileHold(*s.hold)
			if err != nil {
				t.Logf("hold: %v", err)
				return false
			}
			holds = append(holds, h)
		}
		// The same rule with checks: anomalies never change the tier.
		checked := s.rule
		checked.Checks = &Checks{Birth: "date(ROOT.START)", MaxAgeInPost: Duration{Years: 1}, Periods: []Period{{Table: "ROOT", Start: "END", End: "START"}}}
		cc, err := Compile(checked, MonthDay{})
		if err != nil {
			t.Logf("compile with checks: %v", err)
			return false
		}
		prev := -1
		for _, asOf := range s.dates {
			d := c.Decide(s.env, "k", asOf, holds...)
			if dc := cc.Decide(s.env, "k", asOf, holds...); dc.Tier != d.Tier {
				t.Logf("checks changed the tier on %s: %s, %s", asOf, d.Explain(), dc.Explain())
				return false
			}
			if d.Tier == Undetermined {
				t.Logf("undetermined: %s", d.Reason)
				return false
			}
			if d.Tier.Rank() < prev {
				t.Logf("went back to %s on %s: %s", d.Tier, asOf, d.Explain())
				return false
			}
			prev = d.Tier.Rank()
			if d.Tier.Rank() == 2 && (d.DUAEnd.IsZero() || asOf.Before(d.DUAEnd)) {
				t.Logf("%s before the DUA ended: %s", d.Tier, d.Explain())
				return false
			}
			if d.Tier == Active && !asOf.Before(d.ActiveEnd) {
				t.Logf("active after the DUC: %s", d.Explain())
				return false
			}
			if d.Tier == ToDestroy && d.Hold != nil {
				t.Logf("destroyed under a hold: %s", d.Explain())
				return false
			}
			if s.rule.FinalAction == Keep && (d.Tier == ToDestroy || d.Tier == Held) {
				t.Logf("keep rule destroyed: %s", d.Explain())
				return false
			}
			if fmt.Sprint(d.Explain()) == "" {
				return false
			}
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000, Rand: rand.New(rand.NewSource(1))}); err != nil {
		t.Error(err)
	}
}
