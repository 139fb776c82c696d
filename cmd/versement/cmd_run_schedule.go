package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/schedule"
)

// pipelineRunner is the scheduler's Runner backed by the real pipeline. Each job's state (state.db, spool, ledger)
// lives in the job's own StateDir, so its runs are exactly-once and resume after a crash.
func pipelineRunner(*schedule.Config) (schedule.Runner, error) {
	return schedule.RunnerFunc(runScheduledJob), nil
}

func runScheduledJob(ctx context.Context, job schedule.Job) (schedule.Result, error) {
	p, err := profiles.Open(job.Profile)
	if err != nil {
		return schedule.Result{Outcome: schedule.Failed}, err
	}
	src := ""
	switch {
	case job.Source.Env != "":
		src = "env:" + job.Source.Env
	case job.Source.File != "":
		src = "file:" + job.Source.File
	default:
		return schedule.Result{Outcome: schedule.Failed}, errors.New("job has no source")
	}
	spec := pipeline.JobSpec{Profile: p, Source: src, State: job.StateDir, AsOf: job.AsOfDate,
		TargetIntermediate: job.Targets[string(retention.Intermediate)], TargetFinal: job.Targets[string(retention.Final)],
		MaxDossiers: job.Batch.MaxDossiers, MaxBytes: job.Batch.MaxBytes,
		Log: slog.Default().With("job", job.Name)}
	// The tiers archived are those the job gives a target for.
	for _, t := range pipeline.DefaultTiers {
		if job.Targets[string(t)] != "" {
			spec.Tiers = append(spec.Tiers, t)
		}
	}
	if len(spec.Tiers) == 0 {
		return schedule.Result{Outcome: schedule.Failed}, fmt.Errorf("job %s has no target", job.Name)
	}
	rep, err := pipeline.Execute(ctx, spec)
	res := schedule.Result{}
	if rep != nil {
		res.Dossiers, res.SIPs, res.Bytes = rep.TierCounts(), len(rep.SIPs), rep.Bytes
		for _, s := range rep.SIPs {
			// A SIP an earlier run had sent (rebuilt byte for byte, found in the ledger) archives nothing new.
			if s.AlreadySent {
				continue
			}
			if res.Archived == nil {
				res.Archived = map[string]int{}
			}
			res.Archived[string(s.Tier)] += s.Dossiers
		}
	}
	// The SIPs the archive refused (and those that could not be sent, or failed verification) are
	// in the run's error, one each, with their dossiers.
	res.FailedSIPs, res.FailedDossiers = pipeline.Failures(err)
	switch {
	case err == nil:
		res.Outcome = schedule.OK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		res.Outcome = schedule.Interrupted
	default:
		res.Outcome, res.Failures = schedule.Failed, 1
	}
	return res, err
}
