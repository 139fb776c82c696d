package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/versement/versement/civil"
)

// Drivers of Config.Driver.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Defaults of the zero Config values. A nightly run of a large base lasts hours, and river has no
// heartbeat: a job is taken for dead when it has been running RescueAfter, so RescueAfter is the
// longest a job may run plus a margin, and the longest a dead worker's job waits for another.
const (
	DefaultWorkers     = 2
	DefaultJobTimeout  = 6 * time.Hour
	DefaultMaxAttempts = 8 // river's backoff (attempt⁴ s): the 8th attempt comes about 3 h after the first
	DefaultStopGrace   = 30 * time.Second
	DefaultBusyDelay   = time.Minute
	rescueMargin       = 15 * time.Minute
)

// Config configures a Queue.
type Config struct {
	// Driver is Postgres (DSN a postgres:// URL or key=value string: a platform's shared queue) or
	// SQLite (DSN the path of the queue's file: one machine).
	Driver string
	DSN    string
	// Workers is how many jobs of each kind this process works at once; 0: DefaultWorkers.
	Workers int
	// JobTimeout cancels a job's context after this long (the pipeline stops at a safe point and
	// the job is retried: it resumes); 0: DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueAfter: a job running for longer is taken for dead (its worker killed) and given to
	// another worker; 0: JobTimeout + 15 min. It must exceed JobTimeout, or live jobs would be
	// rescued while they run.
	RescueAfter time.Duration
	// MaxAttempts: a job failing this many times is discarded (Failed lists it); 0: DefaultMaxAttempts.
	MaxAttempts int
	// StopGrace is how long Stop lets running jobs finish before cancelling them; 0: DefaultStopGrace.
	StopGrace time.Duration
	// BusyDelay is how long a job whose handler found its resources busy (ErrBusy) waits before
	// it is tried again; 0: DefaultBusyDelay.
	BusyDelay time.Duration
	// Handlers do the work; a nil handler means this process does not work that kind (it can
	// still enqueue it). With no handler at all the Queue only enqueues and lists.
	Handlers Handlers
	// Periodic runs enqueued on their schedules by the elected leader among the workers.
	Periodic []Periodic
	Log      *slog.Logger // default slog.Default()
	// Metrics, when set, receives versement_queue_jobs_total and _job_duration_seconds (metrics.go).
	Metrics prometheus.Registerer
}

// Handlers are what jobs do. They get the context of the job, cancelled at JobTimeout or when
// Stop's grace is over: they must then return at a safe point. An error retries the job later
// (with backoff), unless it wraps ErrPermanent.
type Handlers struct {
	Deposit func(ctx context.Context, establishment, txID string) error
	Run     func(ctx context.Context, establishment, job string, asOf civil.Date) error
}

// ErrPermanent, wrapped in a handler's error (Permanent), says that trying again cannot help (an
// unknown establishment or job, a bad jobs file): the job is cancelled at once instead of being
// retried, and listed by Failed.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that the job is not retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// ErrBusy, wrapped in a handler's error (Busy), says that what the job needs is held by another
// job (the establishment's ledger, the nightly job's lock): the job is put back for BusyDelay
// without using up an attempt, however long the other job lasts.
var ErrBusy = errors.New("busy")

// Busy wraps err so that the job waits its turn instead of failing.
func Busy(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrBusy, err)
}

// client is what Queue uses of a river client: the same methods on river.Client[pgx.Tx] and
// river.Client[*sql.Tx], so that the rest of the package is written once for both drivers.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Queue is an open queue: it enqueues, and after Start works the jobs it has handlers for.
type Queue struct {
	cfg     Config
	log     *slog.Logger
	client  client
	migrate func(ctx context.Context) error
	close   func()
	working bool     // some handler is set: Start fetches jobs
	metrics *metrics // nil without Config.Metrics
}

// Open connects to the queue's database and prepares the river client; nothing is fetched
// before Start. The database must have river's tables (Migrate).
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = cfg.JobTimeout + rescueMargin
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		return nil, fmt.Errorf("queue: rescue after %v must be longer than the job timeout %v, or running jobs would be taken from their workers", cfg.RescueAfter, cfg.JobTimeout)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	if cfg.BusyDelay <= 0 {
		cfg.BusyDelay = DefaultBusyDelay
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	q := &Queue{cfg: cfg, log: cfg.Log, working: cfg.Handlers.Deposit != nil || cfg.Handlers.Run != nil}
	if cfg.Metrics != nil {
		m, err := newMetrics(cfg.Metrics)
		if err != nil {
			return nil, fmt.Errorf("queue: metrics: %w", err)
		}
		q.metrics = m
	}
	rc, err := q.riverConfig()
	if err != nil {
		return nil, err
	}
	switch cfg.Driver {
	case Postgres:
		err = q.openPostgres(ctx, rc)
	case SQLite:
		err = q.openSQLite(ctx, rc)
	default:
		return nil, fmt.Errorf("queue: driver %q: want %s or %s", cfg.Driver, Postgres, SQLite)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// riverConfig is the river client's configuration. Every kind is registered whatever the
// handlers: the leader's rescuer discards a stuck job of a kind it does not know, and the leader
// may be a process that does not work that kind. Only the kinds this process works get a queue.
func (q *Queue) riverConfig() (*river.Config, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &depositWorker{q: q}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &runWorker{q: q}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	queues := map[string]river.QueueConfig{}
	if q.cfg.Handlers.Deposit != nil {
		queues[KindDeposit] = river.QueueConfig{MaxWorkers: q.cfg.Workers}
	}
	if q.cfg.Handlers.Run != nil {
		queues[KindRun] = river.QueueConfig{MaxWorkers: q.cfg.Workers}
	}
	periodic, err := q.periodicJobs()
	if err != nil {
		return nil, err
	}
	rc := &river.Config{
		Logger:               q.log.With("component", "river"),
		Workers:              workers,
		JobTimeout:           q.cfg.JobTimeout,
		RescueStuckJobsAfter: q.cfg.RescueAfter,
		MaxAttempts:          q.cfg.MaxAttempts,
		PeriodicJobs:         periodic,
		ErrorHandler:         &panicLogger{log: q.log},
	}
	if len(queues) > 0 {
		rc.Queues = queues
	}
	return rc, nil
}

// Migrate creates or upgrades river's tables (rivermigrate): once per database, before the
// workers of a new version start.
func (q *Queue) Migrate(ctx context.Context) error {
	if err := q.migrate(ctx); err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	return nil
}

// Start works the jobs this process has handlers for, until Stop. The leader among all started
// processes also rescues dead workers' jobs, schedules retries and enqueues the periodic runs.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return errors.New("queue: no handler: this process can enqueue, not work")
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("queue: start (has `versement worker --migrate` been run on this database?): %w", err)
	}
	q.log.Info("queue started", "driver", q.cfg.Driver, "workers", q.cfg.Workers, "deposit", q.cfg.Handlers.Deposit != nil,
		"run", q.cfg.Handlers.Run != nil, "periodic", len(q.cfg.Periodic), "job_timeout", q.cfg.JobTimeout.String(), "rescue_after", q.cfg.RescueAfter.String())
	return nil
}

// Stop stops fetching, lets the running jobs finish for StopGrace, then cancels them (their
// handlers return at a safe point; river records the error and the job is retried, by this
// process or another) and waits for them to return, at most until ctx ends. It closes the
// database; the Queue cannot be used after.
func (q *Queue) Stop(ctx context.Context) error {
	defer q.close()
	if !q.working {
		return nil
	}
	soft, cancel := context.WithTimeout(ctx, q.cfg.StopGrace)
	defer cancel()
	err := q.client.Stop(soft)
	if err == nil {
		q.log.Info("queue stopped: every running job finished")
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("queue: stop: %w", ctx.Err())
	}
	q.log.Warn("jobs still running after the grace period: cancelling them; they will be retried", "grace", q.cfg.StopGrace.String())
	if err := q.client.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	q.log.Info("queue stopped: running jobs cancelled at a safe point")
	return nil
}

// Close releases the database of a Queue that was never started.
func (q *Queue) Close() { q.close() }

// panicLogger logs a handler's panic with its job; river then retries the job as for an error.
type panicLogger struct{ log *slog.Logger }

func (p *panicLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	return nil // the worker has logged it already (outcome)
}

func (p *panicLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	p.log.Error("job panicked; it will be retried", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt, "panic", fmt.Sprint(v), "stack", trace)
	return nil
}
