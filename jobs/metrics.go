package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a job, the outcome label of versement_jobs_total.
const (
	OutcomeDone      = "done"
	OutcomeBusy      = "busy"      // postponed: its establishment's lock was held
	OutcomeCancelled = "cancelled" // a permanent failure
	OutcomeRetry     = "retry"     // failed, to be retried
	OutcomeDiscarded = "discarded" // failed at its last attempt
)

// metrics are what ops graph and alert on: jobs by kind, establishment and outcome, and how
// long they took. A platform of many establishments watches one series per establishment.
type metrics struct {
	jobs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "versement", Subsystem: "queue", Name: "jobs_total",
			Help: "Jobs this worker ran, by kind (deposit, run), establishment and outcome (done, busy, retry, discarded, cancelled)."},
			[]string{"kind", "establishment", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "versement", Subsystem: "queue", Name: "job_duration_seconds",
			Help:    "How long this worker's jobs ran, by kind and establishment.",
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 10)}, // 0.1 s to about 7 h
			[]string{"kind", "establishment"}),
	}
	for _, c := range []prometheus.Collector{m.jobs, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(kind, est, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, est, outcome).Inc()
	if outcome != OutcomeBusy {
		m.duration.WithLabelValues(kind, est).Observe(took.Seconds())
	}
}
