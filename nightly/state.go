package nightly

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/versement/versement/internal/atomicfile"
)

// jobState is what the state dir remembers of a job across restarts.
type jobState struct {
	LastStart   time.Time `json:"last_start,omitzero"`
	LastEnd     time.Time `json:"last_end,omitzero"`
	LastOutcome Outcome   `json:"last_outcome,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

func statePath(dir, job string) string { return filepath.Join(dir, job+".state.json") }
func lockPath(dir, job string) string  { return filepath.Join(dir, job+".lock") }
func workDir(dir, job string) string   { return filepath.Join(dir, "jobs", job) }

func loadState(dir, job string) (jobState, error) {
	var st jobState
	b, err := os.ReadFile(statePath(dir, job))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return jobState{}, fmt.Errorf("%s: %w", statePath(dir, job), err)
	}
	return st, nil
}

// saveState replaces the state file atomically, so that a crash leaves the old state or the new
// one, never half of one.
func saveState(dir, job string, st jobState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(statePath(dir, job), append(b, '\n'))
}

// Missed describes the activations of a job that passed without a run (the machine or the
// scheduler was down), and a run that started but never recorded its end (the process died).
type Missed struct {
	Job        string    `json:"job"`
	Count      int       `json:"count"`          // activations missed, capped at maxMissed
	First      time.Time `json:"first,omitzero"` // the first missed activation
	Last       time.Time `json:"last,omitzero"`  // the most recent missed activation
	Since      time.Time `json:"since,omitzero"` // the last start on record
	Unfinished bool      `json:"unfinished"`     // the last run started and never ended
}

const maxMissed = 1000

// missed compares the schedule with the last run on record: every activation after its end (its
// start, if it never ended) and not after now was missed. The activations while it ran are not:
// the scheduler was up, and counted them as skipped ticks. A job that never ran has missed nothing.
func missed(name string, sched cron.Schedule, st jobState, now time.Time) Missed {
	m := Missed{Job: name, Since: st.LastStart}
	if st.LastStart.IsZero() {
		return m
	}
	m.Unfinished = st.LastEnd.Before(st.LastStart)
	from := st.LastStart
	if st.LastEnd.After(from) {
		from = st.LastEnd
	}
	for t := sched.Next(from); !t.IsZero() && !t.After(now) && m.Count < maxMissed; t = sched.Next(t) {
		if m.Count == 0 {
			m.First = t
		}
		m.Last = t
		m.Count++
	}
	return m
}
