package schedule

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in the scheduler's own registry, so that tests and several schedulers in one
// process do not collide in the global one.
type metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	dossiers    *prometheus.CounterVec
	sips        *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	failures    *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	lastRun     *prometheus.GaugeVec
	nextRun     *prometheus.GaugeVec
	running     *prometheus.GaugeVec
	missed      *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	reloads     *prometheus.CounterVec
	configOK    prometheus.Gauge
}

func newMetrics() *metrics {
	const ns, sub = "versement", "schedule"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "runs_total",
			Help: "Runs by job and outcome (ok, failed, skipped, interrupted)."}, []string{"job", "outcome"}),
		dossiers: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dossiers_total",
			Help: "Dossiers processed, by job and retention tier."}, []string{"job", "tier"}),
		sips: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "sips_total",
			Help: "SIPs produced and transferred, by job."}, []string{"job"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "Bytes of SIPs transferred, by job."}, []string{"job"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failures_total",
			Help: "Dossiers or SIPs that could not be archived, by job."}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "last_success_timestamp_seconds",
			Help: "Unix time at which the job's last successful run ended (0: never)."}, []string{"job"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "last_run_timestamp_seconds",
			Help: "Unix time at which the job's last run ended, whatever its outcome."}, []string{"job"}),
		nextRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "next_run_timestamp_seconds",
			Help: "Unix time of the job's next activation."}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "running",
			Help: "1 while a run of the job is in progress in this process."}, []string{"job"}),
		missed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "missed_runs",
			Help: "Activations missed while the scheduler was down, found at start."}, []string{"job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "run_duration_seconds",
			Help:    "Duration of runs (skipped ones excluded), by job.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}}, []string{"job"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "config_reloads_total",
			Help: "Reloads of the jobs file (SIGHUP), by result (ok, failed)."}, []string{"result"}),
		configOK: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "config_last_reload_ok",
			Help: "0 when the last reload of the jobs file was refused (the previous schedule is still running)."}),
	}
	m.configOK.Set(1)
	m.reg.MustRegister(m.runs, m.dossiers, m.sips, m.bytes, m.failures, m.lastSuccess, m.lastRun, m.nextRun,
		m.running, m.missed, m.duration, m.reloads, m.configOK,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// declare makes a job's series exist from the start (at 0), so that alerts such as
// "no success for 26h" work before the first run.
func (m *metrics) declare(job string) {
	for _, o := range []Outcome{OK, Failed, Skipped, Interrupted} {
		m.runs.WithLabelValues(job, string(o))
	}
	m.sips.WithLabelValues(job)
	m.bytes.WithLabelValues(job)
	m.failures.WithLabelValues(job)
	m.lastSuccess.WithLabelValues(job)
	m.running.WithLabelValues(job)
	m.missed.WithLabelValues(job)
}

func (m *metrics) record(job string, r Result) {
	m.runs.WithLabelValues(job, string(r.Outcome)).Inc()
	if r.Outcome == Skipped {
		return
	}
	// Counters panic on negative additions: a runner's bad count must not take the scheduler down.
	for tier, n := range r.Dossiers {
		m.dossiers.WithLabelValues(job, tier).Add(float64(max(n, 0)))
	}
	m.sips.WithLabelValues(job).Add(float64(max(r.SIPs, 0)))
	m.bytes.WithLabelValues(job).Add(float64(max(r.Bytes, 0)))
	m.failures.WithLabelValues(job).Add(float64(max(r.Failures, 0)))
	m.duration.WithLabelValues(job).Observe(r.Duration.Seconds())
	end := r.Start.Add(r.Duration)
	m.lastRun.WithLabelValues(job).Set(float64(end.UnixMilli()) / 1000)
	if r.Outcome == OK {
		m.lastSuccess.WithLabelValues(job).Set(float64(end.UnixMilli()) / 1000)
	}
}

// forget drops a job's series once a reload removed it, so that alerts on it (no success for a
// day) do not fire forever for a job that no longer exists.
func (m *metrics) forget(job string) {
	l := prometheus.Labels{"job": job}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.runs, m.dossiers, m.sips, m.bytes, m.failures, m.lastSuccess, m.lastRun, m.nextRun, m.running, m.missed, m.duration,
	} {
		v.DeletePartialMatch(l)
	}
}
