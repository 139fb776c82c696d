package retention

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzReadReferential: a referential CSV comes from another system; whatever it holds, reading
// it never panics, and what it accepts writes back to something it reads the same.
func FuzzReadReferential(f *testing.F) {
	f.Add("RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\nAPP-1,AppraisalRule,A,,7,year\nHOL-1,HoldRule,H,,,\n")
	f.Add("RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\nACC-1,AccessRule,\"a,b\",,unlimited,day\n")
	f.Fuzz(func(t *testing.T, in string) {
		ref, err := ReadReferential(strings.NewReader(in), "f.csv")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := ref.WriteCSV(&b); err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		back, err := ReadReferential(&b, "g.csv")
		if err != nil || len(back.Rules) != len(ref.Rules) {
			t.Fatalf("written referential does not read back: %v", err)
		}
	})
}

// FuzzParseSchedule: a schedule file never panics the loader.
func FuzzParseSchedule(f *testing.F) {
	// Small seeds: with the built-in schedules as seeds (extends, long expressions) the fuzzer
	// manages a few executions a second; these reach the same code at thousands.
	f.Add([]byte("schedule: x\nrules:\n  - id: A\n    start: date(R.D)\n    active: 1y\n    dua: 1y\n    final: keep\n    status: verified\n"))
	f.Add([]byte("schedule: x\nacademic_year_end: \"09-30\"\nrules:\n  - id: A\n    start: endOfYear(R.Y)\n    active_until: latestEnd(map(C, .E))\n    dua: 80y\n    dua_from: start\n    final: sample\n" +
		"    sampling: {letters: [B], surname: R.N, birth_days: [1], birth: R.B, year_modulo: 5}\n    access: {id: ACC-1, duration: 50y}\n    status: to-confirm\n" +
		"holds:\n  - id: H\n    keys: [\"1\"]\n    where: R.X == 1\n    reason: r\n    until: 2030-01-01\n"))
	f.Add([]byte("schedule: x\nrules:\n  - id: A\n    start: date(R.D)\n    active_until: latestEnd(map(C, .E))\n    active_until_is: last-day-in\n    active_status: to-confirm\n" +
		"    dua: 80y\n    dua_from: start\n    open_past_dua: active\n    final: keep\n    status: verified\n" +
		"    checks: {birth: date(R.D), max_age_in_post: 100y, periods: [{table: C, start: S, end: E}]}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// A watchdog: the fuzzer does not time out one input, so a hang would only stall it.
		timer := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("ParseSchedule hangs on %q", in)) })
		defer timer.Stop()
		_, _ = ParseSchedule(in, "f.yaml")
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7y", "1y6m", "unlimited", "30 days", "99999999999999999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDuration(in)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %s does not read back (%v)", in, d, err)
		}
	})
}

// FuzzDateText: text columns come from the legacy database; date() on any text gives a valid date,
// nil or an error, never a panic or an impossible date.
func FuzzDateText(f *testing.F) {
	for _, s := range []string{"2015-02-28", "29/02/2016", "20160229", "2019-12-31T10:00:00Z", "2019-12-31 10:00", "", "31/04/2015"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := toEvent(in)
		if err != nil || v == nil {
			return
		}
		if d := v.(Event).Date; !d.Valid() {
			t.Fatalf("%q gave impossible date %+v", in, d)
		}
	})
}
