package nightly

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// SIGHUPs sent faster than an @every job's interval used to restart its timer each time, so the
// job never ran. A reload that leaves the job's spec alone keeps its next activation: an @every 2s
// job started at t0 fires at t0+2, +4, +6 however many reloads come in between.
func TestReloadKeepsTheTimingOfUnchangedJobs(t *testing.T) {
	var runs atomic.Int32
	r := RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		if job.Name == "every" {
			runs.Add(1)
		}
		return Result{}, nil
	})
	yaml := jobsYAML("every", "@every 2s", "nightly", "0 2 * * *")
	s, logs := newTestScheduler(t, mustConfig(t, yaml), r, "")
	before := time.Now()
	s.Start(context.Background())
	after := time.Now()
	defer s.Stop()

	first := s.Health().Jobs[0].NextRun
	// robfig/cron's @every counts from when the cron started, on whole seconds.
	lo, hi := before.Truncate(time.Second).Add(2*time.Second), after.Truncate(time.Second).Add(2*time.Second)
	if first.Before(lo) || first.After(hi) {
		t.Fatalf("next_run %v, want between %v and %v", first, lo, hi)
	}
	nightly := s.Health().Jobs[1].NextRun

	reloads := 0
	for end := before.Add(6800 * time.Millisecond); time.Now().Before(end); time.Sleep(400 * time.Millisecond) {
		if err := s.Reload(mustConfig(t, yaml)); err != nil {
			t.Fatal(err)
		}
		reloads++
		h := s.Health()
		// Whatever the moment of the reload, the next activation is one of the original ones.
		if d := h.Jobs[0].NextRun.Sub(first); d < 0 || d%(2*time.Second) != 0 {
			t.Fatalf("after reload %d the next activation is %v, off the original grid (%v + 2s·n)", reloads, h.Jobs[0].NextRun, first)
		}
		if !h.Jobs[1].NextRun.Equal(nightly) {
			t.Fatalf("after reload %d the cron job's next run moved from %v to %v", reloads, nightly, h.Jobs[1].NextRun)
		}
	}
	s.Stop()
	if n := runs.Load(); n != 3 {
		t.Errorf("@every 2s over 6.8 s with %d reloads: %d runs, want 3", reloads, n)
	}
	if got := s.Health().Jobs[1].NextRun; !got.IsZero() {
		t.Errorf("next_run after Stop: %v", got)
	}
	l := logs.String()
	if n := strings.Count(l, `msg="jobs file reloaded" file=jobs.yaml jobs=2 added=0 rescheduled=0 kept=2`); n != reloads {
		t.Errorf("%d reloads logged as keeping both jobs, want %d:\n%s", n, reloads, l)
	}
	if strings.Contains(l, "rescheduled from now") {
		t.Errorf("an unchanged job was rescheduled:\n%s", l)
	}
}

// A job whose spec changes is scheduled afresh from the reload (an @every timer starts again),
// and the log says so with both specs; its neighbours keep their activations.
func TestReloadReschedulesAChangedSpec(t *testing.T) {
	r := RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil })
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("a", "@every 1h", "b", "@every 2h")), r, "")
	s.Start(context.Background())
	defer s.Stop()
	h := s.Health()
	b := h.Jobs[1].NextRun
	time.Sleep(1100 * time.Millisecond) // so that "from now" and "from the start" differ

	before := time.Now()
	if err := s.Reload(mustConfig(t, jobsYAML("a", "@every 3h", "b", "@every 2h", "c", "@every 4h"))); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	h = s.Health()
	lo, hi := before.Truncate(time.Second).Add(3*time.Hour), after.Truncate(time.Second).Add(3*time.Hour)
	if a := h.Jobs[0].NextRun; a.Before(lo) || a.After(hi) {
		t.Errorf("a's next run %v, want 3 h after the reload: %v…%v", a, lo, hi)
	}
	if got := h.Jobs[1].NextRun; !got.Equal(b) {
		t.Errorf("b's next run moved from %v to %v", b, got)
	}
	lo, hi = before.Truncate(time.Second).Add(4*time.Hour), after.Truncate(time.Second).Add(4*time.Hour)
	if c := h.Jobs[2].NextRun; c.Before(lo) || c.After(hi) {
		t.Errorf("new job c's next run %v, want 4 h after the reload", c)
	}
	l := logs.String()
	for _, w := range []string{
		fmt.Sprintf(`msg="job rescheduled from now: its cron spec or time zone changed" job=a old_cron="@every 1h" old_timezone=UTC cron="@every 3h" timezone=UTC next=%s`,
			h.Jobs[0].NextRun.Format("2006-01-02T15:04:05.000Z07:00")),
		fmt.Sprintf(`msg="job scheduled" job=c cron="@every 4h" timezone=UTC next=%s`, h.Jobs[2].NextRun.Format("2006-01-02T15:04:05.000Z07:00")),
		`msg="jobs file reloaded" file=jobs.yaml jobs=3 added=1 rescheduled=1 kept=1`,
	} {
		if !strings.Contains(l, w) {
			t.Errorf("log lacks\n%s\nin:\n%s", w, l)
		}
	}
	m := scrape(t, s)
	for i, name := range []string{"a", "b", "c"} {
		if got, want := m.value("versement_schedule_next_run_timestamp_seconds", "job", name), float64(h.Jobs[i].NextRun.Unix()); got != want {
			t.Errorf("next_run_timestamp_seconds{job=%s} = %v, want %v (as /healthz)", name, got, want)
		}
	}
}

// /healthz and the next-run metric show the activation the cron will really fire, not "now +
// interval": asked twice a second apart, an @every job's next run is the same instant.
func TestNextRunOfEveryJobIsTheRealActivation(t *testing.T) {
	r := RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil })
	s, _ := newTestScheduler(t, mustConfig(t, jobsYAML("e", "@every 1h", "cron", "30 2 * * *")), r, "")
	if h := s.Health(); !h.Jobs[0].NextRun.IsZero() {
		t.Errorf("next run before Start (--once): %v", h.Jobs[0].NextRun)
	}
	before := time.Now()
	s.Start(context.Background())
	defer s.Stop()
	want := s.Health().Jobs[0].NextRun
	if lo := before.Truncate(time.Second).Add(time.Hour); want.Before(lo) || want.After(time.Now().Add(time.Hour)) {
		t.Fatalf("next run %v, want an hour after the start (%v)", want, before)
	}
	time.Sleep(1100 * time.Millisecond)
	h := s.Health()
	if got := h.Jobs[0].NextRun; !got.Equal(want) {
		t.Errorf("next run moved from %v to %v without an activation", want, got)
	}
	utc, _ := time.LoadLocation("UTC")
	if got, want := h.Jobs[1].NextRun.In(utc), s.cfg.Job("cron").Schedule.Next(time.Now()).In(utc); !got.Equal(want) {
		t.Errorf("cron job's next run %v, want %v", got, want)
	}
	m := scrape(t, s)
	if got := m.value("versement_schedule_next_run_timestamp_seconds", "job", "e"); got != float64(want.Unix()) {
		t.Errorf("next_run_timestamp_seconds{job=e} = %v, want %d", got, want.Unix())
	}
}
