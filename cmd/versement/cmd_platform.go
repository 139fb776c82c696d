package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/versement/versement/job"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/platform"
)

// newPlatformRunner builds what one scheduled run of a platform's job does; tests replace it.
var newPlatformRunner = func(*nightly.Config) (nightly.Runner, error) { return nightly.RunnerFunc(runPlatformJob), nil }

// runPlatformJob runs a job of a platform's establishment as runScheduledJob runs a jobs file's,
// with the establishment's profile: job.Build opens the profile the job names, and its SEDA
// identifiers are replaced by the establishment's, so its SIPs name only that establishment.
// Its state and ledger are the establishment's (the platform fills them in).
func runPlatformJob(ctx context.Context, sj nightly.Job) (nightly.Result, error) {
	e, ok := sj.Scope.(*platform.Establishment)
	if !ok {
		return nightly.Result{Outcome: nightly.Failed}, fmt.Errorf("job %s: not a platform establishment's job", sj.Name)
	}
	j, err := job.Build(scheduledOptions(sj))
	if err != nil {
		return nightly.Result{Outcome: nightly.Failed}, err
	}
	if j.Spec.Profile, err = e.Profile(sj.Options.Profile); err != nil {
		return nightly.Result{Outcome: nightly.Failed}, err
	}
	j.Spec.Log = slog.Default().With("job", sj.Name, "establishment", e.ID)
	rep, err := j.Run(ctx)
	return scheduledResult(ctx, rep, err), err
}

// scheduledResult is what a scheduled run reports, from the pipeline's report and error: a
// jobs file's (runScheduledJob) and a platform's alike.
func scheduledResult(ctx context.Context, rep *pipeline.Report, err error) nightly.Result {
	res := nightly.Result{}
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
		res.Outcome = nightly.OK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		res.Outcome = nightly.Interrupted
	default:
		res.Outcome, res.Failures = nightly.Failed, 1
	}
	return res
}
