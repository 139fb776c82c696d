package main

import (
	"context"
	"log/slog"

	"github.com/versement/versement/job"
	"github.com/versement/versement/nightly"
)

// pipelineRunner is the scheduler's Runner backed by the real pipeline: each run is built by
// job.Build, as `versement run` builds its job. Each job's state (state.db, spool, ledger) lives in
// the job's own StateDir (or the jobs file's state), so its runs are exactly-once and resume after a
// crash.
func pipelineRunner(*nightly.Config) (nightly.Runner, error) {
	return nightly.RunnerFunc(runScheduledJob), nil
}

// scheduledOptions are the options of one run of a scheduled job: the job's, with its source
// reference, the run's as-of date, and the job's private state folder unless the jobs file names one.
func scheduledOptions(sj nightly.Job) job.Options {
	o := sj.Options.Clone()
	if s := sj.Source.Spec(); s != "" {
		o.Source = s
	}
	o.AsOf = sj.AsOfDate
	if o.State == "" {
		o.State = sj.StateDir
	}
	return o
}

func runScheduledJob(ctx context.Context, sj nightly.Job) (nightly.Result, error) {
	j, err := job.Build(scheduledOptions(sj))
	if err != nil {
		return nightly.Result{Outcome: nightly.Failed}, err
	}
	j.Spec.Log = slog.Default().With("job", sj.Name)
	rep, err := j.Run(ctx)
	return scheduledResult(ctx, rep, err), err
}
