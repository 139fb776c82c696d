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
	f.Add([]byte(goodSchedule))
	data, _ := BuiltinScheduleYAML("harpege")
	f.Add(data)
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
