package schedule

import (
	"context"
	"time"
)

// Runner does one run of a job. ctx is cancelled when the scheduler stops (SIGTERM): the runner
// must then stop at a safe point (finish or checkpoint the current SIP, flush the ledger) and
// return, so that the next run resumes without losing or duplicating anything.
type Runner interface {
	Run(ctx context.Context, job Job) (Result, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, job Job) (Result, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, job Job) (Result, error) { return f(ctx, job) }

// Outcome is how a run ended.
type Outcome string

const (
	OK          Outcome = "ok"
	Failed      Outcome = "failed"
	Skipped     Outcome = "skipped"     // not run: the previous run was still going, here or in another process
	Interrupted Outcome = "interrupted" // stopped at a safe point by SIGTERM; the next run resumes
)

// Result is what a run reports. The scheduler fills Outcome (from the error when the runner left it
// empty), Start and Duration when the runner leaves them zero.
type Result struct {
	Outcome  Outcome        `json:"outcome"`
	Dossiers map[string]int `json:"dossiers,omitempty"` // per tier: active, intermediate, final, destroy, undetermined
	SIPs     int            `json:"sips"`
	Bytes    int64          `json:"bytes"`
	Failures int            `json:"failures"` // dossiers or SIPs that could not be archived
	Start    time.Time      `json:"start"`
	Duration time.Duration  `json:"-"`
	Error    string         `json:"error,omitempty"`
}
