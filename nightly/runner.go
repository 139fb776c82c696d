package nightly

import (
	"context"
	"time"
)

// Runner does one run of a job. ctx is cancelled when the scheduler stops (SIGTERM): the runner
// must then stop at a safe point and return, so that the next run resumes without losing or
// duplicating anything. The pipeline stops before the next dossier, discards the SIPs it had not
// finished (the next run rebuilds them whole, byte for byte) and leaves a SIP it was sending in
// its spool, for the next run to send.
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
	Outcome Outcome `json:"outcome"`
	// Dossiers counts the dossiers read and decided, per tier (active, intermediate, final,
	// destroy, held, undetermined): every run reads the whole source, so this includes dossiers
	// earlier runs archived.
	Dossiers map[string]int `json:"dossiers,omitempty"`
	// Archived counts the dossiers this run newly archived (put in SIPs sent), per tier.
	Archived map[string]int `json:"archived,omitempty"`
	SIPs     int            `json:"sips"` // SIPs sent
	Bytes    int64          `json:"bytes"`
	// FailedDossiers and FailedSIPs count what the run could not archive (a SIP the target
	// refused, or could not be sent); they feed the failed_dossiers_total and failed_sips_total
	// metrics. A failed run is counted by its Outcome.
	FailedDossiers int `json:"failed_dossiers"`
	FailedSIPs     int `json:"failed_sips"`
	// Failures is the runner's own count of failures, whatever their unit (the pipeline runner
	// gives 1 for a failed run). It is passed on in the notification and counted in no metric.
	Failures int           `json:"failures"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"-"`
	Error    string        `json:"error,omitempty"`
}
