package nightly

import (
	"fmt"
	"testing"
	"time"
)

// What robfig/cron does across daylight saving changes in Paris, as docs/schedule.md says.
func TestDSTInParis(t *testing.T) {
	c := mustConfig(t, "jobs:\n  - name: a\n    cron: \"30 2 * * *\"\n    profile: p\n    source: {env: E}\n    targets: {final: \"dir:///x\"}\n")
	s := c.Jobs[0].Schedule
	paris, _ := time.LoadLocation("Europe/Paris")
	var got []string
	for tm := time.Date(2026, 3, 27, 12, 0, 0, 0, paris); tm.Before(time.Date(2026, 3, 31, 0, 0, 0, 0, paris)); {
		tm = s.Next(tm)
		got = append(got, tm.Format("01-02 15:04 MST"))
	}
	for tm := time.Date(2026, 10, 24, 12, 0, 0, 0, paris); tm.Before(time.Date(2026, 10, 27, 0, 0, 0, 0, paris)); {
		tm = s.Next(tm)
		got = append(got, tm.Format("01-02 15:04 MST"))
	}
	// 29 March has no 02:30 (skipped); 25 October has two (both run).
	want := "[03-28 02:30 CET 03-30 02:30 CEST 03-31 02:30 CEST 10-25 02:30 CEST 10-25 02:30 CET 10-26 02:30 CET 10-27 02:30 CET]"
	if g := fmt.Sprint(got); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}
