package nightly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// Every documented series exists from the start, with its labels, before any run: an alert or a
// rate() over a series that appears only at the first failure misses that failure.
func TestEveryDocumentedSeriesExistsAtStart(t *testing.T) {
	dir := t.TempDir()
	ended := time.Now().Add(-10 * time.Minute).Truncate(time.Second) // an hourly job: nothing missed
	if err := saveState(dir, "a", jobState{LastStart: ended.Add(-time.Minute), LastEnd: ended, LastOutcome: Failed,
		LastSuccess: ended.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestScheduler(t, mustConfig(t, jobsYAML("a", "@every 1h")), RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }), dir)
	s.Start(context.Background())
	defer s.Stop()
	next := s.Health().Jobs[0].NextRun
	m := scrape(t, s)
	var got []string
	for k, v := range m {
		if strings.HasPrefix(k, "versement_") && !strings.HasSuffix(k, ",") {
			got = append(got, fmt.Sprintf("%s %g", k, v))
		}
	}
	slices.Sort(got)
	version, revision, goVersion := "(devel)", "", runtime.Version()
	want := []string{
		fmt.Sprintf("versement_build_info,goversion=%s,revision=%s,version=%s 1", goVersion, revision, version),
		"versement_schedule_bytes_total,job=a 0",
		"versement_schedule_config_last_reload_ok 1",
		"versement_schedule_config_reloads_total,result=failed 0",
		"versement_schedule_config_reloads_total,result=ok 0",
		"versement_schedule_dossiers_archived_total,job=a,tier=final 0",
		"versement_schedule_dossiers_archived_total,job=a,tier=intermediate 0",
		"versement_schedule_dossiers_read_total,job=a,tier=active 0",
		"versement_schedule_dossiers_read_total,job=a,tier=destroy 0",
		"versement_schedule_dossiers_read_total,job=a,tier=final 0",
		"versement_schedule_dossiers_read_total,job=a,tier=held 0",
		"versement_schedule_dossiers_read_total,job=a,tier=intermediate 0",
		"versement_schedule_dossiers_read_total,job=a,tier=undetermined 0",
		"versement_schedule_failed_dossiers_total,job=a 0",
		"versement_schedule_failed_sips_total,job=a 0",
		fmt.Sprintf("versement_schedule_last_run_timestamp_seconds,job=a %g", float64(ended.Unix())),
		fmt.Sprintf("versement_schedule_last_success_timestamp_seconds,job=a %g", float64(ended.Add(-24*time.Hour).Unix())),
		"versement_schedule_missed_runs_total,job=a 0",
		fmt.Sprintf("versement_schedule_next_run_timestamp_seconds,job=a %g", float64(next.Unix())),
		"versement_schedule_run_duration_seconds_count,job=a 0",
		"versement_schedule_run_duration_seconds_sum,job=a 0",
		"versement_schedule_running,job=a 0",
		"versement_schedule_runs_total,job=a,outcome=failed 0",
		"versement_schedule_runs_total,job=a,outcome=interrupted 0",
		"versement_schedule_runs_total,job=a,outcome=ok 0",
		"versement_schedule_runs_total,job=a,outcome=skipped 0",
		"versement_schedule_sips_total,job=a 0",
	}
	var buckets int
	for _, k := range got {
		if strings.HasPrefix(k, "versement_schedule_run_duration_seconds_bucket,job=a,") {
			buckets++
		}
	}
	got = slices.DeleteFunc(got, func(k string) bool { return strings.HasPrefix(k, "versement_schedule_run_duration_seconds_bucket") })
	if !slices.Equal(got, want) {
		t.Errorf("series at start:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if buckets != 15 { // 14 bounds and +Inf
		t.Errorf("%d duration buckets at start, want 15", buckets)
	}
}

// versement_schedule_running says a run is in progress until that run ends: a tick skipped
// because of it must not clear it.
func TestRunningGaugeSurvivesSkippedTicks(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	r := RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		close(started)
		<-release
		return Result{SIPs: 1}, nil
	})
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("j", "0 2 * * *")), r, "")
	done := make(chan error)
	go func() { _, err := s.RunNow(context.Background(), "j"); done <- err }()
	<-started
	for range 2 {
		if res, err := s.RunNow(context.Background(), "j"); res.Outcome != Skipped || err == nil {
			t.Fatalf("a second run while the first goes on: %v, %v", res.Outcome, err)
		}
	}
	m := scrape(t, s)
	if got := m.value("versement_schedule_running", "job", "j"); got != 1 {
		t.Errorf("running = %v after 2 skipped ticks during a run, want 1", got)
	}
	if got := m.value("versement_schedule_runs_total", "job", "j", "outcome", "skipped"); got != 2 {
		t.Errorf("runs_total{skipped} = %v, want 2", got)
	}
	if n := strings.Count(logs.String(), `msg="run skipped: the previous run is still going" job=j`); n != 2 {
		t.Errorf("%d skips logged, want 2", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m = scrape(t, s)
	if got := m.value("versement_schedule_running", "job", "j"); got != 0 {
		t.Errorf("running = %v after the run ended, want 0", got)
	}
	if got := m.value("versement_schedule_runs_total", "job", "j", "outcome", "ok"); got != 1 {
		t.Errorf("runs_total{ok} = %v, want 1", got)
	}
}

// missed_runs_total is a counter of the activations missed while the scheduler was down: it is
// counted once, at start, and a run does not clear it (increase() over it fires once per
// restart that found missed runs, not until the next restart). The activations during the last
// run were not missed: the scheduler was up and counted them as skipped.
func TestMissedRunsIsACounterOfActivationsAfterTheLastRun(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	h := now.Truncate(time.Hour)
	// A 3-hour run that ended at h-2h+1s; then down: the activations at h-1h and h were missed,
	// not those at h-4h and h-3h during the run.
	if err := saveState(dir, "slow", jobState{LastStart: h.Add(-5*time.Hour + time.Second), LastEnd: h.Add(-2*time.Hour + time.Second), LastOutcome: OK}); err != nil {
		t.Fatal(err)
	}
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("slow", "0 * * * *")), RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }), dir)
	want := fmt.Sprintf(`msg="runs missed while the scheduler was down; catch up with: versement schedule --jobs FILE --once slow" job=slow missed=2 first=%s last=%s`,
		h.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z07:00"), h.Format("2006-01-02T15:04:05.000Z07:00"))
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks\n%s\nin:\n%s", want, logs)
	}
	if got := scrape(t, s).value("versement_schedule_missed_runs_total", "job", "slow"); got != 2 {
		t.Errorf("missed_runs_total = %v, want 2", got)
	}
	if _, err := s.RunNow(context.Background(), "slow"); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, s)
	if got := m.value("versement_schedule_missed_runs_total", "job", "slow"); got != 2 {
		t.Errorf("missed_runs_total = %v after a successful run, want 2 still (a counter)", got)
	}
	if _, ok := m["versement_schedule_missed_runs,job=slow"]; ok {
		t.Error("the old missed_runs gauge is still served")
	}
}

// A last run that never recorded its end, while another process holds the job's lock, is not a
// run that died: it is going on there. Say so, and count nothing missed.
func TestUnfinishedRunHeldByAnotherProcessIsNotReportedAsDead(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-3 * time.Hour)
	for _, j := range []string{"held", "dead"} {
		if err := saveState(dir, j, jobState{LastStart: start, LastEnd: start.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := TryLock(lockPath(dir, "held")) // the other process
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("held", "0 * * * *", "dead", "0 * * * *")), RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }), dir)
	out := logs.String()
	want := fmt.Sprintf(`msg="the job is running in another process" job=held started=%s lock="%s is held by pid %d: locked"`,
		start.Format("2006-01-02T15:04:05.000Z07:00"), filepath.Join(dir, "held.lock"), os.Getpid())
	if !strings.Contains(out, want) {
		t.Errorf("log lacks\n%s\nin:\n%s", want, out)
	}
	if strings.Contains(out, `never finished (the process died or the machine went down); the next run resumes from its checkpoint" job=held`) {
		t.Errorf("the held job is reported as dead:\n%s", out)
	}
	if !strings.Contains(out, `never finished (the process died or the machine went down); the next run resumes from its checkpoint" job=dead`) {
		t.Errorf("the dead job's unfinished run is not reported:\n%s", out)
	}
	if strings.Contains(out, "runs missed while the scheduler was down; catch up with: versement schedule --jobs FILE --once held") {
		t.Errorf("the held job's activations are reported as missed:\n%s", out)
	}
	got := s.Missed()
	if got[0].Unfinished || got[0].Count != 0 || !got[1].Unfinished || got[1].Count != 3 {
		t.Errorf("missed: held %+v, dead %+v", got[0], got[1])
	}
	m := scrape(t, s)
	if m.value("versement_schedule_missed_runs_total", "job", "held") != 0 || m.value("versement_schedule_missed_runs_total", "job", "dead") != 3 {
		t.Errorf("missed_runs_total: held %v, dead %v", m.value("versement_schedule_missed_runs_total", "job", "held"),
			m.value("versement_schedule_missed_runs_total", "job", "dead"))
	}
	// The probe left the lock as it found it: free for the dead job, taken for the held one.
	if l2, err := TryLock(lockPath(dir, "dead")); err != nil {
		t.Errorf("the dead job's lock after New: %v", err)
	} else {
		l2.Unlock()
	}
}

// With Only (--once JOB), the other jobs' missed runs are not this process's business: nothing is
// logged or counted for them, and the job itself is caught up, not told to catch up.
func TestOnlyReportsItsOwnJob(t *testing.T) {
	dir := t.TempDir()
	h := time.Now().Truncate(time.Hour)
	for _, j := range []string{"a", "b"} {
		st := jobState{LastStart: h.Add(-3*time.Hour + time.Second), LastEnd: h.Add(-3*time.Hour + time.Minute)}
		if j == "a" {
			st.LastEnd = time.Time{} // never finished
		}
		if err := saveState(dir, j, st); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logBuffer{}
	s, err := New(mustConfig(t, jobsYAML("a", "0 * * * *", "b", "0 * * * *")), RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }),
		Options{StateDir: dir, Only: "b", Logger: newTextLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	want := fmt.Sprintf(`level=INFO msg="catching up: activations missed since the job's last run" job=b missed=3 first=%s last=%s`,
		h.Add(-2*time.Hour).Format("2006-01-02T15:04:05.000Z07:00"), h.Format("2006-01-02T15:04:05.000Z07:00"))
	if !strings.Contains(out, want) {
		t.Errorf("log lacks\n%s\nin:\n%s", want, out)
	}
	for _, bad := range []string{"job=a", "runs missed while the scheduler was down"} {
		if strings.Contains(out, bad) {
			t.Errorf("log has %q:\n%s", bad, out)
		}
	}
	m := scrape(t, s)
	if m.value("versement_schedule_missed_runs_total", "job", "a") != 0 || m.value("versement_schedule_missed_runs_total", "job", "b") != 3 {
		t.Errorf("missed_runs_total: a %v, b %v; want 0, 3", m.value("versement_schedule_missed_runs_total", "job", "a"),
			m.value("versement_schedule_missed_runs_total", "job", "b"))
	}
}

func newTextLogger(w *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// client_golang's own linter finds nothing to say about a real scrape after a few runs of each
// outcome (names, units, help, counter suffixes).
func TestMetricsPassPromlint(t *testing.T) {
	r := &fixedRunner{
		results: []Result{{Dossiers: map[string]int{"final": 3}, Archived: map[string]int{"final": 3}, SIPs: 1, Bytes: 42}, {FailedSIPs: 1}},
		errs:    []error{nil, errors.New("refused")},
	}
	s, _ := newTestScheduler(t, mustConfig(t, jobsYAML("a", "@every 1h", "b", "0 2 * * *")), r, "")
	s.Start(context.Background())
	defer s.Stop()
	for range 2 {
		_, _ = s.RunNow(context.Background(), "a")
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	problems, err := promlint.New(resp.Body).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "versement_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}
