package jobs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/versement/versement/civil"
)

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// openSQLite opens (and migrates) a queue on a SQLite file of the test.
func openSQLite(t *testing.T, path string, cfg Config) *Queue {
	t.Helper()
	cfg.Driver, cfg.DSN = SQLite, path
	if cfg.Log == nil {
		cfg.Log = testLog(t)
	}
	ctx := context.Background()
	q, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return q
}

// jobsOf lists the queue's jobs of a kind, in any state.
func jobsOf(t *testing.T, q *Queue, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := q.client.JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

// The embedded default: a deposit closed twice is enqueued once and worked once; a run whose
// handler fails is retried (with backoff) and completes at its second attempt.
func TestSQLiteEnqueueUniqueWorkRetry(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	var mu sync.Mutex
	deposits := map[string]int{}
	var runs atomic.Int32
	q := openSQLite(t, path, Config{Handlers: Handlers{
		Deposit: func(ctx context.Context, est, tx string) error {
			mu.Lock()
			defer mu.Unlock()
			deposits[est+"/"+tx]++
			return nil
		},
		Run: func(ctx context.Context, est, job string, asOf civil.Date) error {
			if est != "univ-a" || job != "apogee" || asOf.String() != "2026-12-07" {
				return Permanent(errors.New("wrong arguments"))
			}
			if runs.Add(1) == 1 {
				return errors.New("target unavailable")
			}
			return nil
		},
	}})
	// Enqueued before the workers start, so that the second close finds the first one pending.
	for range 2 {
		if err := q.EnqueueDeposit(ctx, "univ-a", "tx-1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.EnqueueDeposit(ctx, "univ-b", "tx-1"); err != nil { // same id, another establishment
		t.Fatal(err)
	}
	asOf, _ := civil.Parse("2026-12-07")
	for range 2 {
		if err := q.EnqueueRun(ctx, "univ-a", "apogee", asOf); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(jobsOf(t, q, KindDeposit)); n != 2 {
		t.Fatalf("%d deposit jobs after closing univ-a/tx-1 twice and univ-b/tx-1 once, want 2", n)
	}
	if n := len(jobsOf(t, q, KindRun)); n != 1 {
		t.Fatalf("%d run jobs after enqueuing one run twice, want 1", n)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, 45*time.Second, "the run to complete at its second attempt", func() bool {
		j := jobsOf(t, q, KindRun)
		return len(j) == 1 && j[0].State == rivertype.JobStateCompleted
	})
	run := jobsOf(t, q, KindRun)[0]
	if run.Attempt != 2 || len(run.Errors) != 1 || run.Errors[0].Error != "target unavailable" {
		t.Errorf("run: attempt %d, errors %+v; want the second attempt after one error", run.Attempt, run.Errors)
	}
	waitFor(t, 10*time.Second, "the deposits", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return deposits["univ-a/tx-1"] == 1 && deposits["univ-b/tx-1"] == 1
	})
	// Once done, the same run is still unique (completed counts); a deposit may be enqueued again.
	if err := q.EnqueueRun(ctx, "univ-a", "apogee", asOf); err != nil {
		t.Fatal(err)
	}
	if err := q.EnqueueDeposit(ctx, "univ-a", "tx-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(jobsOf(t, q, KindRun)); n != 1 {
		t.Errorf("%d run jobs after enqueuing a completed run again, want 1", n)
	}
	if n := len(jobsOf(t, q, KindDeposit)); n != 3 {
		t.Errorf("%d deposit jobs after closing a processed transaction again, want 3", n)
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("the run handler was called %d times, want 2", got)
	}
	mu.Lock()
	if len(deposits) != 2 {
		t.Errorf("deposits processed: %v", deposits)
	}
	mu.Unlock()
}

// A job failing at its last attempt is discarded, a permanent failure cancelled at once: both
// are listed for ops, with their error.
func TestSQLiteFailedJobsAreListed(t *testing.T) {
	ctx := context.Background()
	q := openSQLite(t, filepath.Join(t.TempDir(), "queue.db"), Config{MaxAttempts: 1, Handlers: Handlers{
		Deposit: func(ctx context.Context, est, tx string) error { return errors.New("the archive refused the SIP") },
		Run: func(ctx context.Context, est, job string, asOf civil.Date) error {
			return Permanent(errors.New("no job " + job))
		},
	}})
	if err := q.EnqueueDeposit(ctx, "univ-a", "tx-9"); err != nil {
		t.Fatal(err)
	}
	if err := q.EnqueueRun(ctx, "univ-a", "nope", civil.Of(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	var failed []Failed
	waitFor(t, 20*time.Second, "two failed jobs", func() bool {
		var err error
		failed, err = q.Failed(ctx, 0)
		return err == nil && len(failed) == 2
	})
	byKind := map[string]Failed{}
	for _, f := range failed {
		byKind[f.Kind] = f
	}
	if d := byKind[KindDeposit]; d.State != "discarded" || d.Establishment != "univ-a" || d.What != "tx-9" || d.Attempts != 1 || d.Error != "the archive refused the SIP" {
		t.Errorf("discarded deposit: %+v", d)
	}
	if r := byKind[KindRun]; r.State != "cancelled" || r.What[:5] != "nope@" || r.Error == "" {
		t.Errorf("cancelled run: %+v", r)
	}
}

// Stop lets a job that ends within the grace period finish; one that does not is cancelled, and
// left to be retried (here or by another worker), not lost.
func TestGracefulStop(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		work      time.Duration
		cancelled bool
		states    []rivertype.JobState
	}{
		{"finishes within the grace", 500 * time.Millisecond, false, []rivertype.JobState{rivertype.JobStateCompleted}},
		// river puts a job its stop cancelled back as available (or retryable, with the error).
		{"cancelled after the grace", time.Hour, true, []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRetryable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "queue.db")
			started := make(chan struct{})
			var sawCancel atomic.Bool
			q := openSQLite(t, path, Config{StopGrace: 2 * time.Second, Handlers: Handlers{
				Deposit: func(ctx context.Context, est, tx string) error {
					close(started)
					select {
					case <-time.After(tc.work):
						return nil
					case <-ctx.Done():
						sawCancel.Store(true)
						return ctx.Err()
					}
				},
			}})
			if err := q.EnqueueDeposit(ctx, "univ-a", "tx-1"); err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				t.Fatal("the job did not start")
			}
			t0 := time.Now()
			if err := q.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(t0); tc.cancelled && (d < 2*time.Second || d > 15*time.Second) {
				t.Errorf("Stop took %v with a 2 s grace", d)
			}
			if sawCancel.Load() != tc.cancelled {
				t.Errorf("the handler saw its context cancelled: %v, want %v", sawCancel.Load(), tc.cancelled)
			}
			look := openSQLite(t, path, Config{})
			defer look.Close()
			j := jobsOf(t, look, KindDeposit)
			if len(j) != 1 || !slices.Contains(tc.states, j[0].State) {
				t.Fatalf("after Stop: %d jobs, state %v; want one of %v", len(j), j[0].State, tc.states)
			}
		})
	}
}

// A job whose resources are busy waits its turn without using up its attempts.
func TestSQLiteBusyJobWaitsWithoutUsingAnAttempt(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int32
	q := openSQLite(t, filepath.Join(t.TempDir(), "queue.db"), Config{MaxAttempts: 1, BusyDelay: 200 * time.Millisecond, Handlers: Handlers{
		Run: func(ctx context.Context, est, job string, asOf civil.Date) error {
			if calls.Add(1) <= 3 {
				return Busy(errors.New("the ledger is in use by another process"))
			}
			return nil
		},
	}})
	if err := q.EnqueueRun(ctx, "univ-a", "harpege", civil.Of(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	waitFor(t, 30*time.Second, "the run to complete", func() bool {
		j := jobsOf(t, q, KindRun)
		return len(j) == 1 && j[0].State == rivertype.JobStateCompleted
	})
	if j := jobsOf(t, q, KindRun)[0]; j.Attempt != 1 || calls.Load() != 4 {
		t.Errorf("completed at attempt %d after %d calls; want attempt 1 (of 1) after 3 busy calls", j.Attempt, calls.Load())
	}
}

func TestOpenRefusesARescueShorterThanTheTimeout(t *testing.T) {
	_, err := Open(context.Background(), Config{Driver: SQLite, DSN: filepath.Join(t.TempDir(), "q.db"), JobTimeout: time.Hour, RescueAfter: time.Minute})
	if err == nil {
		t.Fatal("a rescue after 1m of jobs that may run 1h was accepted")
	}
	if _, err := Open(context.Background(), Config{Driver: "redis"}); err == nil {
		t.Fatal("driver redis accepted")
	}
}
