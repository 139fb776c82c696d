package nightly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// jobsYAML is a jobs file with one job per (name, spec) pair.
func jobsYAML(pairs ...string) string {
	var b strings.Builder
	b.WriteString("timezone: UTC\njobs:\n")
	for i := 0; i < len(pairs); i += 2 {
		fmt.Fprintf(&b, "  - name: %s\n    cron: %q\n    profile: apogee\n    source: {env: DSN}\n    targets: {final: \"dir:///tmp/x\"}\n", pairs[i], pairs[i+1])
	}
	return b.String()
}

func mustConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := ParseConfig("jobs.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// logBuffer collects the scheduler's logs for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestScheduler(t *testing.T, cfg *Config, r Runner, dir string) (*Scheduler, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := New(cfg, r, Options{StateDir: dir, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

// overlapRunner records how many of its runs are in progress at once.
type overlapRunner struct {
	delay            time.Duration
	now, most, total atomic.Int32
	starts           []time.Time
	mu               sync.Mutex
}

func (r *overlapRunner) Run(ctx context.Context, job Job) (Result, error) {
	n := r.now.Add(1)
	defer r.now.Add(-1)
	for {
		m := r.most.Load()
		if n <= m || r.most.CompareAndSwap(m, n) {
			break
		}
	}
	r.total.Add(1)
	r.mu.Lock()
	r.starts = append(r.starts, time.Now())
	r.mu.Unlock()
	select {
	case <-time.After(r.delay):
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	return Result{Dossiers: map[string]int{"final": 1}, SIPs: 1}, nil
}

// An every-second job whose run takes 2.2 s: the ticks that come while it runs are skipped and
// logged, never queued (a queue would start a run right after the previous one ends, and keep
// growing), and two runs never overlap.
func TestEverySecondSlowRunIsSkippedNotQueued(t *testing.T) {
	r := &overlapRunner{delay: 2200 * time.Millisecond}
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("slow", "* * * * * *")), r, "")
	s.Start(context.Background())
	time.Sleep(5500 * time.Millisecond)
	s.Stop()

	if got := r.most.Load(); got != 1 {
		t.Errorf("%d runs at once, want 1", got)
	}
	total := r.total.Load()
	// 5.5 s of 2.2 s runs started on whole seconds: 2 runs (a third if ticks are late).
	if total < 2 || total > 3 {
		t.Errorf("%d runs started in 5.5 s, want 2 or 3", total)
	}
	r.mu.Lock()
	for i := 1; i < len(r.starts); i++ {
		// A queued tick would start the next run at once when the previous ends (2.2 s); a skipped
		// one waits for the next whole second after it (3 s).
		if gap := r.starts[i].Sub(r.starts[i-1]); gap < 2600*time.Millisecond {
			t.Errorf("run %d started %v after the previous one: a queued tick, not a skipped one", i, gap)
		}
	}
	r.mu.Unlock()
	skipped := strings.Count(logs.String(), "run skipped: the previous run is still going")
	if skipped < 2 {
		t.Errorf("%d skips logged, want at least 2; logs:\n%s", skipped, logs)
	}
	m := scrape(t, s)
	if got := m.value("versement_schedule_runs_total", "job", "slow", "outcome", "skipped"); int(got) != skipped {
		t.Errorf("skipped counter %v, %d skips logged", got, skipped)
	}
}

// Two schedulers on one state dir (two processes on one machine) never run a job at once: the
// second one skips it and says the other holds it.
func TestTwoSchedulersShareTheLock(t *testing.T) {
	dir := t.TempDir()
	cfg := mustConfig(t, jobsYAML("j", "0 0 1 1 *"))
	release := make(chan struct{})
	started := make(chan struct{})
	slow := RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		close(started)
		<-release
		return Result{}, nil
	})
	a, _ := newTestScheduler(t, cfg, slow, dir)
	b, logs := newTestScheduler(t, cfg, RunnerFunc(func(context.Context, Job) (Result, error) {
		t.Error("second scheduler ran the job while the first held it")
		return Result{}, nil
	}), dir)
	done := make(chan error)
	go func() { _, err := a.RunNow(context.Background(), "j"); done <- err }()
	<-started
	res, err := b.RunNow(context.Background(), "j")
	if !errors.Is(err, ErrLocked) || res.Outcome != Skipped {
		t.Errorf("second scheduler: %v, %v; want skipped, ErrLocked", res.Outcome, err)
	}
	if want := fmt.Sprintf("by pid %d", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder (%s)", err, want)
	}
	if !strings.Contains(logs.String(), "run skipped: another process is running this job") {
		t.Errorf("skip not logged:\n%s", logs)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Released: the second scheduler can run it now.
	b.runner = RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil })
	if _, err := b.RunNow(context.Background(), "j"); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// A process that holds a job's lock and is killed (kill -9: no cleanup code runs) does not leave
// the job locked: the kernel drops a dead process's flocks.
func TestKilledHolderDoesNotKeepTheLock(t *testing.T) {
	if os.Getenv("SCHEDULE_LOCK_HELPER") != "" {
		return
	}
	path := filepath.Join(t.TempDir(), "job.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "SCHEDULE_LOCK_HELPER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "locked\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	_, err = TryLock(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("lock held by the helper: got %v, want ErrLocked", err)
	}
	if want := fmt.Sprintf("held by pid %d", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("%q does not say %q", err, want)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := TryLock(path)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Unlock()
}

// TestLockHelper is the process TestKilledHolderDoesNotKeepTheLock kills.
func TestLockHelper(t *testing.T) {
	path := os.Getenv("SCHEDULE_LOCK_HELPER")
	if path == "" {
		t.Skip("helper process for TestKilledHolderDoesNotKeepTheLock")
	}
	if _, err := TryLock(path); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(0)
}

func TestMissedRuns(t *testing.T) {
	c := mustConfig(t, jobsYAML("hourly", "0 * * * *", "never-ran", "0 * * * *", "fine", "0 * * * *"))
	dir := t.TempDir()
	now := time.Now()
	// Down for three activations, and the last run never ended (killed).
	lastStart := now.Truncate(time.Hour).Add(-3 * time.Hour).Add(time.Second)
	if err := saveState(dir, "hourly", jobState{LastStart: lastStart, LastEnd: lastStart.Add(-23 * time.Hour), LastOutcome: OK}); err != nil {
		t.Fatal(err)
	}
	// Ran at the last activation and finished: nothing missed.
	recent := now.Truncate(time.Hour).Add(time.Millisecond)
	if recent.After(now) {
		recent = now
	}
	if err := saveState(dir, "fine", jobState{LastStart: recent, LastEnd: recent.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	s, logs := newTestScheduler(t, c, RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }), dir)
	got := s.Missed()
	first := now.Truncate(time.Hour).Add(-2 * time.Hour)
	want := Missed{Job: "hourly", Count: 3, First: first, Last: first.Add(2 * time.Hour), Since: lastStart, Unfinished: true}
	if !got[0].First.Equal(want.First) || !got[0].Last.Equal(want.Last) || got[0].Count != 3 || !got[0].Unfinished {
		t.Errorf("hourly: got %+v\nwant %+v", got[0], want)
	}
	if got[1].Count != 0 || got[1].Unfinished || got[2].Count != 0 || got[2].Unfinished {
		t.Errorf("never-ran / fine: %+v %+v", got[1], got[2])
	}
	l := logs.String()
	for _, w := range []string{
		"runs missed while the scheduler was down; catch up with: versement schedule --jobs FILE --once hourly\" job=hourly missed=3",
		"the job's last run never finished",
	} {
		if !strings.Contains(l, w) {
			t.Errorf("log lacks %q:\n%s", w, l)
		}
	}
	if strings.Count(l, "runs missed while") != 1 {
		t.Errorf("jobs that missed nothing are reported:\n%s", l)
	}
	m := scrape(t, s)
	if v := m.value("versement_schedule_missed_runs_total", "job", "hourly"); v != 3 {
		t.Errorf("missed_runs_total{hourly} = %v", v)
	}
	h := s.Health()
	if h.Jobs[0].Missed == nil || h.Jobs[0].Missed.Count != 3 || h.Jobs[1].Missed != nil {
		t.Errorf("healthz missed: %+v %+v", h.Jobs[0].Missed, h.Jobs[1].Missed)
	}
}

// SIGTERM mid-run: Stop cancels the run's context and returns only after the runner has
// returned (finished its SIP, flushed its ledger), with the run recorded as interrupted.
func TestStopCancelsAndWaits(t *testing.T) {
	var flushed atomic.Bool
	started := make(chan struct{})
	r := RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		close(started)
		<-ctx.Done()
		time.Sleep(300 * time.Millisecond) // finishing the SIP in progress, flushing the ledger
		flushed.Store(true)
		return Result{SIPs: 1, Dossiers: map[string]int{"final": 10}}, ctx.Err()
	})
	dir := t.TempDir()
	s, logs := newTestScheduler(t, mustConfig(t, jobsYAML("j", "* * * * * *")), r, dir)
	s.Start(context.Background())
	<-started
	s.Stop()
	if !flushed.Load() {
		t.Fatal("Stop returned before the runner did")
	}
	st, err := loadState(dir, "j")
	if err != nil || st.LastOutcome != Interrupted || st.LastEnd.Before(st.LastStart) {
		t.Errorf("state after stop: %+v, %v", st, err)
	}
	if !strings.Contains(logs.String(), "stopping: waiting for runs in progress to reach a safe point\" jobs=[j]") {
		t.Errorf("logs:\n%s", logs)
	}
	// Nothing fires after Stop.
	time.Sleep(1200 * time.Millisecond)
	if _, err := s.RunNow(context.Background(), "j"); err == nil {
		t.Error("RunNow after Stop ran")
	}
}

// fixedRunner returns its results in turn.
type fixedRunner struct {
	mu      sync.Mutex
	results []Result
	errs    []error
}

func (f *fixedRunner) Run(ctx context.Context, job Job) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.results[0], f.errs[0]
	f.results, f.errs = f.results[1:], f.errs[1:]
	return r, err
}

// /metrics, scraped over HTTP and read with Prometheus' own text parser, adds up what the
// runner reported.
func TestMetricsMatchResults(t *testing.T) {
	r := &fixedRunner{
		results: []Result{
			{Dossiers: map[string]int{"active": 5, "intermediate": 100, "final": 20, "destroy": 3}, Archived: map[string]int{"intermediate": 100, "final": 20},
				SIPs: 4, Bytes: 1 << 20, Duration: 2 * time.Second},
			{Dossiers: map[string]int{"intermediate": 107, "final": 20, "active": 0}, Archived: map[string]int{"intermediate": 7},
				SIPs: 1, Bytes: 1000, FailedSIPs: 2, FailedDossiers: 9, Failures: 2, Duration: 90 * time.Second},
			{Dossiers: map[string]int{"final": 21}, Archived: map[string]int{"final": 1}, FailedSIPs: 1, Failures: 1},
		},
		errs: []error{nil, nil, errors.New("target unreachable")},
	}
	s, _ := newTestScheduler(t, mustConfig(t, jobsYAML("apogee", "0 2 * * *", "idle", "0 3 * * *")), r, "")
	before := time.Now()
	for range 3 {
		_, _ = s.RunNow(context.Background(), "apogee")
	}
	m := scrape(t, s)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"versement_schedule_runs_total", []string{"job", "apogee", "outcome", "ok"}, 2},
		{"versement_schedule_runs_total", []string{"job", "apogee", "outcome", "failed"}, 1},
		{"versement_schedule_runs_total", []string{"job", "apogee", "outcome", "skipped"}, 0},
		{"versement_schedule_runs_total", []string{"job", "idle", "outcome", "ok"}, 0},
		// Read: every run reads the whole source again, archived dossiers included.
		{"versement_schedule_dossiers_read_total", []string{"job", "apogee", "tier", "intermediate"}, 207},
		{"versement_schedule_dossiers_read_total", []string{"job", "apogee", "tier", "final"}, 61},
		{"versement_schedule_dossiers_read_total", []string{"job", "apogee", "tier", "active"}, 5},
		{"versement_schedule_dossiers_read_total", []string{"job", "apogee", "tier", "destroy"}, 3},
		// Archived: each dossier once, by the run that put it in a SIP.
		{"versement_schedule_dossiers_archived_total", []string{"job", "apogee", "tier", "intermediate"}, 107},
		{"versement_schedule_dossiers_archived_total", []string{"job", "apogee", "tier", "final"}, 21},
		{"versement_schedule_sips_total", []string{"job", "apogee"}, 5},
		{"versement_schedule_bytes_total", []string{"job", "apogee"}, 1<<20 + 1000},
		// By unit, as the runner reported them; the failed run is in runs_total{outcome="failed"}.
		{"versement_schedule_failed_sips_total", []string{"job", "apogee"}, 3},
		{"versement_schedule_failed_dossiers_total", []string{"job", "apogee"}, 9},
		{"versement_schedule_run_duration_seconds_count", []string{"job", "apogee"}, 3},
		{"versement_schedule_running", []string{"job", "apogee"}, 0},
		{"versement_schedule_last_success_timestamp_seconds", []string{"job", "idle"}, 0},
	} {
		if got := m.value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := m.value("versement_schedule_run_duration_seconds_sum", "job", "apogee"); got < 92 || got > 93 {
		t.Errorf("duration sum %v, want 92 s and a little", got)
	}
	// Durations of 2 s and 90 s and a few ms fall in the buckets ≤5 s (2 runs) and ≤120 s (3).
	if got := m.value("versement_schedule_run_duration_seconds_bucket", "job", "apogee", "le", "5"); got != 2 {
		t.Errorf("bucket le=5: %v", got)
	}
	if got := m.value("versement_schedule_run_duration_seconds_bucket", "job", "apogee", "le", "120"); got != 3 {
		t.Errorf("bucket le=120: %v", got)
	}
	ls := m.value("versement_schedule_last_success_timestamp_seconds", "job", "apogee")
	if ls < float64(before.Unix()) || ls > float64(time.Now().Add(2*time.Minute).Unix()) {
		t.Errorf("last success %v, runs started at %v", ls, before.Unix())
	}
	if _, ok := m["versement_schedule_next_run_timestamp_seconds,job=idle"]; ok {
		t.Error("a scheduler that was not started (--once) shows a next run")
	}

	h := s.Health()
	if h.Jobs[0].LastOutcome != Failed || h.Jobs[0].LastError != "target unreachable" || h.Jobs[0].LastSuccess.IsZero() {
		t.Errorf("healthz: %+v", h.Jobs[0])
	}
}

// metricsText is a parsed scrape: "name{k=v,…}" → value.
type metricsText map[string]float64

func (m metricsText) value(name string, labels ...string) float64 {
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i < len(labels); i += 2 {
		fmt.Fprintf(&b, ",%s=%s", labels[i], labels[i+1])
	}
	return m[b.String()]
}

// scrape GETs /metrics from the scheduler's HTTP handler and parses it with expfmt.
func scrape(t *testing.T, s *Scheduler) metricsText {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := metricsText{}
	key := func(name string, labels []string, extra ...string) string {
		return name + "," + strings.Join(append(labels, extra...), ",")
	}
	for name, f := range fams {
		for _, mt := range f.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			switch {
			case mt.GetCounter() != nil:
				out[key(name, labels)] = mt.GetCounter().GetValue()
			case mt.GetGauge() != nil:
				out[key(name, labels)] = mt.GetGauge().GetValue()
			case mt.GetHistogram() != nil:
				h := mt.GetHistogram()
				out[key(name+"_count", labels)] = float64(h.GetSampleCount())
				out[key(name+"_sum", labels)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[key(name+"_bucket", labels, fmt.Sprintf("le=%g", b.GetUpperBound()))] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	// Without labels, "name," would be the key: allow value(name) for those too.
	for k, v := range out {
		if strings.HasSuffix(k, ",") {
			out[strings.TrimSuffix(k, ",")] = v
		}
	}
	return out
}

// A jobs file broken while the scheduler runs is refused on reload: the old schedule goes on, and
// the log, /healthz and a metric say why. A good file then replaces it.
func TestReloadInvalidKeepsOldSchedule(t *testing.T) {
	var runsA, runsB atomic.Int32
	r := RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		if job.Name == "a" {
			runsA.Add(1)
		} else {
			runsB.Add(1)
		}
		return Result{}, nil
	})
	path := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(path, []byte(jobsYAML("a", "* * * * * *")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	s, logs := newTestScheduler(t, cfg, r, "")
	s.Start(context.Background())
	defer s.Stop()

	if err := os.WriteFile(path, []byte(jobsYAML("b", "* * * * * * *")), 0o644); err != nil {
		t.Fatal(err)
	}
	err = s.ReloadFile(path)
	want := path + `:4: jobs[0].cron: bad cron spec "* * * * * * *": expected 5 to 6 fields, found 7: [* * * * * * *]`
	if err == nil || err.Error() != want {
		t.Fatalf("reload error:\n got %v\nwant %s", err, want)
	}
	n := runsA.Load()
	time.Sleep(2200 * time.Millisecond)
	if runsA.Load() < n+2 || runsB.Load() != 0 {
		t.Errorf("after a refused reload: a ran %d more times, b %d times", runsA.Load()-n, runsB.Load())
	}
	if !strings.Contains(logs.String(), `msg="jobs file not reloaded; the previous schedule stays in force"`) ||
		!strings.Contains(logs.String(), "expected 5 to 6 fields, found 7") {
		t.Errorf("the refusal is not logged with its reason:\n%s", logs)
	}
	h := s.Health()
	if h.Status != "degraded" || h.ReloadError != want || len(h.Jobs) != 1 || h.Jobs[0].Name != "a" {
		t.Errorf("healthz after a refused reload: %+v", h)
	}
	if m := scrape(t, s); m.value("versement_schedule_config_last_reload_ok") != 0 ||
		m.value("versement_schedule_config_reloads_total", "result", "failed") != 1 {
		t.Errorf("reload metrics: %v", m)
	}

	if err := os.WriteFile(path, []byte(jobsYAML("b", "* * * * * *")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	n = runsA.Load()
	time.Sleep(2200 * time.Millisecond)
	if runsB.Load() < 2 || runsA.Load() > n+1 { // a tick of a may have been in flight
		t.Errorf("after a good reload: a ran %d more times, b %d times", runsA.Load()-n, runsB.Load())
	}
	if h := s.Health(); h.Status != "ok" || h.ReloadError != "" {
		t.Errorf("healthz after a good reload: %+v", h)
	}
	m := scrape(t, s)
	if _, ok := m["versement_schedule_last_success_timestamp_seconds,job=a"]; ok {
		t.Error("the removed job a still has series")
	}
	if m.value("versement_schedule_runs_total", "job", "b", "outcome", "ok") < 2 || m.value("versement_schedule_config_last_reload_ok") != 1 {
		t.Error("metrics after a good reload do not show b's runs")
	}
}

// The webhook gets the run's summary; a webhook that fails does not fail the run.
func TestWebhook(t *testing.T) {
	got := make(chan Notification, 2)
	fail := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad notification: %v", err)
		}
		got <- n
		if fail.Load() {
			http.Error(w, "nope", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	t.Setenv("HOOK", srv.URL+"/hook/SECRET-TOKEN")
	cfg := mustConfig(t, jobsYAML("j", "0 2 * * *")+"    as_of: 2025-09-01\n    notify: {webhook_env: HOOK}\n")
	r := &fixedRunner{
		results: []Result{{Dossiers: map[string]int{"final": 3}, SIPs: 1, Bytes: 42}, {}},
		errs:    []error{nil, nil},
	}
	s, logs := newTestScheduler(t, cfg, r, "")
	if _, err := s.RunNow(context.Background(), "j"); err != nil {
		t.Fatal(err)
	}
	n := <-got
	if n.Job != "j" || n.Outcome != OK || n.Dossiers["final"] != 3 || n.SIPs != 1 || n.Bytes != 42 || n.AsOf != "2025-09-01" || n.Profile != "apogee" {
		t.Errorf("notification: %+v", n)
	}
	fail.Store(true)
	if _, err := s.RunNow(context.Background(), "j"); err != nil {
		t.Errorf("a failing webhook failed the run: %v", err)
	}
	<-got
	l := logs.String()
	if !strings.Contains(l, `msg="notification not sent" job=j webhook=http://127.0.0.1`) || !strings.Contains(l, "502 Bad Gateway") {
		t.Errorf("failed notification not logged:\n%s", l)
	}
	if strings.Contains(l, "SECRET-TOKEN") {
		t.Errorf("the webhook's token is in the logs:\n%s", l)
	}
}

// The runner gets the job with its as-of date resolved and a private work directory; a panic in
// the runner is a failed run, not a dead scheduler.
func TestRunnerSeesResolvedJobAndPanicsAreFailures(t *testing.T) {
	var seen Job
	dir := t.TempDir()
	s, _ := newTestScheduler(t, mustConfig(t, jobsYAML("j", "0 2 * * *")+"    as_of: today-1\n"), RunnerFunc(func(ctx context.Context, job Job) (Result, error) {
		seen = job
		panic("boom")
	}), dir)
	res, err := s.RunNow(context.Background(), "j")
	if err == nil || res.Outcome != Failed || err.Error() != "job j: runner panicked: boom" {
		t.Errorf("panic: %v, %v", res.Outcome, err)
	}
	utc, _ := time.LoadLocation("UTC")
	if want := (AsOfPolicy{}).Resolve(time.Now(), utc).AddDays(-1); seen.AsOfDate != want {
		t.Errorf("as-of %v, want %v", seen.AsOfDate, want)
	}
	if seen.StateDir != filepath.Join(dir, "jobs", "j") {
		t.Errorf("state dir %q", seen.StateDir)
	}
	if fi, err := os.Stat(seen.StateDir); err != nil || !fi.IsDir() {
		t.Errorf("work dir not created: %v", err)
	}
	if _, err := s.RunNow(context.Background(), "nope"); err == nil || err.Error() != `no job "nope" in jobs.yaml` {
		t.Errorf("unknown job: %v", err)
	}
}
