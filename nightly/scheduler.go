package nightly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	_ "time/tzdata" // time zones even on hosts and images without /usr/share/zoneinfo
)

// Options configures a Scheduler.
type Options struct {
	// StateDir holds, per job, the lock file, the last start/success and a work directory for the
	// runner's checkpoints. It must be on a local file system (flock) and survive restarts.
	StateDir string
	Logger   *slog.Logger // default slog.Default()
	// HTTPClient sends the webhook notifications; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Only, when set, is the one job this scheduler is made to run (--once): the other jobs'
	// missed runs are neither logged nor counted, since this process does not run them.
	Only string
	// Load reads the configuration again on ReloadFile (SIGHUP); nil: LoadConfig, a jobs file.
	// A platform file gives its own.
	Load func(path string) (*Config, error)
}

// Scheduler fires the jobs of a Config on their cron schedules and runs them through a Runner.
type Scheduler struct {
	runner  Runner
	dir     string
	log     *slog.Logger
	client  *http.Client
	metrics *metrics
	only    string
	load    func(string) (*Config, error)

	mu sync.Mutex
	// cron lives as long as the scheduler: a reload adds and removes entries instead of making a
	// new cron, so that the jobs it leaves alone keep their next activation (an @every timer
	// restarted at each reload would never fire under frequent reloads).
	cron      *cron.Cron
	entries   map[string]entry // by job name
	started   bool
	cfg       *Config
	slots     map[string]*slot // by job name; kept across reloads so a reloaded job cannot overlap its running self
	ctx       context.Context  // parent of every run's context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopping  bool
	loadedAt  time.Time
	reloadErr string
	// groups serialise the runs of one establishment's jobs in this process (a channel of one
	// token each, by establishment): they share its state folder and ledger, which one run at a
	// time may write. Guarded by mu.
	groups map[string]chan struct{}
}

// entry is a job's place in the cron, with what it was scheduled from: a reload keeps it when
// the job's spec and time zone are the same.
type entry struct {
	id           cron.EntryID
	spec, zoneID string
}

// slot is one job's runtime state.
type slot struct {
	busy    sync.Mutex // held during a run: TryLock failing means "still running"
	st      jobState   // guarded by Scheduler.mu
	running time.Time  // start of the run in progress, zero when idle; guarded by Scheduler.mu
	last    *Result    // guarded by Scheduler.mu
	missed  Missed
}

// New prepares a scheduler for cfg: it creates the state dir, reads each job's state and reports
// (logs, /healthz, the missed_runs_total metric) the activations missed since the last run on
// record. Nothing runs before Start.
func New(cfg *Config, runner Runner, opts Options) (*Scheduler, error) {
	if opts.StateDir == "" {
		return nil, errors.New("schedule: no state dir")
	}
	if err := os.MkdirAll(opts.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	s := &Scheduler{
		runner:   runner,
		dir:      opts.StateDir,
		log:      opts.Logger,
		client:   opts.HTTPClient,
		metrics:  newMetrics(cfg.Establishments),
		only:     opts.Only,
		load:     opts.Load,
		groups:   map[string]chan struct{}{},
		entries:  map[string]entry{},
		slots:    map[string]*slot{},
		cfg:      cfg,
		loadedAt: time.Now(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.load == nil {
		s.load = LoadConfig
	}
	s.metrics.learn(cfg)
	s.cron = cron.New(cron.WithLogger(cronLogger{s.log}))
	if err := s.addSlots(cfg, time.Now()); err != nil {
		return nil, err
	}
	for _, j := range cfg.Jobs {
		s.metrics.declare(j.Name, s.slots[j.Name].st)
		s.schedule(j)
	}
	return s, nil
}

// jobDir is where a job's lock, state and work folder are: its own Dir (a platform's
// establishment), else the scheduler's.
func (s *Scheduler) jobDir(j *Job) string {
	if j.Dir != "" {
		return j.Dir
	}
	return s.dir
}

// logAttrs are the job's name, and its establishment when it has one.
func logAttrs(j *Job) []any {
	if j.Establishment != "" {
		return []any{"job", j.Name, "establishment", j.Establishment}
	}
	return []any{"job", j.Name}
}

// addSlots creates the slots of cfg's new jobs, reading their state and reporting missed runs.
func (s *Scheduler) addSlots(cfg *Config, now time.Time) error {
	for _, j := range cfg.Jobs {
		if _, ok := s.slots[j.Name]; ok {
			continue
		}
		sl, err := s.loadSlot(j, now)
		if err != nil {
			return err
		}
		s.slots[j.Name] = sl
	}
	return nil
}

// loadSlot reads a job's state and finds what it missed. A last run that never recorded its end
// is either still going in another process (which holds the job's lock) or died with its
// process: the lock tells which. The state is read again under the lock, since the other run may
// have ended in between; the lock is only probed then, so as not to make another process's run
// that starts at that instant skip for nothing.
func (s *Scheduler) loadSlot(j *Job, now time.Time) (*slot, error) {
	dir := s.jobDir(j)
	if j.Dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("job %s: state dir: %w", j.Name, err)
		}
	}
	st, err := loadState(dir, j.Name)
	if err != nil {
		return nil, fmt.Errorf("job %s: state: %w", j.Name, err)
	}
	if s.only != "" && j.Name != s.only {
		return &slot{st: st, missed: Missed{Job: j.Name, Since: st.LastStart}}, nil
	}
	var lerr error
	if st.LastEnd.Before(st.LastStart) {
		var lock *Lock
		if lock, lerr = TryLock(lockPath(dir, j.Name)); lerr == nil {
			st, err = loadState(dir, j.Name)
			_ = lock.Unlock()
			if err != nil {
				return nil, fmt.Errorf("job %s: state: %w", j.Name, err)
			}
		}
	}
	sl := &slot{st: st}
	if errors.Is(lerr, ErrLocked) {
		// Its activations are the other process's business, not missed ones.
		sl.missed = Missed{Job: j.Name, Since: st.LastStart}
		s.log.Info("the job is running in another process", "job", j.Name, "started", st.LastStart, "lock", lerr.Error())
		return sl, nil
	}
	sl.missed = missed(j.Name, j.Schedule, st, now)
	s.metrics.missed.WithLabelValues(s.metrics.lv(j.Name)...).Add(float64(sl.missed.Count))
	if sl.missed.Unfinished {
		s.log.Warn("the job's last run never finished (the process died or the machine went down); the next run resumes from its checkpoint",
			"job", j.Name, "started", st.LastStart)
	}
	switch {
	case sl.missed.Count == 0:
	case j.Name == s.only:
		s.log.Info("catching up: activations missed since the job's last run", "job", j.Name,
			"missed", sl.missed.Count, "first", sl.missed.First, "last", sl.missed.Last)
	default:
		flag := "--jobs"
		if j.Establishment != "" {
			flag = "--platform"
		}
		s.log.Warn("runs missed while the scheduler was down; catch up with: versement schedule "+flag+" FILE --once "+j.Name,
			"job", j.Name, "missed", sl.missed.Count, "first", sl.missed.First, "last", sl.missed.Last, "last_start", st.LastStart)
	}
	return sl, nil
}

// schedule puts j in the cron; s.mu is held (or s is not shared yet).
func (s *Scheduler) schedule(j *Job) {
	name := j.Name
	id := s.cron.Schedule(j.Schedule, cron.FuncJob(func() { s.fire(name) }))
	s.entries[name] = entry{id: id, spec: j.Spec, zoneID: j.Timezone}
}

// nextRuns gives each scheduled job's next activation, as the cron will fire it (for an @every
// job, relative to when its timer started, not to now); none before Start or once stopping.
// s.mu is held.
func (s *Scheduler) nextRuns() map[string]time.Time {
	out := map[string]time.Time{}
	if !s.started || s.stopping {
		return out
	}
	byID := map[cron.EntryID]time.Time{}
	for _, e := range s.cron.Entries() {
		byID[e.ID] = e.Next
	}
	for name, e := range s.entries {
		if t := byID[e.id]; !t.IsZero() {
			out[name] = t
		}
	}
	return out
}

// Missed returns the missed-run report made when each job was first loaded.
func (s *Scheduler) Missed() []Missed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Missed
	for _, j := range s.cfg.Jobs {
		out = append(out, s.slots[j.Name].missed)
	}
	return out
}

// Start fires the jobs on their schedules until Stop. Runs get contexts derived from ctx.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopping {
		return
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.cron.Start()
	s.started = true
	next := s.nextRuns()
	for _, j := range s.cfg.Jobs {
		s.log.Info("job scheduled", "job", j.Name, "cron", j.Spec, "timezone", j.Timezone, "next", next[j.Name])
	}
}

// fire is what cron calls at an activation.
func (s *Scheduler) fire(name string) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	job := s.cfg.Job(name)
	ctx := s.ctx
	if job == nil { // removed by a reload between the tick and now
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	_, _ = s.run(ctx, job)
}

// RunNow runs the named job at once, with the same guarantees as a scheduled run (no overlap,
// state, metrics, notification), and returns its result. For --once and catch-up.
func (s *Scheduler) RunNow(ctx context.Context, name string) (Result, error) {
	s.mu.Lock()
	job := s.cfg.Job(name)
	if s.stopping {
		s.mu.Unlock()
		return Result{}, errors.New("scheduler is stopping")
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	if job == nil {
		return Result{}, fmt.Errorf("no job %q in %s", name, s.cfg.File)
	}
	return s.run(ctx, job)
}

// run does one run of job, unless one is already going on here or in another process. The error
// is the runner's, or why the run was skipped.
func (s *Scheduler) run(ctx context.Context, job *Job) (Result, error) {
	sl := s.slot(job.Name)
	if !sl.busy.TryLock() {
		s.mu.Lock()
		since := sl.running
		s.mu.Unlock()
		s.log.Warn("run skipped: the previous run is still going", "job", job.Name, "running_since", since)
		r := Result{Outcome: Skipped, Start: time.Now(), Error: "previous run still running since " + since.Format(time.RFC3339)}
		s.recordRun(job.Name, r, false)
		return r, fmt.Errorf("job %s: %s", job.Name, r.Error)
	}
	defer sl.busy.Unlock()

	dir := s.jobDir(job)
	lock, err := TryLock(lockPath(dir, job.Name))
	if err != nil {
		r := Result{Outcome: Skipped, Start: time.Now(), Error: err.Error()}
		if errors.Is(err, ErrLocked) {
			s.log.Warn("run skipped: another process is running this job", "job", job.Name, "lock", err.Error())
		} else {
			r.Outcome = Failed
			s.log.Error("run failed: cannot take the job's lock", "job", job.Name, "err", err)
		}
		s.recordRun(job.Name, r, false)
		return r, fmt.Errorf("job %s: %w", job.Name, err)
	}
	defer lock.Unlock()

	// A tick of this job while it waits for its establishment says since when it waits.
	s.mu.Lock()
	sl.running = time.Now()
	s.mu.Unlock()
	if release, err := s.enterGroup(ctx, job); err != nil {
		s.mu.Lock()
		sl.running = time.Time{}
		s.mu.Unlock()
		r := Result{Outcome: Interrupted, Start: time.Now(), Error: err.Error()}
		s.recordRun(job.Name, r, false)
		return r, fmt.Errorf("job %s: %w", job.Name, err)
	} else {
		defer release()
	}

	start := time.Now()
	run := *job
	run.AsOfDate = job.AsOf.Resolve(start, job.Location)
	run.StateDir = workDir(dir, job.Name)
	run.Options = job.Options.Clone()
	s.mu.Lock()
	sl.running = start
	sl.st.LastStart = start
	st := sl.st
	if s.cfg.Job(job.Name) != nil { // not removed by a reload since the tick (see recordRun)
		s.metrics.running.WithLabelValues(s.metrics.lv(job.Name)...).Set(1)
	}
	s.mu.Unlock()
	// Recording the start before running is what lets the next start tell a run that died.
	if err := saveState(dir, job.Name, st); err != nil {
		s.log.Error("cannot record the run's start in the state dir", append(logAttrs(job), "err", err)...)
	}
	s.log.Info("run started", append(logAttrs(job), "profile", job.Options.Profile, "as_of", run.AsOfDate.String())...)

	var res Result
	if err = os.MkdirAll(run.StateDir, 0o750); err == nil {
		res, err = s.call(ctx, run)
	}
	if res.Start.IsZero() {
		res.Start = start
	}
	if res.Duration <= 0 {
		res.Duration = time.Since(start)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		res.Outcome = Interrupted
	case err != nil:
		res.Outcome = Failed
	case res.Outcome == "":
		res.Outcome = OK
	}
	if err != nil {
		res.Error = err.Error()
	}
	end := res.Start.Add(res.Duration)

	s.mu.Lock()
	sl.running = time.Time{}
	sl.st.LastEnd = end
	sl.st.LastOutcome = res.Outcome
	sl.st.LastError = res.Error
	if res.Outcome == OK {
		sl.st.LastSuccess = end
	}
	st = sl.st
	r := res
	sl.last = &r
	s.mu.Unlock()
	if serr := saveState(dir, job.Name, st); serr != nil {
		s.log.Error("cannot record the run's end in the state dir", append(logAttrs(job), "err", serr)...)
	}
	s.recordRun(job.Name, res, true)

	attrs := append(logAttrs(job), "outcome", res.Outcome, "duration", res.Duration.Round(time.Millisecond).String(),
		"dossiers", res.Dossiers, "sips", res.SIPs, "bytes", res.Bytes, "failures", res.Failures)
	switch res.Outcome {
	case OK:
		s.log.Info("run finished", attrs...)
	case Interrupted:
		s.log.Warn("run interrupted at a safe point; the next run resumes", append(attrs, "err", res.Error)...)
	default:
		s.log.Error("run failed", append(attrs, "err", res.Error)...)
	}
	if job.Notify != nil {
		s.notify(job, run.AsOfDate.String(), res)
	}
	if err != nil {
		return res, fmt.Errorf("job %s: %w", job.Name, err)
	}
	return res, nil
}

// recordRun puts a finished (or skipped) run in the metrics, unless a reload removed its job while
// it ran: Reload has forgotten the job's series, and recording would bring them back for good.
// Holding s.mu orders this after or before Reload's forget, never between. Only the end of the
// run itself (ended) clears the running gauge: a tick skipped because that run is still going
// must leave it at 1.
func (s *Scheduler) recordRun(name string, r Result, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Job(name) == nil {
		return
	}
	if ended {
		s.metrics.running.WithLabelValues(s.metrics.lv(name)...).Set(0)
	}
	s.metrics.record(name, r)
}

// call runs the runner, turning a panic into a failed run: an unattended scheduler must survive
// one bad night of one job.
func (s *Scheduler) call(ctx context.Context, job Job) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("runner panicked", "job", job.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("runner panicked: %v", p)
		}
	}()
	return s.runner.Run(ctx, job)
}

func (s *Scheduler) slot(name string) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[name]
	if !ok { // a job reloaded in: addSlots made it; this is a safety net
		sl = &slot{}
		s.slots[name] = sl
	}
	return sl
}

// Reload replaces the schedule with cfg's. Runs in progress go on; a job keeps its
// no-overlap guarantee across the reload. A job whose cron spec and time zone are unchanged keeps
// its next activation (an @every timer goes on counting from when it started); a job whose spec
// or zone changed is scheduled afresh from now, as a new job is.
func (s *Scheduler) Reload(cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return errors.New("scheduler is stopping")
	}
	now := time.Now()
	s.metrics.learn(cfg)
	if err := s.addSlots(cfg, now); err != nil {
		return err
	}
	for _, j := range s.cfg.Jobs {
		if cfg.Job(j.Name) == nil {
			s.cron.Remove(s.entries[j.Name].id)
			delete(s.entries, j.Name)
			s.metrics.forget(j.Name)
			s.log.Info("job removed from the schedule", "job", j.Name, "running", !s.slots[j.Name].running.IsZero())
		}
	}
	var added []*Job
	changed := map[*Job]entry{}
	for _, j := range cfg.Jobs {
		e, ok := s.entries[j.Name]
		switch {
		case !ok:
			s.metrics.declare(j.Name, s.slots[j.Name].st)
			s.schedule(j)
			added = append(added, j)
		case e.spec != j.Spec || e.zoneID != j.Timezone:
			s.cron.Remove(e.id)
			s.schedule(j)
			changed[j] = e
		}
	}
	s.cfg = cfg
	s.loadedAt = now
	s.reloadErr = ""
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.metrics.configOK.Set(1)
	next := s.nextRuns()
	for _, j := range added {
		s.log.Info("job scheduled", "job", j.Name, "cron", j.Spec, "timezone", j.Timezone, "next", next[j.Name])
	}
	for _, j := range cfg.Jobs {
		if e, ok := changed[j]; ok {
			s.log.Info("job rescheduled from now: its cron spec or time zone changed", "job", j.Name,
				"old_cron", e.spec, "old_timezone", e.zoneID, "cron", j.Spec, "timezone", j.Timezone, "next", next[j.Name])
		}
	}
	s.log.Info("jobs file reloaded", "file", cfg.File, "jobs", len(cfg.Jobs),
		"added", len(added), "rescheduled", len(changed), "kept", len(cfg.Jobs)-len(added)-len(changed))
	return nil
}

// ReloadFile reads and validates the jobs file at path and, if it is valid, reloads it. If it is
// not, the current schedule stays in force and the error says why (it is also logged, and shown
// in /healthz and the config_last_reload_ok metric).
func (s *Scheduler) ReloadFile(path string) error {
	cfg, err := s.load(path)
	if err == nil {
		err = s.Reload(cfg)
		if err == nil {
			return nil
		}
	}
	s.mu.Lock()
	s.reloadErr = err.Error()
	s.mu.Unlock()
	s.metrics.reloads.WithLabelValues("failed").Inc()
	s.metrics.configOK.Set(0)
	s.log.Error("jobs file not reloaded; the previous schedule stays in force", "file", path, "err", err)
	return err
}

// Stop stops firing jobs, cancels the runs in progress (their runners stop at a safe point) and
// waits for them to return. Their state is saved before Stop returns.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopping = true
	if s.cron != nil {
		s.cron.Stop()
	}
	running := []string{}
	for name, sl := range s.slots {
		if !sl.running.IsZero() {
			running = append(running, name)
		}
	}
	cancel := s.cancel
	s.mu.Unlock()
	if len(running) > 0 {
		s.log.Info("stopping: waiting for runs in progress to reach a safe point", "jobs", running)
	}
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// cronLogger routes robfig/cron's messages to slog (it would print to stdout otherwise).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// enterGroup waits until no other job of j's establishment runs in this process, and returns
// what ends the wait's hold. A job without an establishment waits for nothing. The wait ends
// early, with an error, when ctx is cancelled (SIGTERM).
func (s *Scheduler) enterGroup(ctx context.Context, j *Job) (release func(), err error) {
	if j.Establishment == "" {
		return func() {}, nil
	}
	s.mu.Lock()
	g, ok := s.groups[j.Establishment]
	if !ok {
		g = make(chan struct{}, 1)
		s.groups[j.Establishment] = g
	}
	s.mu.Unlock()
	select {
	case g <- struct{}{}:
	default:
		s.log.Info("run waits for another job of its establishment to end", logAttrs(j)...)
		select {
		case g <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped while waiting for another job of establishment %s: %w", j.Establishment, context.Cause(ctx))
		}
	}
	return func() { <-g }, nil
}
