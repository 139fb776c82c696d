package nightly

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/versement/versement/internal/yamlx"
	"github.com/versement/versement/job"
)

// platformJobs parses jobs as a platform file embeds them (ParseJobs), and gives each the
// establishment and folder a platform would.
func platformJobs(t *testing.T, dir string, src string, est ...string) *Config {
	t.Helper()
	f, err := yamlx.Parse("platform.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Timezone string  `yaml:"timezone"`
		Jobs     RawJobs `yaml:"jobs"`
	}
	if err := yaml.NodeToValue(f.Docs[0].Body, &raw, yaml.DisallowUnknownField()); err != nil {
		t.Fatal(err)
	}
	jobs, err := ParseJobs(JobsAt{Path: "platform.yaml", File: f, Field: "jobs", Timezone: "UTC"}, raw.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		j.Establishment = est[i]
		j.Name = est[i] + "." + j.Name
		j.Dir = filepath.Join(dir, est[i], "schedule")
	}
	return &Config{File: "platform.yaml", Timezone: "UTC", Jobs: jobs, Establishments: true}
}

func TestParseJobsSpeaksOfTheEmbeddingFile(t *testing.T) {
	src := "establishments:\n  - jobs:\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: DSN}}\n"
	f, err := yamlx.Parse("platform.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	raw := RawJobs{{Name: "n", Cron: "@daily", Source: &rawSecret{Env: "DSN"}, Options: job.Options{Profile: "apogee"}}}
	_, err = ParseJobs(JobsAt{Path: "platform.yaml", File: f, Field: "establishments[0].jobs"}, raw)
	if want := "platform.yaml:3: establishments[0].jobs[0].targets: missing: want a target URL for intermediate and/or final, e.g. intermediate: s3://bucket/prefix"; err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	// The embedding file's defaults are filled in before the job is checked.
	jobs, err := ParseJobs(JobsAt{Path: "platform.yaml", File: f, Field: "establishments[0].jobs",
		Defaults: func(o *job.Options) { o.Targets = map[string]string{"final": "dir:///srv/a"} }}, raw)
	if err != nil || jobs[0].Options.Targets["final"] != "dir:///srv/a" || jobs[0].Timezone != DefaultTimezone {
		t.Fatalf("with defaults: %v %+v", err, jobs)
	}
}

// The jobs of one establishment run one at a time (they share its state folder and ledger); those
// of two establishments run side by side; each job's lock and state are in its own folder; the
// metrics and /healthz carry the establishment.
func TestEstablishmentsJobsAndTheirMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg := platformJobs(t, dir, jobsYAML("x", "@every 1h", "y", "@every 1h", "z", "@every 1h"), "univ-a", "univ-a", "univ-b")
	var mu sync.Mutex
	running := map[string]int{}
	most := map[string]int{}
	var together atomic.Int32 // runs of both establishments at once, seen
	r := RunnerFunc(func(ctx context.Context, j Job) (Result, error) {
		mu.Lock()
		running[j.Establishment]++
		most[j.Establishment] = max(most[j.Establishment], running[j.Establishment])
		if running["univ-a"] > 0 && running["univ-b"] > 0 {
			together.Add(1)
		}
		mu.Unlock()
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		running[j.Establishment]--
		mu.Unlock()
		if j.Establishment == "univ-b" {
			return Result{}, os.ErrNotExist // one establishment's failure
		}
		return Result{Dossiers: map[string]int{"final": 2}, SIPs: 1}, nil
	})
	s, _ := newTestScheduler(t, cfg, r, filepath.Join(dir, "root"))
	var wg sync.WaitGroup
	errs := make([]error, len(cfg.Jobs))
	for i, j := range cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.RunNow(context.Background(), j.Name)
		}()
	}
	wg.Wait()
	s.Stop()
	if errs[0] != nil || errs[1] != nil || errs[2] == nil {
		t.Fatalf("errors: %v", errs)
	}
	if most["univ-a"] != 1 {
		t.Errorf("%d runs of univ-a's jobs at once, want 1", most["univ-a"])
	}
	if together.Load() == 0 {
		t.Error("univ-b's job waited for univ-a's: establishments must not wait for each other")
	}
	for _, name := range []string{"univ-a.x", "univ-a.y"} {
		if _, err := os.Stat(filepath.Join(dir, "univ-a", "schedule", name+".state.json")); err != nil {
			t.Errorf("%s's state is not in its establishment's folder: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "univ-b", "schedule", "univ-b.z.state.json")); err != nil {
		t.Errorf("univ-b.z's state: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "root", "*.state.json")); len(m) != 0 {
		t.Errorf("job state in the scheduler's own folder: %v", m)
	}
	m := scrape(t, s)
	for k, want := range map[string]float64{
		"versement_schedule_runs_total,establishment=univ-a,job=univ-a.x,outcome=ok":          1,
		"versement_schedule_runs_total,establishment=univ-a,job=univ-a.y,outcome=ok":          1,
		"versement_schedule_runs_total,establishment=univ-b,job=univ-b.z,outcome=failed":      1,
		"versement_schedule_dossiers_read_total,establishment=univ-a,job=univ-a.x,tier=final": 2,
		"versement_schedule_sips_total,establishment=univ-a,job=univ-a.y":                     1,
		"versement_schedule_running,establishment=univ-b,job=univ-b.z":                        0,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	h := s.Health()
	if h.Jobs[2].Name != "univ-b.z" || h.Jobs[2].Establishment != "univ-b" || h.Jobs[2].LastOutcome != Failed {
		t.Errorf("health: %+v", h.Jobs[2])
	}
}

// SIGHUP on a platform reloads through the platform's loader, not a jobs file's.
func TestReloadFileUsesTheGivenLoader(t *testing.T) {
	dir := t.TempDir()
	first := platformJobs(t, dir, jobsYAML("x", "@every 1h"), "univ-a")
	second := platformJobs(t, dir, jobsYAML("x", "@every 1h", "y", "@every 2h"), "univ-a", "univ-b")
	var asked string
	s, err := New(first, RunnerFunc(func(context.Context, Job) (Result, error) { return Result{}, nil }),
		Options{StateDir: dir, Load: func(path string) (*Config, error) { asked = path; return second, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.ReloadFile("platform.yaml"); err != nil || asked != "platform.yaml" {
		t.Fatalf("reload: %v (loader asked for %q)", err, asked)
	}
	h := s.Health()
	if len(h.Jobs) != 2 || h.Jobs[1].Name != "univ-b.y" || h.Jobs[1].Establishment != "univ-b" {
		t.Errorf("after reload: %+v", h.Jobs)
	}
	if _, ok := scrape(t, s)["versement_schedule_runs_total,establishment=univ-b,job=univ-b.y,outcome=ok"]; !ok {
		t.Error("the reloaded job's series have no establishment label")
	}
}

// The webhook notification of a platform's job names its establishment.
func TestNotificationCarriesTheEstablishment(t *testing.T) {
	got := make(chan Notification, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		got <- n
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := platformJobs(t, dir, jobsYAML("x", "@every 1h"), "univ-a")
	cfg.Jobs[0].Notify = &Notify{url: srv.URL}
	s, _ := newTestScheduler(t, cfg, RunnerFunc(func(context.Context, Job) (Result, error) { return Result{SIPs: 3}, nil }), dir)
	defer s.Stop()
	if _, err := s.RunNow(context.Background(), "univ-a.x"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n.Establishment != "univ-a" || n.Job != "univ-a.x" || n.SIPs != 3 {
			t.Errorf("notification %+v", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
}
