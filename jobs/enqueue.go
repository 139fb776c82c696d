package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/versement/versement/civil"
)

// EnqueueDeposit asks for the deposit transaction txID of establishment to be processed. It is a
// no-op when that transaction is already waiting or being processed.
func (q *Queue) EnqueueDeposit(ctx context.Context, establishment, txID string) error {
	if establishment == "" || txID == "" {
		return errors.New("queue: a deposit needs an establishment and a transaction id")
	}
	return q.insert(ctx, DepositArgs{Establishment: establishment, TxID: txID}, "establishment", establishment, "tx", txID)
}

// EnqueueRun asks for a run of establishment's job deciding at asOf. It is a no-op when that run
// is already enqueued, running or done.
func (q *Queue) EnqueueRun(ctx context.Context, establishment, job string, asOf civil.Date) error {
	if establishment == "" || job == "" || !asOf.Valid() {
		return errors.New("queue: a run needs an establishment, a job and a valid as-of date")
	}
	return q.insert(ctx, RunArgs{Establishment: establishment, Job: job, AsOf: asOf}, "establishment", establishment, "job", job, "as_of", asOf.String())
}

func (q *Queue) insert(ctx context.Context, args river.JobArgs, attrs ...any) error {
	res, err := q.client.Insert(ctx, args, nil)
	if err != nil {
		return fmt.Errorf("queue: enqueue %s: %w", args.Kind(), err)
	}
	attrs = append(attrs, "kind", args.Kind(), "job_id", res.Job.ID)
	if res.UniqueSkippedAsDuplicate {
		q.log.Info("already enqueued: not enqueued again", attrs...)
		return nil
	}
	q.log.Info("enqueued", attrs...)
	return nil
}
