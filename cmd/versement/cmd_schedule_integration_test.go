package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/nightly"
)

// The schedule command is tested as a real process receiving real signals: the test binary
// re-executes itself as `versement schedule …` (TestScheduleHelperProcess) with a fake runner in
// place of the pipeline, chosen by VERSEMENT_SCHEDULE_FAKE.

const fakeEnv = "VERSEMENT_SCHEDULE_FAKE"

func TestScheduleHelperProcess(t *testing.T) {
	mode := os.Getenv(fakeEnv)
	if mode == "" {
		t.Skip("helper process for the schedule command tests")
	}
	marks := os.Getenv("VERSEMENT_SCHEDULE_MARKS")
	mark := func(name string) { _ = os.WriteFile(filepath.Join(marks, name), nil, 0o644) }
	switch mode {
	case "ok":
		newRunner = fakeRunner(func(ctx context.Context, job nightly.Job) (nightly.Result, error) {
			mark("ran-" + job.Name)
			return nightly.Result{Dossiers: map[string]int{"final": 2}, SIPs: 1, Bytes: 10}, nil
		})
	case "fail":
		newRunner = fakeRunner(func(ctx context.Context, job nightly.Job) (nightly.Result, error) {
			return nightly.Result{}, errors.New("source unreachable")
		})
	case "slow": // a run that stops at a safe point when cancelled
		newRunner = fakeRunner(func(ctx context.Context, job nightly.Job) (nightly.Result, error) {
			mark("started")
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			time.Sleep(300 * time.Millisecond) // finish the SIP in progress, flush the ledger
			mark("flushed")
			return nightly.Result{SIPs: 1}, ctx.Err()
		})
	case "resumable": // twenty items, a ledger line and a checkpoint each; stops between items
		newRunner = fakeRunner(resumableRun)
	case "default": // the runner this build ships with
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("VERSEMENT_SCHEDULE_ARGS")), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"versement", "--log-format", "text"}, args...)
	main() // exits
}

// resumableRun stands for the pipeline's contract: on cancellation it stops at a safe point (after
// the item in progress), and the next run resumes from the checkpoint in job.StateDir.
func resumableRun(ctx context.Context, job nightly.Job) (nightly.Result, error) {
	cp := filepath.Join(job.StateDir, "checkpoint")
	done := 0
	if b, err := os.ReadFile(cp); err == nil {
		fmt.Sscan(string(b), &done)
	}
	ledger, err := os.OpenFile(filepath.Join(job.StateDir, "ledger"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nightly.Result{}, err
	}
	defer ledger.Close()
	res := nightly.Result{Dossiers: map[string]int{}}
	for i := done + 1; i <= 20; i++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
		fmt.Fprintf(ledger, "item %d\n", i)
		if err := ledger.Sync(); err != nil {
			return res, err
		}
		if err := os.WriteFile(cp+".tmp", []byte(fmt.Sprint(i)), 0o644); err != nil {
			return res, err
		}
		if err := os.Rename(cp+".tmp", cp); err != nil {
			return res, err
		}
		res.Dossiers["final"]++
	}
	return res, nil
}

func fakeRunner(f nightly.RunnerFunc) func(*nightly.Config) (nightly.Runner, error) {
	return func(*nightly.Config) (nightly.Runner, error) { return f, nil }
}

type scheduleProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	marks  string
	done   chan error
}

// startSchedule starts `versement schedule args…` with the fake runner mode.
func startSchedule(t *testing.T, mode string, args ...string) *scheduleProc {
	t.Helper()
	a, _ := json.Marshal(args)
	p := &scheduleProc{stderr: &syncBuffer{}, marks: t.TempDir(), done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestScheduleHelperProcess$")
	p.cmd.Env = append(os.Environ(), fakeEnv+"="+mode, "VERSEMENT_SCHEDULE_ARGS="+string(a), "VERSEMENT_SCHEDULE_MARKS="+p.marks)
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("versement schedule output:\n%s", p.stderr)
		}
	})
	return p
}

// wait returns the exit code, failing the test after a timeout.
func (p *scheduleProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("versement schedule still running after %v", timeout)
		return -1
	}
}

func (p *scheduleProc) waitMark(t *testing.T, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, "mark "+name, func() bool {
		_, err := os.Stat(filepath.Join(p.marks, name))
		return err == nil
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func writeJobs(t *testing.T, path string, jobs ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("timezone: UTC\njobs:\n")
	for i := 0; i < len(jobs); i += 2 {
		fmt.Fprintf(&b, "  - name: %s\n    cron: %q\n    profile: apogee\n    source: {env: APOGEE_DSN}\n    targets: {final: \"dir:///tmp/archives\"}\n", jobs[i], jobs[i+1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func getHealth(addr string) (nightly.Health, error) {
	var h nightly.Health
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return h, fmt.Errorf("/healthz: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// SIGTERM while a run is in progress: the run's context is cancelled, the process waits for the
// runner to reach its safe point, records the run as interrupted and exits 0.
func TestScheduleSIGTERMMidRun(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "nightly", "* * * * * *")
	p := startSchedule(t, "slow", "schedule", "--jobs", jobs, "--state-dir", filepath.Join(dir, "state"), "--listen", "")
	p.waitMark(t, "started")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if _, err := os.Stat(filepath.Join(p.marks, "flushed")); err != nil {
		t.Error("the process exited before the runner returned")
	}
	b, err := os.ReadFile(filepath.Join(dir, "state", "nightly.state.json"))
	if err != nil || !bytes.Contains(b, []byte(`"last_outcome": "interrupted"`)) {
		t.Errorf("state after SIGTERM: %s %v", b, err)
	}
	out := p.stderr.String()
	for _, w := range []string{"stopping: waiting for runs in progress to reach a safe point", "run interrupted at a safe point", "scheduler stopped"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// SIGHUP with a broken jobs file: the old schedule keeps running, the log and /healthz say why;
// SIGHUP with a good one: the new schedule takes over.
func TestScheduleSIGHUPReload(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "a", "* * * * * *")
	addr := freeAddr(t)
	p := startSchedule(t, "ok", "schedule", "--jobs", jobs, "--state-dir", filepath.Join(dir, "state"), "--listen", addr)
	p.waitMark(t, "ran-a")

	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: b\n    cronn: \"* * * * * *\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	want := jobs + `:3: jobs[0].cronn: unknown field "cronn"`
	var h nightly.Health
	waitFor(t, 10*time.Second, "the refused reload in /healthz", func() bool {
		var err error
		h, err = getHealth(addr)
		return err == nil && h.ReloadError != ""
	})
	if h.ReloadError != want || h.Status != "degraded" || len(h.Jobs) != 1 || h.Jobs[0].Name != "a" {
		t.Errorf("/healthz after a bad SIGHUP: %+v\nwant reload error %s", h, want)
	}
	if !strings.Contains(p.stderr.String(), "jobs file not reloaded; the previous schedule stays in force") ||
		!strings.Contains(p.stderr.String(), `unknown field \"cronn\"`) {
		t.Error("the refused reload is not logged with its reason")
	}
	// Still running a.
	before := h.Jobs[0].LastStart
	waitFor(t, 5*time.Second, "another run of a", func() bool {
		h, err := getHealth(addr)
		return err == nil && h.Jobs[0].LastStart.After(before)
	})

	writeJobs(t, jobs, "b", "* * * * * *")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitMark(t, "ran-b")
	if h, err := getHealth(addr); err != nil || h.Status != "ok" || len(h.Jobs) != 1 || h.Jobs[0].Name != "b" {
		t.Errorf("/healthz after a good SIGHUP: %+v %v", h, err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// SIGTERM in the middle of a --once run, then the run again: the ledger is the same as an
// uninterrupted run's, nothing lost and nothing twice. The runner is a fake with the pipeline's
// contract (safe point on cancel, checkpoint in job.StateDir); the lead reruns this with the
// real pipeline.
func TestScheduleInterruptedRunResumes(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "j", "0 2 * * *")
	whole := filepath.Join(dir, "whole")
	p := startSchedule(t, "resumable", "schedule", "--jobs", jobs, "--state-dir", whole, "--once", "j")
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("uninterrupted run: exit %d", code)
	}

	cut := filepath.Join(dir, "cut")
	p = startSchedule(t, "resumable", "schedule", "--jobs", jobs, "--state-dir", cut, "--once", "j")
	waitFor(t, 20*time.Second, "five items", func() bool {
		b, _ := os.ReadFile(filepath.Join(cut, "jobs", "j", "checkpoint"))
		n := 0
		fmt.Sscan(string(b), &n)
		return n >= 5
	})
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 143 || !strings.Contains(p.stderr.String(), "versement: job j interrupted at a safe point; run it again to resume") {
		t.Fatalf("interrupted --once: exit %d, want 143 (128 + SIGTERM) and the resume hint", code)
	}
	partial, _ := os.ReadFile(filepath.Join(cut, "jobs", "j", "ledger"))
	if n := bytes.Count(partial, []byte("\n")); n == 0 || n >= 20 {
		t.Fatalf("the interrupted run wrote %d items: not interrupted mid-way", n)
	}
	p = startSchedule(t, "resumable", "schedule", "--jobs", jobs, "--state-dir", cut, "--once", "j")
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("resumed run: exit %d", code)
	}
	want, _ := os.ReadFile(filepath.Join(whole, "jobs", "j", "ledger"))
	got, _ := os.ReadFile(filepath.Join(cut, "jobs", "j", "ledger"))
	if !bytes.Equal(got, want) || bytes.Count(want, []byte("\n")) != 20 {
		t.Errorf("ledger after interruption and resume:\n%s\nuninterrupted:\n%s", got, want)
	}
}

func TestScheduleOnce(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "a", "0 2 * * *", "b", "0 3 * * *")
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		mode, job string
		code      int
		out       string
	}{
		{"ok", "a", 0, `msg="run finished" job=a outcome=ok`},
		{"fail", "a", 2, "versement: job a: source unreachable"},
		{"ok", "c", 2, "versement: --once c: no such job in " + jobs + " (jobs: a, b)"},
		{"default", "b", 2, "versement: job b: "}, // the real pipeline: APOGEE_DSN is not set
	} {
		p := startSchedule(t, tc.mode, "schedule", "--jobs", jobs, "--state-dir", state, "--once", tc.job)
		if code := p.wait(t, 20*time.Second); code != tc.code || !strings.Contains(p.stderr.String(), tc.out) {
			t.Errorf("%s --once %s: exit %d, want %d and %q in:\n%s", tc.mode, tc.job, code, tc.code, tc.out, p.stderr)
		}
	}
	// A job another process is running is not run twice: --once says so and fails.
	l, err := nightly.TryLock(filepath.Join(state, "a.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	p := startSchedule(t, "ok", "schedule", "--jobs", jobs, "--state-dir", state, "--once", "a")
	want := fmt.Sprintf("versement: job a not run: %s is held by pid %d: locked", filepath.Join(state, "a.lock"), os.Getpid())
	if code := p.wait(t, 20*time.Second); code != 2 || !strings.Contains(p.stderr.String(), want) {
		t.Errorf("--once on a locked job: exit %d, want 2 and %q in:\n%s", code, want, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(p.marks, "ran-a")); err == nil {
		t.Error("the locked job ran")
	}
}

func TestScheduleCheck(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "a", "0 30 2 * * *")
	p := startSchedule(t, "default", "schedule", "--jobs", jobs, "--check")
	if code := p.wait(t, 20*time.Second); code != 0 || !strings.Contains(p.stderr.String(), "jobs.yaml: 1 jobs, valid") ||
		!strings.Contains(p.stderr.String(), "02:30:00 UTC") {
		t.Errorf("--check: exit %d:\n%s", code, p.stderr)
	}
	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: a\n    cron: \"0 2 * * *\"\n    timezone: Paris\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = startSchedule(t, "default", "schedule", "--jobs", jobs, "--check")
	want := "versement: " + jobs + `:4: jobs[0].timezone: unknown time zone "Paris" (want an IANA name such as Europe/Paris)`
	if code := p.wait(t, 20*time.Second); code != 2 || !strings.Contains(p.stderr.String(), want) {
		t.Errorf("--check on a bad file: exit %d, want 2 and %q:\n%s", code, want, p.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// getMetrics returns the lines of /metrics.
func getMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SIGHUPs faster than an @every job's interval (an hourly `systemctl reload` under `@every 6h`)
// used to restart its timer each time: the job never ran. Now a reload keeps it: an @every 2s job
// under a SIGHUP every 500 ms runs at its first activation and every 2 s after.
func TestScheduleSIGHUPKeepsEveryTimers(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "e", "@every 2s")
	addr := freeAddr(t)
	p := startSchedule(t, "ok", "schedule", "--jobs", jobs, "--state-dir", filepath.Join(dir, "state"), "--listen", addr)
	var first time.Time
	waitFor(t, 10*time.Second, "/healthz", func() bool {
		h, err := getHealth(addr)
		if err == nil && len(h.Jobs) == 1 {
			first = h.Jobs[0].NextRun
		}
		return !first.IsZero()
	})
	hups := 0
	for time.Now().Before(first.Add(4*time.Second + 600*time.Millisecond)) {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		hups++
		time.Sleep(500 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "the reloads", func() bool {
		return strings.Count(p.stderr.String(), `msg="jobs file reloaded"`) == hups
	})
	m := getMetrics(t, addr)
	if !strings.Contains(m, `versement_schedule_runs_total{job="e",outcome="ok"} 3`+"\n") {
		t.Errorf("after %d SIGHUPs over 4.6 s from the first activation, want 3 runs of e:\n%s", hups, grepLines(m, "runs_total"))
	}
	if want := fmt.Sprintf(`versement_schedule_config_reloads_total{result="ok"} %d`, hups); !strings.Contains(m, want+"\n") {
		t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "reloads_total"))
	}
	h, err := getHealth(addr)
	if err != nil {
		t.Fatal(err)
	}
	if want := first.Add(6 * time.Second); !h.Jobs[0].NextRun.Equal(want) {
		t.Errorf("next_run %v, want %v (the first activation + 3 × 2 s)", h.Jobs[0].NextRun, want)
	}
	if want := fmt.Sprintf(`versement_schedule_next_run_timestamp_seconds{job="e"} %d`, first.Add(6*time.Second).Unix()); !strings.Contains(m, want) &&
		!strings.Contains(m, fmt.Sprintf(`versement_schedule_next_run_timestamp_seconds{job="e"} %g`, float64(first.Add(6*time.Second).Unix()))) {
		t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "next_run"))
	}
	if n := strings.Count(p.stderr.String(), `msg="jobs file reloaded" file=`+jobs+` jobs=1 added=0 rescheduled=0 kept=1`); n != hups {
		t.Errorf("%d of %d reloads logged as keeping the job", n, hups)
	}
	if !regexp.MustCompile(`(?m)^versement_build_info\{goversion="` + regexp.QuoteMeta(runtime.Version()) + `",revision="[0-9a-f]*",version="[^"]+"\} 1$`).MatchString(m) {
		t.Errorf("no build_info:\n%s", grepLines(m, "build_info"))
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// --once JOB speaks of JOB only: another job's missed runs and unfinished last run are not its
// business. And a job whose last run is unfinished because another process is running it (it
// holds the lock) is said to be running there, not to have died.
func TestScheduleOnceReportsOnlyItsJob(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs(t, jobs, "a", "0 * * * *", "b", "0 * * * *")
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o750); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-5 * time.Hour).UTC().Truncate(time.Second)
	unfinished := fmt.Sprintf(`{"last_start": %q, "last_end": %q}`, start.Format(time.RFC3339), start.Add(-time.Hour).Format(time.RFC3339))
	for _, j := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(state, j+".state.json"), []byte(unfinished), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lockA := filepath.Join(state, "a.lock")
	l, err := nightly.TryLock(lockA) // a is running in "another process": this one
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()

	p := startSchedule(t, "ok", "schedule", "--jobs", jobs, "--state-dir", state, "--once", "b")
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("--once b: exit %d", code)
	}
	out := p.stderr.String()
	for _, bad := range []string{"job=a", "runs missed while the scheduler was down"} {
		if strings.Contains(out, bad) {
			t.Errorf("--once b logs %q:\n%s", bad, out)
		}
	}
	for _, w := range []string{
		`level=WARN msg="the job's last run never finished (the process died or the machine went down); the next run resumes from its checkpoint" job=b`,
		`level=INFO msg="catching up: activations missed since the job's last run" job=b missed=5`,
		`msg="run finished" job=b outcome=ok`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("--once b lacks %q:\n%s", w, out)
		}
	}

	p = startSchedule(t, "ok", "schedule", "--jobs", jobs, "--state-dir", state, "--once", "a")
	code := p.wait(t, 20*time.Second)
	out = p.stderr.String()
	held := fmt.Sprintf("%s is held by pid %d: locked", lockA, os.Getpid())
	for _, w := range []string{
		fmt.Sprintf(`level=INFO msg="the job is running in another process" job=a started=%s lock="%s"`, start.Format("2006-01-02T15:04:05.000Z07:00"), held),
		"versement: job a not run: " + held,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("--once a while another process runs it lacks %q:\n%s", w, out)
		}
	}
	if code != 2 || strings.Contains(out, "never finished") || strings.Contains(out, "catching up") {
		t.Errorf("--once a while another process runs it: exit %d (want 2), and no 'never finished' nor 'catching up':\n%s", code, out)
	}
}
