package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/schedule"
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
		newRunner = fakeRunner(func(ctx context.Context, job schedule.Job) (schedule.Result, error) {
			mark("ran-" + job.Name)
			return schedule.Result{Dossiers: map[string]int{"final": 2}, SIPs: 1, Bytes: 10}, nil
		})
	case "fail":
		newRunner = fakeRunner(func(ctx context.Context, job schedule.Job) (schedule.Result, error) {
			return schedule.Result{}, errors.New("source unreachable")
		})
	case "slow": // a run that stops at a safe point when cancelled
		newRunner = fakeRunner(func(ctx context.Context, job schedule.Job) (schedule.Result, error) {
			mark("started")
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			time.Sleep(300 * time.Millisecond) // finish the SIP in progress, flush the ledger
			mark("flushed")
			return schedule.Result{SIPs: 1}, ctx.Err()
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
func resumableRun(ctx context.Context, job schedule.Job) (schedule.Result, error) {
	cp := filepath.Join(job.StateDir, "checkpoint")
	done := 0
	if b, err := os.ReadFile(cp); err == nil {
		fmt.Sscan(string(b), &done)
	}
	ledger, err := os.OpenFile(filepath.Join(job.StateDir, "ledger"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return schedule.Result{}, err
	}
	defer ledger.Close()
	res := schedule.Result{Dossiers: map[string]int{}}
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

func fakeRunner(f schedule.RunnerFunc) func(*schedule.Config) (schedule.Runner, error) {
	return func(*schedule.Config) (schedule.Runner, error) { return f, nil }
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

func getHealth(addr string) (schedule.Health, error) {
	var h schedule.Health
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
	var h schedule.Health
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
	if code := p.wait(t, 20*time.Second); code != 2 || !strings.Contains(p.stderr.String(), "versement: job j interrupted at a safe point; run it again to resume") {
		t.Fatalf("interrupted --once: exit %d, want 2 and the resume hint", code)
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
	l, err := schedule.TryLock(filepath.Join(state, "a.lock"))
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
