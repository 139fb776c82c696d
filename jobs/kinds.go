package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/versement/versement/civil"
)

// Job kinds, also the names of their river queues: a long nightly run never holds the slot a
// deposit waits for.
const (
	KindDeposit = "deposit"
	KindRun     = "run"
)

// pendingStates are the states in which a deposit is unique: enqueued, waiting for a retry or
// running. A deposit completed (or discarded) may be enqueued again, e.g. closed anew after a fix.
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// DepositArgs is a deposit transaction to process: build its SIP, verify, send, record.
type DepositArgs struct {
	Establishment string `json:"establishment"`
	TxID          string `json:"tx_id"`
}

// Kind is river's name of the job.
func (DepositArgs) Kind() string { return KindDeposit }

// InsertOpts makes a deposit unique per (establishment, transaction) while it is pending or
// running: a transaction closed twice (a client retrying its request) is processed once.
func (DepositArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: KindDeposit, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// RunArgs is one run of an establishment's nightly job, deciding retention at AsOf.
type RunArgs struct {
	Establishment string     `json:"establishment"`
	Job           string     `json:"job"`
	AsOf          civil.Date `json:"as_of"`
}

// Kind is river's name of the job.
func (RunArgs) Kind() string { return KindRun }

// InsertOpts makes a run unique per (establishment, job, as-of date) in river's default states,
// completed included: the same night's run is not done again because a second tick, a leader
// change or an operator enqueued it twice. A discarded run may be enqueued again.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: KindRun, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type depositWorker struct {
	river.WorkerDefaults[DepositArgs]
	q *Queue
}

func (w *depositWorker) Work(ctx context.Context, j *river.Job[DepositArgs]) error {
	log := w.q.log.With("job_id", j.ID, "kind", KindDeposit, "establishment", j.Args.Establishment, "tx", j.Args.TxID, "attempt", j.Attempt)
	h := w.q.cfg.Handlers.Deposit
	if h == nil { // not fetched here (no queue), but the leader may work a rescued one
		return errors.New("this worker has no deposit handler")
	}
	log.Info("job started")
	start := time.Now()
	return w.q.outcome(log, j.JobRow, j.Args.Establishment, start, h(ctx, j.Args.Establishment, j.Args.TxID))
}

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	q *Queue
}

func (w *runWorker) Work(ctx context.Context, j *river.Job[RunArgs]) error {
	log := w.q.log.With("job_id", j.ID, "kind", KindRun, "establishment", j.Args.Establishment, "job", j.Args.Job, "as_of", j.Args.AsOf.String(), "attempt", j.Attempt)
	h := w.q.cfg.Handlers.Run
	if h == nil {
		return errors.New("this worker has no run handler")
	}
	log.Info("job started")
	start := time.Now()
	return w.q.outcome(log, j.JobRow, j.Args.Establishment, start, h(ctx, j.Args.Establishment, j.Args.Job, j.Args.AsOf))
}

// outcome logs how a job ended and tells river what to do next: nothing (done), later without
// counting an attempt (busy), cancel (a permanent failure), or retry, which river turns into a discard after the last attempt. The
// discarded and cancelled jobs stay in the queue's table until river's cleaner removes them (7
// days), listed by Failed.
func (q *Queue) outcome(log *slog.Logger, row *rivertype.JobRow, est string, start time.Time, err error) error {
	observe := func(outcome string) { q.metrics.observe(row.Kind, est, outcome, time.Since(start)) }
	switch {
	case err == nil:
		log.Info("job done")
		observe(OutcomeDone)
		return nil
	case errors.Is(err, ErrBusy):
		// river's snooze gives the attempt back: a long run of another job cannot exhaust this one's.
		log.Info("job postponed: what it needs is busy", "retry_in", q.cfg.BusyDelay.String(), "reason", err.Error())
		observe(OutcomeBusy)
		return river.JobSnooze(q.cfg.BusyDelay)
	case errors.Is(err, ErrPermanent):
		log.Error("job failed and will not be retried", "err", err)
		observe(OutcomeCancelled)
		return river.JobCancel(err)
	case row.Attempt >= row.MaxAttempts:
		log.Error("job failed at its last attempt: discarded (see versement worker --failed)", "max_attempts", row.MaxAttempts, "err", err)
		observe(OutcomeDiscarded)
	default:
		log.Warn("job failed; it will be retried", "max_attempts", row.MaxAttempts, "err", err)
		observe(OutcomeRetry)
	}
	return err
}
