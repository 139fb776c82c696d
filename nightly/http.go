package nightly

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is the JSON /healthz serves.
type Health struct {
	Status      string      `json:"status"` // "ok", or "degraded" when the last reload was refused
	File        string      `json:"file"`
	LoadedAt    time.Time   `json:"loaded_at"`
	ReloadError string      `json:"reload_error,omitempty"`
	Jobs        []JobHealth `json:"jobs"`
}

// JobHealth is one job in /healthz.
type JobHealth struct {
	Name          string    `json:"name"`
	Establishment string    `json:"establishment,omitempty"` // a platform's
	Cron          string    `json:"cron"`
	Timezone      string    `json:"timezone"`
	NextRun       time.Time `json:"next_run,omitzero"`
	Running       bool      `json:"running"`
	RunningSince  time.Time `json:"running_since,omitzero"`
	LastStart     time.Time `json:"last_start,omitzero"`
	LastEnd       time.Time `json:"last_end,omitzero"`
	LastOutcome   Outcome   `json:"last_outcome,omitempty"`
	LastSuccess   time.Time `json:"last_success,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastResult    *Result   `json:"last_result,omitempty"`
	Missed        *Missed   `json:"missed,omitempty"`
}

// Health reports the jobs, their last outcome and their next run.
func (s *Scheduler) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.nextRuns()
	h := Health{Status: "ok", File: s.cfg.File, LoadedAt: s.loadedAt, ReloadError: s.reloadErr, Jobs: []JobHealth{}}
	if s.reloadErr != "" {
		h.Status = "degraded"
	}
	for _, j := range s.cfg.Jobs {
		sl := s.slots[j.Name]
		jh := JobHealth{Name: j.Name, Establishment: j.Establishment, Cron: j.Spec, Timezone: j.Timezone, NextRun: next[j.Name],
			Running: !sl.running.IsZero(), RunningSince: sl.running, LastStart: sl.st.LastStart, LastEnd: sl.st.LastEnd,
			LastOutcome: sl.st.LastOutcome, LastSuccess: sl.st.LastSuccess, LastError: sl.st.LastError, LastResult: sl.last}
		if sl.missed.Count > 0 || sl.missed.Unfinished {
			m := sl.missed
			jh.Missed = &m
		}
		h.Jobs = append(h.Jobs, jh)
	}
	return h
}

// Handler serves /healthz (JSON) and /metrics (Prometheus text format).
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Health())
	})
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.refreshNextRuns()
		prom.ServeHTTP(w, r)
	}))
	return mux
}

// refreshNextRuns sets the next-run gauges from the cron's own next activations; a job with none
// (before Start, with --once, once stopping) has no series rather than a made-up time.
func (s *Scheduler) refreshNextRuns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.nextRuns()
	for _, j := range s.cfg.Jobs {
		if t, ok := next[j.Name]; ok {
			s.metrics.nextRun.WithLabelValues(s.metrics.lv(j.Name)...).Set(float64(t.Unix()))
		} else {
			s.metrics.nextRun.DeleteLabelValues(s.metrics.lv(j.Name)...)
		}
	}
}
