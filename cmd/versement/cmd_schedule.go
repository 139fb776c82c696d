package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/nightly"
	"github.com/versement/versement/platform"
)

// newRunner builds what one scheduled run does: the real pipeline (cmd_run_schedule.go). Tests
// replace it with fakes to prove the scheduling itself.
var newRunner = pipelineRunner

// defaultStateDir is where locks and the jobs' state go when neither the flag, the environment
// nor the jobs file says.
const defaultStateDir = "/var/lib/versement"

func init() {
	register(&cli.Command{
		Name:  "schedule",
		Usage: "run the jobs of a jobs file on their cron schedules (nightly runs)",
		Description: "Runs each job of the jobs file on its cron schedule, never two runs of one job at once\n" +
			"(a tick that comes while the previous run is still going is skipped and logged; a lock in\n" +
			"the state dir keeps other processes out). Runs missed while it was down are reported at start.\n" +
			"SIGTERM or SIGINT: stop at a safe point and exit 0. SIGHUP: reload the jobs file (kept as it\n" +
			"was if the new one is invalid; a job whose cron and timezone did not change keeps its next\n" +
			"run). Serves /healthz and /metrics (Prometheus) on --listen.\n" +
			"With --once JOB: run that job now and exit (0 ok, 2 failed or skipped, 130/143 interrupted by\n" +
			"SIGINT/SIGTERM: run it again to resume).\n" +
			"With --platform FILE instead of --jobs: every establishment's jobs (docs/platform.md), named\n" +
			"ESTABLISHMENT.JOB, each with its establishment's state folder and ledger; one establishment's\n" +
			"failure, lock or bad source never stops another's jobs, and the metrics carry an establishment label.\n" +
			"See docs/schedule.md for the jobs file.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "jobs", Usage: "the jobs file (YAML)", EnvVars: []string{"VERSEMENT_JOBS"}},
			&cli.StringFlag{Name: "platform", Usage: "the platform file (YAML): every establishment's jobs, instead of --jobs", EnvVars: []string{"VERSEMENT_PLATFORM"}},
			&cli.StringFlag{Name: "state-dir", Usage: "locks, last runs and the jobs' state (default: the jobs file's state_dir or the platform's state_root, else " + defaultStateDir + ")",
				EnvVars: []string{"VERSEMENT_STATE_DIR", "STATE_DIRECTORY"}},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9464", Usage: "address of /healthz and /metrics; empty to disable"},
			&cli.StringFlag{Name: "once", Usage: "run this job now and exit", Value: ""},
			&cli.BoolFlag{Name: "check", Usage: "validate the jobs (or platform) file, print each job's next runs and exit"},
		},
		Action: runSchedule,
	})
}

func runSchedule(c *cli.Context) error {
	path, load, mkRunner := c.String("jobs"), nightly.LoadConfig, newRunner
	switch {
	case path != "" && c.String("platform") != "":
		return cli.Exit("schedule: give --jobs or --platform, not both: a platform file holds its establishments' jobs", exitError)
	case c.String("platform") != "":
		path, load, mkRunner = c.String("platform"), platform.LoadNightly, newPlatformRunner
	case path == "":
		return cli.Exit("schedule: give the jobs file (--jobs FILE) or the platform file (--platform FILE)", exitError)
	}
	cfg, err := load(path)
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	if c.Bool("check") {
		return printCheck(c, cfg)
	}
	dir := stateDir(c, cfg)
	runner, err := mkRunner(cfg)
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	once := c.String("once")
	if once != "" && cfg.Job(once) == nil {
		var names []string
		for _, j := range cfg.Jobs {
			names = append(names, j.Name)
		}
		return cli.Exit(fmt.Sprintf("--once %s: no such job in %s (jobs: %s)", once, cfg.File, strings.Join(names, ", ")), exitError)
	}
	// With --once only that job is this process's business: the others' missed runs are not reported.
	s, err := nightly.New(cfg, runner, nightly.Options{StateDir: dir, Only: once, Load: load})
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	ctx := c.Context

	var srv *http.Server
	if addr := c.String("listen"); addr != "" && (once == "" || c.IsSet("listen")) {
		if srv, err = serveHTTP(addr, s.Handler()); err != nil {
			return cli.Exit(err.Error(), exitError)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}

	if once != "" {
		return runOnce(ctx, s, once)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	s.Start(ctx)
	slog.Info("scheduler started", "jobs", len(cfg.Jobs), "file", path, "platform", cfg.Establishments, "state_dir", dir, "listen", c.String("listen"), "pid", os.Getpid())
	for {
		select {
		case <-hup:
			slog.Info("SIGHUP: reloading the jobs file", "file", path, "platform", cfg.Establishments)
			_ = s.ReloadFile(path) // logged by the scheduler; the old schedule stays on failure
		case <-ctx.Done():
			// SIGTERM/SIGINT: main's context is cancelled, and with it the runs in progress.
			slog.Info("stopping", "reason", context.Cause(ctx))
			s.Stop()
			slog.Info("scheduler stopped")
			return nil
		}
	}
}

// runOnce runs one job now. A run cut short by SIGTERM exits non-zero too, so that a Kubernetes
// Job or a systemd timer retries it (the next run resumes from the job's state database).
func runOnce(ctx context.Context, s *nightly.Scheduler, name string) error {
	res, err := s.RunNow(ctx, name)
	s.Stop()
	switch {
	case err == nil:
		return nil
	case res.Outcome == nightly.Interrupted:
		return cli.Exit(fmt.Sprintf("job %s interrupted at a safe point; run it again to resume", name), exitError)
	case res.Outcome == nightly.Skipped:
		return cli.Exit(fmt.Sprintf("job %s not run: %v", name, errors.Unwrap(err)), exitError)
	default:
		return cli.Exit(err.Error(), exitError)
	}
}

func stateDir(c *cli.Context, cfg *nightly.Config) string {
	if d := c.String("state-dir"); d != "" {
		// systemd's StateDirectory= may list several directories, separated by colons.
		return strings.SplitN(d, ":", 2)[0]
	}
	if cfg.StateDir != "" {
		return cfg.StateDir
	}
	// A platform without state_root: its jobs keep their locks in their establishments' folders,
	// and the scheduler needs none of its own beyond them.
	if cfg.Establishments && len(cfg.Jobs) > 0 {
		return cfg.Jobs[0].Dir
	}
	return defaultStateDir
}

func serveHTTP(addr string, h http.Handler) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	if host, _, _ := net.SplitHostPort(addr); host == "" || !(host == "localhost" || net.ParseIP(host).IsLoopback()) {
		slog.Warn("serving /healthz and /metrics beyond loopback", "listen", addr)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http server", "err", err)
		}
	}()
	slog.Info("serving /healthz and /metrics", "addr", ln.Addr().String())
	return srv, nil
}

func printCheck(c *cli.Context, cfg *nightly.Config) error {
	if cfg.Establishments {
		return printPlatformCheck(c, cfg)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "JOB\tCRON\tTIME ZONE\tPROFILE\tSOURCE\tAS OF\tNEXT RUNS\n")
	now := time.Now()
	for _, j := range cfg.Jobs {
		var next []string
		t := now
		for range 3 {
			t = j.Schedule.Next(t)
			next = append(next, t.In(j.Location).Format("2006-01-02 15:04:05 MST"))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Name, j.Spec, j.Timezone, j.Options.Profile, j.Source, j.AsOf, strings.Join(next, ", "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: %d jobs, valid\n", filepath.Base(cfg.File), len(cfg.Jobs))
	return nil
}

// printPlatformCheck is --check of a platform file: every establishment's jobs with their
// establishment, state folder and next runs.
func printPlatformCheck(c *cli.Context, cfg *nightly.Config) error {
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "ESTABLISHMENT\tJOB\tCRON\tTIME ZONE\tPROFILE\tSOURCE\tSTATE\tNEXT RUNS\n")
	now := time.Now()
	for _, j := range cfg.Jobs {
		var next []string
		t := now
		for range 2 {
			t = j.Schedule.Next(t)
			next = append(next, t.In(j.Location).Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Establishment, j.Name, j.Spec, j.Timezone, filepath.Base(j.Options.Profile), j.Source, j.Options.State, strings.Join(next, ", "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// The establishments without jobs are valid too (deposit API only): count them from the file.
	pc, err := platform.Load(cfg.File)
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	fmt.Fprintf(c.App.Writer, "%s: %d establishments (%s), %d jobs, valid\n", filepath.Base(cfg.File), len(pc.IDs()), strings.Join(pc.IDs(), ", "), len(cfg.Jobs))
	return nil
}
