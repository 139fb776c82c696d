package jobs

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/versement/versement/civil"
)

// Schedule is when a periodic run fires: robfig/cron/v3's cron.Schedule (the jobs file's parsed
// cron spec, in the job's time zone) satisfies it as it is, and so does river.PeriodicSchedule.
type Schedule interface {
	Next(time.Time) time.Time
}

// Periodic is a nightly job of an establishment, enqueued as a run on its schedule. AsOf gives
// the run's as-of date from the tick's time (the jobs file's as_of policy: today, today-N, a
// fixed date, in the job's time zone); nil: the tick's date in UTC.
type Periodic struct {
	Establishment string
	Job           string
	Schedule      Schedule
	AsOf          func(time.Time) civil.Date
}

// periodicJobs are the river periodic jobs of Config.Periodic. river enqueues them on its elected
// leader only, so that a tick gives one run whatever the number of workers; the run's uniqueness
// (establishment, job, as-of) covers a tick enqueued by two leaders around a leadership change.
func (q *Queue) periodicJobs() ([]*river.PeriodicJob, error) {
	seen := map[string]bool{}
	var out []*river.PeriodicJob
	for _, p := range q.cfg.Periodic {
		if p.Establishment == "" || p.Job == "" || p.Schedule == nil {
			return nil, fmt.Errorf("queue: periodic run %q/%q: want an establishment, a job and a schedule", p.Establishment, p.Job)
		}
		id := p.Establishment + "/" + p.Job
		if seen[id] {
			return nil, fmt.Errorf("queue: periodic run %s given twice", id)
		}
		seen[id] = true
		asOf := p.AsOf
		if asOf == nil {
			asOf = func(t time.Time) civil.Date { return civil.Of(t.UTC()) }
		}
		est, job, log := p.Establishment, p.Job, q.log
		out = append(out, river.NewPeriodicJob(p.Schedule, func() (river.JobArgs, *river.InsertOpts) {
			a := RunArgs{Establishment: est, Job: job, AsOf: asOf(time.Now())}
			log.Info("periodic run due: enqueuing it", "establishment", est, "job", job, "as_of", a.AsOf.String())
			return a, nil
		}, &river.PeriodicJobOpts{ID: id}))
	}
	return out, nil
}
