package nightly

import (
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Tiers a run reads dossiers into, and those it archives: their series exist from the start so
// that a rate over them is defined before the first dossier of a tier comes.
var (
	readTiers     = []string{"active", "intermediate", "final", "destroy", "held", "undetermined"}
	archivedTiers = []string{"intermediate", "final"}
)

// metrics live in the scheduler's own registry, so that tests and several schedulers in one
// process do not collide in the global one.
type metrics struct {
	// est: each job series carries an establishment label before its job label (a platform's
	// jobs); ests gives each job's establishment. A jobs file's series keep the labels they had.
	est            bool
	ests           map[string]string
	reg            *prometheus.Registry
	runs           *prometheus.CounterVec
	dossiersRead   *prometheus.CounterVec
	archived       *prometheus.CounterVec
	sips           *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	failedDossiers *prometheus.CounterVec
	failedSIPs     *prometheus.CounterVec
	lastSuccess    *prometheus.GaugeVec
	lastRun        *prometheus.GaugeVec
	nextRun        *prometheus.GaugeVec
	running        *prometheus.GaugeVec
	missed         *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	reloads        *prometheus.CounterVec
	configOK       prometheus.Gauge
	buildInfo      *prometheus.GaugeVec
}

func newMetrics(withEstablishment bool) *metrics {
	const ns, sub = "versement", "schedule"
	// labels are a job series' label names: the establishment's first when there is one.
	labels := func(names ...string) []string {
		if withEstablishment {
			return append([]string{"establishment"}, names...)
		}
		return names
	}
	m := &metrics{
		est:  withEstablishment,
		ests: map[string]string{},
		reg:  prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "runs_total",
			Help: "Runs by job and outcome (ok, failed, interrupted; skipped: a tick that found the job still running or locked)."}, labels("job", "outcome")),
		dossiersRead: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dossiers_read_total",
			Help: "Dossiers read from the source and decided, by job and tier; every run reads the whole source again, archived dossiers included."}, labels("job", "tier")),
		archived: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dossiers_archived_total",
			Help: "Dossiers newly archived (put in a SIP sent to the target), by job and tier."}, labels("job", "tier")),
		sips: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "sips_total",
			Help: "SIPs sent to the targets, by job."}, labels("job")),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "Bytes of SIPs sent to the targets, by job."}, labels("job")),
		failedDossiers: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failed_dossiers_total",
			Help: "Dossiers a run could not archive, as the runner reports them, by job (failed runs: runs_total{outcome=\"failed\"})."}, labels("job")),
		failedSIPs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failed_sips_total",
			Help: "SIPs written but not accepted by their target (refused or not sent), as the runner reports them, by job."}, labels("job")),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "last_success_timestamp_seconds",
			Help: "Unix time at which the job's last successful run ended (0: never)."}, labels("job")),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "last_run_timestamp_seconds",
			Help: "Unix time at which the job's last run ended, whatever its outcome (0: never)."}, labels("job")),
		nextRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "next_run_timestamp_seconds",
			Help: "Unix time of the job's next activation in this scheduler (absent with --once and once stopping)."}, labels("job")),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "running",
			Help: "1 while a run of the job is in progress in this process."}, labels("job")),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "missed_runs_total",
			Help: "Activations missed while the scheduler was down (after the last run's end), counted at start."}, labels("job")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "run_duration_seconds",
			Help:    "Duration of runs (skipped ones excluded), by job.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}}, labels("job")),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "config_reloads_total",
			Help: "Reloads of the jobs file (SIGHUP), by result (ok, failed)."}, []string{"result"}),
		configOK: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "config_last_reload_ok",
			Help: "0 when the last reload of the jobs file was refused (the previous schedule is still running)."}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
			Help: "Always 1; its labels say which build of versement is running."}, []string{"version", "revision", "goversion"}),
	}
	m.configOK.Set(1)
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("failed")
	m.buildInfo.WithLabelValues(buildVersion()).Set(1)
	m.reg.MustRegister(m.runs, m.dossiersRead, m.archived, m.sips, m.bytes, m.failedDossiers, m.failedSIPs,
		m.lastSuccess, m.lastRun, m.nextRun, m.running, m.missed, m.duration, m.reloads, m.configOK, m.buildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// buildVersion gives the build_info labels: the module version ("(devel)" for a build from a
// checkout), the VCS revision when the build recorded one, and the Go toolchain.
func buildVersion() (version, revision, goVersion string) {
	version, goVersion = "(devel)", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, revision, goVersion
	}
	goVersion = bi.GoVersion
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return version, revision, goVersion
}

// declare makes a job's series exist from the start, so that alerts such as "no success for 26h"
// or "a failed run today" work before the first run. st is the job's state on record: the
// timestamps survive restarts.
func (m *metrics) declare(job string, st jobState) {
	for _, o := range []Outcome{OK, Failed, Skipped, Interrupted} {
		m.runs.WithLabelValues(m.lv(job, string(o))...)
	}
	for _, t := range readTiers {
		m.dossiersRead.WithLabelValues(m.lv(job, t)...)
	}
	for _, t := range archivedTiers {
		m.archived.WithLabelValues(m.lv(job, t)...)
	}
	m.sips.WithLabelValues(m.lv(job)...)
	m.bytes.WithLabelValues(m.lv(job)...)
	m.failedDossiers.WithLabelValues(m.lv(job)...)
	m.failedSIPs.WithLabelValues(m.lv(job)...)
	m.lastSuccess.WithLabelValues(m.lv(job)...).Set(unixSeconds(st.LastSuccess))
	m.lastRun.WithLabelValues(m.lv(job)...).Set(unixSeconds(st.LastEnd))
	m.running.WithLabelValues(m.lv(job)...)
	m.missed.WithLabelValues(m.lv(job)...)
	m.duration.WithLabelValues(m.lv(job)...)
}

// unixSeconds is t for a timestamp gauge; the zero time ("never") is 0, as the helps say.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func (m *metrics) record(job string, r Result) {
	m.runs.WithLabelValues(m.lv(job, string(r.Outcome))...).Inc()
	if r.Outcome == Skipped {
		return
	}
	// Counters panic on negative additions: a runner's bad count must not take the scheduler down.
	for tier, n := range r.Dossiers {
		m.dossiersRead.WithLabelValues(m.lv(job, tier)...).Add(float64(max(n, 0)))
	}
	for tier, n := range r.Archived {
		m.archived.WithLabelValues(m.lv(job, tier)...).Add(float64(max(n, 0)))
	}
	m.sips.WithLabelValues(m.lv(job)...).Add(float64(max(r.SIPs, 0)))
	m.bytes.WithLabelValues(m.lv(job)...).Add(float64(max(r.Bytes, 0)))
	m.failedDossiers.WithLabelValues(m.lv(job)...).Add(float64(max(r.FailedDossiers, 0)))
	m.failedSIPs.WithLabelValues(m.lv(job)...).Add(float64(max(r.FailedSIPs, 0)))
	m.duration.WithLabelValues(m.lv(job)...).Observe(r.Duration.Seconds())
	end := r.Start.Add(r.Duration)
	m.lastRun.WithLabelValues(m.lv(job)...).Set(unixSeconds(end))
	if r.Outcome == OK {
		m.lastSuccess.WithLabelValues(m.lv(job)...).Set(unixSeconds(end))
	}
}

// learn records the establishment of each of cfg's jobs, before any of their series is made.
func (m *metrics) learn(cfg *Config) {
	for _, j := range cfg.Jobs {
		m.ests[j.Name] = j.Establishment
	}
}

// lv are the label values of a job's series: its establishment (on a platform), its name, then rest.
func (m *metrics) lv(job string, rest ...string) []string {
	if m.est {
		return append([]string{m.ests[job], job}, rest...)
	}
	return append([]string{job}, rest...)
}

// forget drops a job's series once a reload removed it, so that alerts on it (no success for a
// day) do not fire forever for a job that no longer exists.
func (m *metrics) forget(job string) {
	l := prometheus.Labels{"job": job}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.runs, m.dossiersRead, m.archived, m.sips, m.bytes, m.failedDossiers, m.failedSIPs,
		m.lastSuccess, m.lastRun, m.nextRun, m.running, m.missed, m.duration,
	} {
		v.DeletePartialMatch(l)
	}
}
