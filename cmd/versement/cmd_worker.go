package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/job"
	"github.com/versement/versement/jobs"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/platform"
)

// defaultEstablishment names the one establishment of a jobs file (a single-machine install).
const defaultEstablishment = "default"

func init() {
	register(&cli.Command{
		Name:  "worker",
		Usage: "work the durable queue: deposits and nightly runs, on one machine (SQLite) or many (PostgreSQL)",
		Description: "Claims jobs from the queue (riverqueue/river) and works them: the runs of the jobs file's jobs,\n" +
			"exactly as `versement schedule` runs them (same lock, state and ledger). Any number of workers,\n" +
			"on any number of machines, may share a PostgreSQL queue (--queue postgres, the connection\n" +
			"string from --queue-dsn-env or --queue-dsn-file, never a flag) and the state folder: a job\n" +
			"whose worker died is given to another after --rescue-after. With --periodic the jobs' cron\n" +
			"specs enqueue their runs, once per tick whichever worker is the elected leader. A failed job is\n" +
			"retried with backoff, then discarded: --failed lists those. SIGTERM or SIGINT: running jobs get\n" +
			"--stop-grace to finish, then stop at a safe point and are retried. Serves /livez, /readyz and\n" +
			"/metrics (jobs by kind, establishment and outcome) on --listen. See docs/workers.md.",
		Flags: append(queueFlags(), []cli.Flag{
			&cli.IntFlag{Name: "workers", Value: jobs.DefaultWorkers, Usage: "jobs of each kind worked at once by this process"},
			&cli.BoolFlag{Name: "migrate", Usage: "create or upgrade the queue's tables and exit (once per database and version, before the new workers start; a SQLite queue is migrated at every start)"},
			&cli.StringFlag{Name: "jobs", Usage: "the jobs file whose jobs the run jobs name (as `versement schedule`)", EnvVars: []string{"VERSEMENT_JOBS"}},
			&cli.StringFlag{Name: "platform", Usage: "the platform file: every establishment's jobs, instead of --jobs (as `versement schedule --platform`)", EnvVars: []string{"VERSEMENT_PLATFORM"}},
			&cli.StringFlag{Name: "establishment", Value: defaultEstablishment, Usage: "the establishment the jobs file's jobs belong to in the queue (a platform's jobs name theirs)"},
			&cli.BoolFlag{Name: "periodic", Usage: "enqueue the jobs on their cron specs (by the leader among the workers)"},
			&cli.StringFlag{Name: "state-dir", Usage: "locks, last runs and the jobs' state, shared by the workers (default: the jobs file's state_dir or the platform's state_root, else " + defaultStateDir + ")",
				EnvVars: []string{"VERSEMENT_STATE_DIR", "STATE_DIRECTORY"}},
			&cli.DurationFlag{Name: "job-timeout", Value: jobs.DefaultJobTimeout, Usage: "a job running longer is cancelled (at a safe point) and retried"},
			&cli.DurationFlag{Name: "rescue-after", Usage: "a job running longer is taken for dead and given to another worker (default: --job-timeout + 15m)"},
			&cli.IntFlag{Name: "max-attempts", Value: jobs.DefaultMaxAttempts, Usage: "attempts of a job before it is discarded"},
			&cli.DurationFlag{Name: "busy-retry", Value: jobs.DefaultBusyDelay, Usage: "how soon a job waiting for another job of its establishment (or for its own lock) is tried again; waiting uses up no attempt"},
			&cli.DurationFlag{Name: "stop-grace", Value: jobs.DefaultStopGrace, Usage: "at SIGTERM, how long running jobs may go on before they are stopped"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9465", Usage: "address of /livez, /readyz and /metrics; empty to disable"},
			&cli.StringFlag{Name: "enqueue", Usage: "enqueue a run of this job now (--as-of, default its as_of) and exit"},
			&cli.StringFlag{Name: "as-of", Usage: "with --enqueue: decide as of this date (YYYY-MM-DD)"},
			&cli.BoolFlag{Name: "failed", Usage: "list the jobs discarded or cancelled (most recent first) and exit: 0 none, 1 some"},
		}...),
		Action: func(c *cli.Context) error {
			o, err := workerOptionsFrom(c)
			if err != nil {
				return cli.Exit("worker: "+err.Error(), exitError)
			}
			w, release, err := platformWiring(c)
			if err != nil {
				return cli.Exit("worker: "+err.Error(), exitError)
			}
			defer release()
			return runWorker(c.Context, c, o, w)
		},
	})
}

// workerOptions are the worker's flags, checked.
type workerOptions struct {
	Driver, DSN   string // DSN: the SQLite path, or the PostgreSQL connection string read from its SecretRef
	Workers       int
	Migrate       bool
	Jobs          *nightly.Config // from --jobs or --platform; nil: neither
	NewRunner     func(*nightly.Config) (nightly.Runner, error)
	Establishment string
	Periodic      bool
	StateDir      string
	JobTimeout    time.Duration
	RescueAfter   time.Duration
	MaxAttempts   int
	StopGrace     time.Duration
	BusyRetry     time.Duration
	Listen        string
	Enqueue       string
	AsOf          civil.Date
	Failed        bool
}

func workerOptionsFrom(c *cli.Context) (workerOptions, error) {
	o := workerOptions{Workers: c.Int("workers"), Migrate: c.Bool("migrate"), Establishment: c.String("establishment"),
		Periodic: c.Bool("periodic"), JobTimeout: c.Duration("job-timeout"), RescueAfter: c.Duration("rescue-after"),
		MaxAttempts: c.Int("max-attempts"), StopGrace: c.Duration("stop-grace"), BusyRetry: c.Duration("busy-retry"), Listen: c.String("listen"),
		Enqueue: c.String("enqueue"), Failed: c.Bool("failed")}
	path, load := c.String("jobs"), nightly.LoadConfig
	o.NewRunner = newRunner
	switch {
	case path != "" && c.String("platform") != "":
		return o, errors.New("give --jobs or --platform, not both: a platform file holds its establishments' jobs")
	case c.String("platform") != "":
		path, load, o.NewRunner = c.String("platform"), platform.LoadNightly, newPlatformRunner
	}
	if path != "" {
		cfg, err := load(path)
		if err != nil {
			return o, err
		}
		o.Jobs = cfg
	}
	o.StateDir = defaultStateDir
	switch {
	case c.String("state-dir") != "":
		o.StateDir = strings.SplitN(c.String("state-dir"), ":", 2)[0] // systemd's StateDirectory= may list several
	case o.Jobs != nil && o.Jobs.StateDir != "":
		o.StateDir = o.Jobs.StateDir
	}
	if (o.Periodic || o.Enqueue != "") && o.Jobs == nil {
		return o, errors.New("--periodic and --enqueue need --jobs or --platform: the file names the jobs")
	}
	if o.Enqueue != "" && o.Jobs.Job(o.Enqueue) == nil {
		return o, fmt.Errorf("--enqueue %s: no such job in %s", o.Enqueue, o.Jobs.File)
	}
	if s := c.String("as-of"); s != "" {
		d, err := civil.Parse(s)
		if err != nil {
			return o, fmt.Errorf("--as-of %q: want a date YYYY-MM-DD", s)
		}
		o.AsOf = d
	}
	var err error
	o.Driver, o.DSN, err = queueFrom(c, o.StateDir)
	return o, err
}

// queueFlags are the flags naming the queue, the worker's and serve's alike.
func queueFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "queue", Usage: "postgres (shared by several machines), or sqlite:PATH (default: sqlite:STATE_DIR/queue.db)", EnvVars: []string{"VERSEMENT_QUEUE"}},
		&cli.StringFlag{Name: "queue-dsn-env", Usage: "--queue postgres: the environment variable holding its connection string"},
		&cli.StringFlag{Name: "queue-dsn-file", Usage: "--queue postgres: the file holding its connection string (a mounted Secret)"},
	}
}

// queueFrom reads the queue's flags: its driver and connection string (a SQLite path, or the
// PostgreSQL string read from the variable or file the flags name, never a flag's value).
func queueFrom(c *cli.Context, stateDir string) (driver, dsn string, err error) {
	q := c.String("queue")
	ref := nightly.SecretRef{Env: c.String("queue-dsn-env"), File: c.String("queue-dsn-file")}
	switch {
	case q == "postgres":
		if (ref.Env == "") == (ref.File == "") {
			return "", "", errors.New("--queue postgres: give its connection string by --queue-dsn-env VAR or --queue-dsn-file FILE (exactly one)")
		}
		dsn, err := ref.Read()
		if err != nil {
			return "", "", fmt.Errorf("--queue postgres: %w", err)
		}
		return jobs.Postgres, dsn, nil
	case strings.Contains(q, "://") || strings.HasPrefix(q, "host="):
		// Do not echo it: it probably holds the password.
		return "", "", errors.New("--queue: a connection string is never given on the command line (it would show in ps and shell history): write --queue postgres and --queue-dsn-env VAR or --queue-dsn-file FILE")
	case q == "" || strings.HasPrefix(q, "sqlite:"):
		if ref != (nightly.SecretRef{}) {
			return "", "", errors.New("--queue-dsn-env and --queue-dsn-file are for --queue postgres")
		}
		dsn := strings.TrimPrefix(q, "sqlite:")
		if dsn == "" {
			dsn = filepath.Join(stateDir, "queue.db")
		}
		return jobs.SQLite, dsn, nil
	default:
		return "", "", fmt.Errorf("--queue %q: want postgres or sqlite:PATH", q)
	}
}

// depositProcessor is what a deposit job runs: an establishment's (*deposit.Service).Process.
type depositProcessor interface {
	Process(ctx context.Context, txID string) error
}

// workerWiring is the seam where the platform plugs in each establishment's deposit service
// (Deposits; while it is empty this process fetches no deposit job). The jobs the run jobs name
// come from --jobs or --platform.
type workerWiring struct {
	Deposits map[string]depositProcessor // by establishment id
}

// platformWiring gives a platform's workers each establishment's deposit service, processed under
// the establishment's lock; without --platform there is none, and no deposit job is fetched.
func platformWiring(c *cli.Context) (workerWiring, func(), error) {
	path := c.String("platform")
	if path == "" || c.Bool("migrate") || c.Bool("failed") || c.String("enqueue") != "" {
		return workerWiring{}, func() {}, nil
	}
	pf, err := platform.Load(path)
	if err != nil {
		return workerWiring{}, nil, err
	}
	services, failed := openDeposits(c.Context, pf, nil, "", slog.Default().With("component", "deposit"))
	w := workerWiring{Deposits: map[string]depositProcessor{}}
	for id, s := range services {
		e, _ := pf.Establishment(id)
		w.Deposits[id] = lockedProcessor{est: e, s: s}
	}
	// Its jobs fail and are retried with backoff: the establishment may be repaired meanwhile.
	for id, err := range failed {
		w.Deposits[id] = unavailableDeposits{err}
	}
	return w, services.Release, nil
}

// runWorker opens the queue and works it until ctx is cancelled (SIGTERM, SIGINT).
func runWorker(ctx context.Context, c *cli.Context, o workerOptions, w workerWiring) error {
	log := slog.Default().With("component", "worker")
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := jobs.Config{Metrics: reg, Driver: o.Driver, DSN: o.DSN, Workers: o.Workers, JobTimeout: o.JobTimeout, RescueAfter: o.RescueAfter,
		MaxAttempts: o.MaxAttempts, StopGrace: o.StopGrace, BusyDelay: o.BusyRetry, Log: log}
	listing := o.Failed || o.Enqueue != ""
	if !listing {
		if len(w.Deposits) > 0 {
			cfg.Handlers.Deposit = depositHandler(w.Deposits)
		}
		if o.Jobs != nil {
			cfg.Handlers.Run = runHandler(o.Jobs, o.Establishment, o.NewRunner, o.StateDir, log)
		}
		if o.Periodic {
			cfg.Periodic = periodicRuns(o.Jobs, o.Establishment)
		}
	}
	q, err := jobs.Open(ctx, cfg)
	if err != nil {
		return cli.Exit("worker: "+err.Error(), exitError)
	}
	// A SQLite queue is this machine's own file: creating its tables needs no one's decision. A
	// shared PostgreSQL schema is upgraded when the operator says so (--migrate, once per version).
	if o.Migrate || o.Driver == jobs.SQLite {
		if err := q.Migrate(ctx); err != nil {
			q.Close()
			return cli.Exit("worker: "+err.Error(), exitError)
		}
	}
	if o.Migrate {
		q.Close()
		log.Info("the queue's tables are up to date", "driver", o.Driver)
		return nil
	}
	switch {
	case o.Failed:
		defer q.Close()
		return printFailed(ctx, c, q)
	case o.Enqueue != "":
		defer q.Close()
		j := o.Jobs.Job(o.Enqueue)
		asOf := o.AsOf
		if asOf.IsZero() {
			asOf = j.AsOf.Resolve(time.Now(), j.Location)
		}
		if err := q.EnqueueRun(ctx, establishmentOf(j, o.Establishment), j.Name, asOf); err != nil {
			return cli.Exit("worker: "+err.Error(), exitError)
		}
		return nil
	case cfg.Handlers.Deposit == nil && cfg.Handlers.Run == nil:
		q.Close()
		return cli.Exit("worker: nothing to work: give --jobs or --platform", exitError)
	}
	// Not ctx itself: its cancellation (the signal) would start river's own stop, with no grace
	// limit; Stop below gives the running jobs --stop-grace, then cancels them.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		q.Close()
		return cli.Exit("worker: "+err.Error(), exitError)
	}
	var srv *http.Server
	if o.Listen != "" {
		if srv, err = serveHTTP(o.Listen, workerHealth(q, reg)); err != nil {
			_ = q.Stop(context.Background())
			return cli.Exit(err.Error(), exitError)
		}
	}
	<-ctx.Done()
	log.Info("stopping: running jobs get the grace period to finish", "reason", context.Cause(ctx).Error(), "grace", o.StopGrace.String())
	// Past the grace, cancelled jobs need a moment to reach their safe point and be recorded.
	sctx, cancel := context.WithTimeout(context.Background(), o.StopGrace+time.Minute)
	defer cancel()
	err = q.Stop(sctx)
	if srv != nil {
		_ = srv.Shutdown(sctx)
	}
	if err != nil {
		return cli.Exit("worker: "+err.Error(), exitError)
	}
	log.Info("worker stopped")
	return nil
}

// depositHandler runs a deposit job on its establishment's service.
func depositHandler(services map[string]depositProcessor) func(context.Context, string, string) error {
	return func(ctx context.Context, est, tx string) error {
		s, ok := services[est]
		if !ok {
			return jobs.Permanent(fmt.Errorf("establishment %q has no deposit service here", est))
		}
		return s.Process(ctx, tx)
	}
}

// establishmentOf is the establishment a job belongs to in the queue: a platform's job names its
// own; a jobs file's belongs to --establishment.
func establishmentOf(j *nightly.Job, dflt string) string {
	if j.Establishment != "" {
		return j.Establishment
	}
	return dflt
}

// runHandler runs a run job as `versement schedule --once` runs a job (nightly.Scheduler.RunNow:
// the job's lock, its state in the shared state folder, its notification; the same runner,
// newRunner or newPlatformRunner), deciding at the job's as-of date rather than the policy's
// today: a run rescued after midnight decides as the run that was enqueued.
func runHandler(cfg *nightly.Config, dflt string, mk func(*nightly.Config) (nightly.Runner, error), stateDir string, log *slog.Logger) func(context.Context, string, string, civil.Date) error {
	return func(ctx context.Context, est, name string, asOf civil.Date) error {
		j := cfg.Job(name)
		if j == nil || establishmentOf(j, dflt) != est {
			return jobs.Permanent(fmt.Errorf("establishment %q has no job %q here (%s)", est, name, cfg.File))
		}
		// A platform's jobs of one establishment share its state and ledger, which one process
		// at a time may hold: the jobs of an establishment take turns across all the workers.
		if j.Establishment != "" && j.Dir != "" {
			if err := os.MkdirAll(j.Dir, 0o750); err != nil {
				return fmt.Errorf("job %s: %w", name, err)
			}
			lock, err := nightly.TryLock(filepath.Join(j.Dir, "establishment.lock"))
			if errors.Is(err, nightly.ErrLocked) {
				return jobs.Busy(fmt.Errorf("another job of establishment %s is running: %w", est, err))
			}
			if err != nil {
				return fmt.Errorf("job %s: %w", name, err)
			}
			defer lock.Unlock()
		}
		run := *j
		run.AsOf = nightly.AsOfPolicy{Fixed: asOf}
		one := *cfg
		one.Jobs = []*nightly.Job{&run}
		runner, err := mk(&one)
		if err != nil {
			return jobs.Permanent(err)
		}
		jl := log
		if j.Establishment == "" { // a platform's scheduler logs its jobs' establishment itself
			jl = log.With("establishment", est)
		}
		s, err := nightly.New(&one, runner, nightly.Options{StateDir: stateDir, Only: name, Logger: jl})
		if err != nil {
			return fmt.Errorf("job %s: %w", name, err)
		}
		res, err := s.RunNow(ctx, name)
		s.Stop()
		switch {
		case err == nil:
			return nil
		case res.Outcome == nightly.Skipped && errors.Is(err, nightly.ErrLocked):
			// Another process runs this job: a run rescued while its first worker still works
			// (longer than --rescue-after), or `versement schedule` on the same state. Wait.
			return jobs.Busy(err)
		case res.Outcome == nightly.Failed && badJob(err):
			return jobs.Permanent(err) // the jobs file is wrong: retrying cannot help
		default:
			// Interrupted (stop, timeout) or failed: tried again later, resuming.
			return err
		}
	}
}

// badJob says whether a run failed on a value of its job (job.Build's refusal), not on an I/O
// error job.Run wraps in the same type (an elimination file that could not be written).
func badJob(err error) bool {
	var fe *job.FieldError
	if !errors.As(err, &fe) {
		return false
	}
	return fe.Err == nil || errors.Is(fe.Err, job.ErrNoSource) || errors.Is(fe.Err, job.ErrNoTarget)
}

// periodicRuns are the jobs' cron specs as periodic runs, each deciding at its as_of policy.
func periodicRuns(cfg *nightly.Config, dflt string) []jobs.Periodic {
	var out []jobs.Periodic
	for _, j := range cfg.Jobs {
		pol, loc := j.AsOf, j.Location
		out = append(out, jobs.Periodic{Establishment: establishmentOf(j, dflt), Job: j.Name, Schedule: j.Schedule,
			AsOf: func(t time.Time) civil.Date { return pol.Resolve(t, loc) }})
	}
	return out
}

// workerHealth serves /livez (the process answers: a liveness probe that a database outage must
// not turn into restarts) and /readyz (the queue's database answers).
func workerHealth(q *jobs.Queue, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	// The jobs this worker ran, by kind, establishment and outcome, and their durations.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := q.Ping(ctx); err != nil {
			http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func printFailed(ctx context.Context, c *cli.Context, q *jobs.Queue) error {
	failed, err := q.Failed(ctx, 0)
	if err != nil {
		return cli.Exit("worker: "+err.Error(), exitError)
	}
	if len(failed) == 0 {
		fmt.Fprintln(c.App.Writer, "no failed jobs")
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tSTATE\tESTABLISHMENT\tWHAT\tATTEMPTS\tFINALIZED\tERROR")
	for _, f := range failed {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.ID, f.Kind, f.State, f.Establishment, f.What, f.Attempts,
			f.FinalizedAt.UTC().Format(time.RFC3339), strings.ReplaceAll(f.Error, "\n", " "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return cli.Exit("", exitFindings)
}
