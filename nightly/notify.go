package nightly

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/versement/versement/internal/redact"
)

// Notification is the JSON body POSTed to a job's webhook after each run.
type Notification struct {
	Job             string         `json:"job"`
	Establishment   string         `json:"establishment,omitempty"` // a platform's job
	Host            string         `json:"host"`
	Outcome         Outcome        `json:"outcome"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	DurationSeconds float64        `json:"duration_seconds"`
	AsOf            string         `json:"as_of"`
	Profile         string         `json:"profile"`
	Dossiers        map[string]int `json:"dossiers"`           // read, per tier
	Archived        map[string]int `json:"archived,omitempty"` // newly archived, per tier
	SIPs            int            `json:"sips"`
	Bytes           int64          `json:"bytes"`
	FailedDossiers  int            `json:"failed_dossiers"`
	FailedSIPs      int            `json:"failed_sips"`
	Failures        int            `json:"failures"`
	Error           string         `json:"error,omitempty"`
}

// notify POSTs the run's summary. A notification that cannot be sent is logged and otherwise
// ignored: the run is what matters, and its outcome is also in the metrics and the state dir.
func (s *Scheduler) notify(job *Job, asOf string, r Result) {
	host, _ := os.Hostname()
	n := Notification{Job: job.Name, Establishment: job.Establishment, Host: host, Outcome: r.Outcome, Start: r.Start, End: r.Start.Add(r.Duration),
		DurationSeconds: r.Duration.Seconds(), AsOf: asOf, Profile: job.Options.Profile, Dossiers: r.Dossiers, Archived: r.Archived,
		SIPs: r.SIPs, Bytes: r.Bytes, FailedDossiers: r.FailedDossiers, FailedSIPs: r.FailedSIPs, Failures: r.Failures, Error: r.Error}
	if n.Dossiers == nil {
		n.Dossiers = map[string]int{}
	}
	target, err := job.Notify.URL()
	if err != nil {
		s.log.Warn("notification not sent", append(logAttrs(job), "err", err)...)
		return
	}
	if err := post(s.client, target, n); err != nil {
		s.log.Warn("notification not sent", append(logAttrs(job), "webhook", redact.HostOnly(target), "err", err)...)
		return
	}
	s.log.Debug("notification sent", "job", job.Name, "webhook", redact.HostOnly(target))
}

func post(client *http.Client, target string, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	// Not the run's context: a run interrupted by SIGTERM is worth telling about.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "versement-schedule")
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may hold a token: keep only the cause.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
