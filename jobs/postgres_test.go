package jobs

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/testsvc"
)

type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// Two workers on one PostgreSQL queue, both given the same periodic run: only the elected leader
// enqueues it, at each tick, and each tick's run is worked once.
func TestPostgresPeriodicRunsEnqueuedByTheLeaderOnly(t *testing.T) {
	dsn := testsvc.PostgresDB(t)
	ctx := context.Background()
	var asOfCalls [2]atomic.Int32
	var worked atomic.Int32
	var seq atomic.Int32 // a new as-of date per tick, so that uniqueness does not hide a second enqueue
	var qs []*Queue
	for i := range 2 {
		q, err := Open(ctx, Config{Driver: Postgres, DSN: dsn, Log: testLog(t),
			Handlers: Handlers{Run: func(ctx context.Context, est, job string, asOf civil.Date) error {
				worked.Add(1)
				return nil
			}},
			Periodic: []Periodic{{Establishment: "univ-a", Job: "apogee", Schedule: every(time.Second),
				AsOf: func(time.Time) civil.Date {
					asOfCalls[i].Add(1)
					d, _ := civil.New(2026, 1, 1)
					return d.AddDays(int(seq.Add(1)))
				}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := q.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	defer func() {
		for _, q := range qs {
			_ = q.Stop(ctx)
		}
	}()
	waitFor(t, 40*time.Second, "four periodic runs worked", func() bool { return worked.Load() >= 4 })
	a, b := asOfCalls[0].Load(), asOfCalls[1].Load()
	if a > 0 && b > 0 {
		t.Errorf("both workers enqueued the periodic run (%d and %d ticks): not leader-elected", a, b)
	}
	runs := jobsOf(t, qs[0], KindRun)
	if int32(len(runs)) != a+b {
		t.Errorf("%d run jobs for %d ticks", len(runs), a+b)
	}
	for _, j := range runs {
		if j.State == rivertype.JobStateCompleted && j.Attempt != 1 {
			t.Errorf("run %d worked %d times", j.ID, j.Attempt)
		}
	}
}

// The DSN's password never appears in an error.
func TestPostgresErrorsHideThePassword(t *testing.T) {
	_, err := Open(context.Background(), Config{Driver: Postgres, DSN: "postgres://versement:s3cr3t-pw@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if s := err.Error(); strings.Contains(s, "s3cr3t-pw") {
		t.Errorf("the error shows the password: %s", s)
	}
}
