package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Failed is a job that will not be tried again: discarded after its last attempt, or cancelled
// at a permanent failure. It stays listed until river's cleaner removes it (7 days).
type Failed struct {
	ID            int64
	Kind          string // KindDeposit or KindRun
	State         string // discarded or cancelled
	Establishment string
	What          string // the transaction id, or job@as-of
	Attempts      int
	Error         string // the last attempt's
	FinalizedAt   time.Time
}

// Failed lists the jobs that failed for good, the most recent first, at most limit (0: 100).
func (q *Queue) Failed(ctx context.Context, limit int) ([]Failed, error) {
	if limit <= 0 {
		limit = 100
	}
	p := river.NewJobListParams().Kinds(KindDeposit, KindRun).
		States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(limit)
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("queue: list failed jobs: %w", err)
	}
	out := make([]Failed, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		f := Failed{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempts: j.Attempt}
		if j.FinalizedAt != nil {
			f.FinalizedAt = *j.FinalizedAt
		}
		if n := len(j.Errors); n > 0 {
			f.Error = j.Errors[n-1].Error
		}
		switch j.Kind {
		case KindDeposit:
			var a DepositArgs
			if json.Unmarshal(j.EncodedArgs, &a) == nil {
				f.Establishment, f.What = a.Establishment, a.TxID
			}
		case KindRun:
			var a RunArgs
			if json.Unmarshal(j.EncodedArgs, &a) == nil {
				f.Establishment, f.What = a.Establishment, a.Job+"@"+a.AsOf.String()
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// Ping checks that the queue's database answers (a worker's readiness).
func (q *Queue) Ping(ctx context.Context) error {
	if _, err := q.client.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return nil
}
