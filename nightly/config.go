package nightly

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/yamlx"
	"github.com/versement/versement/job"
)

// DefaultTimezone is the zone cron specs are read in when neither the job nor the file names one:
// French universities run on Paris time, and a job at "0 2 * * *" must not move by an hour twice a year.
const DefaultTimezone = "Europe/Paris"

// Config is a validated jobs file.
type Config struct {
	File     string // the path it was read from
	Timezone string // default zone of the jobs' cron specs
	StateDir string // from the file's state_dir, made absolute; "" when the file does not set it
	Jobs     []*Job
	// Establishments is set for a platform's jobs: the metrics then carry an establishment label.
	Establishments bool
}

// Job returns the job with this name, or nil.
func (c *Config) Job(name string) *Job {
	for _, j := range c.Jobs {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// Job is one entry of the jobs file: what to run and when. The Runner receives it with AsOfDate and
// StateDir filled in for the run at hand.
type Job struct {
	Name     string
	Spec     string // the cron spec as written
	Timezone string
	Schedule cron.Schedule // Spec read in Location
	Location *time.Location

	// Options is what the job does, as `versement run` would: its profile (a built-in name or an
	// absolute path), Source (the spec of the reference below), targets, tiers, batch limits, …,
	// with the paths made absolute. The runner builds the run with job.Build.
	Options job.Options
	Source  SecretRef // where the connection string is; never the string itself
	AsOf    AsOfPolicy
	Notify  *Notify // nil: no notification

	// Establishment is the platform establishment the job belongs to ("" in a jobs file): its
	// metrics, notifications, logs and /healthz entry carry it, and the jobs of one establishment
	// run one at a time in a process, since they share its state folder and ledger.
	Establishment string
	// Dir is where the scheduler keeps this job's lock, last runs and work folder; "" for the
	// scheduler's StateDir. A platform puts it inside the establishment's state folder.
	Dir string
	// Scope is what the configuration around the job hands its runs (a platform's
	// *platform.Establishment), passed to the Runner untouched: the scoping is a value that
	// travels with the job, so a reload hands the new one to the next runs.
	Scope any

	// Filled by the scheduler for each run.
	AsOfDate civil.Date // AsOf resolved at the start of the run, in Location
	StateDir string     // a directory private to this job (its state when Options.State is empty); it survives restarts
}

// SecretRef names where a secret is kept: an environment variable or a file. The jobs file holds
// the name, never the value, so it can be committed and shown in logs.
type SecretRef struct {
	Env  string
	File string
}

// String describes the reference (not the secret), for logs.
func (r SecretRef) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// Spec is the reference as a source spec (env:VAR or file:PATH), as job.Options.Source takes it;
// "" for no reference.
func (r SecretRef) Spec() string {
	switch {
	case r.Env != "":
		return "env:" + r.Env
	case r.File != "":
		return "file:" + r.File
	}
	return ""
}

// Read returns the secret, without a trailing newline (files written by `echo` or Kubernetes).
// Errors name the variable or file, never the content.
func (r SecretRef) Read() (string, error) {
	if r.Env != "" {
		v, ok := os.LookupEnv(r.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", r.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(r.File)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", r.File)
	}
	return v, nil
}

// AsOfPolicy says which date a run decides retention at.
type AsOfPolicy struct {
	Fixed       civil.Date // when set, always this date
	DaysBeforeT int        // otherwise today minus this many days (0: today)
}

// Resolve returns the as-of date for a run starting at now, "today" being now's date in loc.
func (p AsOfPolicy) Resolve(now time.Time, loc *time.Location) civil.Date {
	if !p.Fixed.IsZero() {
		return p.Fixed
	}
	return civil.Of(now.In(loc)).AddDays(-p.DaysBeforeT)
}

// String is the policy as written in a jobs file.
func (p AsOfPolicy) String() string {
	switch {
	case !p.Fixed.IsZero():
		return p.Fixed.String()
	case p.DaysBeforeT == 0:
		return "today"
	default:
		return fmt.Sprintf("today-%dd", p.DaysBeforeT)
	}
}

// Notify is where a JSON summary is POSTed after each run.
type Notify struct {
	Webhook SecretRef // the URL, or where to read it: chat webhooks embed their token in the URL
	url     string    // set when the URL is written in the jobs file
}

// URL returns the webhook URL.
func (n *Notify) URL() (string, error) {
	if n.url != "" {
		return n.url, nil
	}
	return n.Webhook.Read()
}

// --- the file as written ---------------------------------------------------------------------

type rawConfig struct {
	Timezone string   `yaml:"timezone"`
	StateDir string   `yaml:"state_dir"`
	Jobs     []rawJob `yaml:"jobs"`
}

type rawJob struct {
	Name     string     `yaml:"name"`
	Cron     string     `yaml:"cron"`
	Timezone string     `yaml:"timezone"`
	Source   *rawSecret `yaml:"source"`
	AsOf     string     `yaml:"as_of"`
	// What the job does: profile, targets, tiers, classes, decommission, batch, object_lock,
	// transfer, state, ledger, elimination, as `versement run` says them.
	job.Options `yaml:",inline"`
	Notify      *struct {
		Webhook     string `yaml:"webhook"`
		WebhookEnv  string `yaml:"webhook_env"`
		WebhookFile string `yaml:"webhook_file"`
	} `yaml:"notify"`
}

type rawSecret struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// LoadConfig reads and validates a jobs file. Every error names the file, the line and the field,
// as in "jobs.yaml:7: jobs[0].cron: …".
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jobs file: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig validates the content of a jobs file; path is used in errors and to resolve
// relative paths.
func ParseConfig(path string, b []byte) (*Config, error) {
	var raw rawConfig
	f, err := yamlx.Decode(path, b, "jobs file", "a mapping with a jobs list", &raw)
	if err != nil {
		return nil, err
	}
	v := &validator{Fields: yamlx.Fields{Path: path, File: f}}
	return v.config(&raw)
}

type validator struct {
	yamlx.Fields
	// defaults, when set, fills what the file around the jobs gives each of them (a platform's
	// establishment: its targets, state and ledger) before the job is checked.
	defaults func(*job.Options)
}

var (
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	jobName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	asOfDays = regexp.MustCompile(`^today\s*-\s*(\d+)\s*d?$`)
	specs    = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

func (v *validator) config(raw *rawConfig) (*Config, error) {
	c := &Config{File: v.Path, Timezone: DefaultTimezone}
	if raw.Timezone != "" {
		if _, err := time.LoadLocation(raw.Timezone); err != nil {
			return nil, v.Errf("timezone", "unknown time zone %q (want an IANA name such as Europe/Paris)", raw.Timezone)
		}
		c.Timezone = raw.Timezone
	}
	if raw.StateDir != "" {
		c.StateDir = v.Abs(raw.StateDir)
	}
	if len(raw.Jobs) == 0 {
		return nil, v.Errf("jobs", "no jobs: want a list of jobs, each with a name, a cron spec, a profile, a source and targets")
	}
	jobs, err := v.jobs("jobs", raw.Jobs, c.Timezone)
	if err != nil {
		return nil, err
	}
	c.Jobs = jobs
	return c, nil
}

// jobs checks the list of jobs at field at ("jobs", or "establishments[0].jobs" in a platform
// file), refusing two jobs of one name.
func (v *validator) jobs(at string, raws []rawJob, tz string) ([]*Job, error) {
	var out []*Job
	seen := map[string]int{}
	for i := range raws {
		j, err := v.job(fmt.Sprintf("%s[%d]", at, i), &raws[i], tz)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[j.Name]; dup {
			return nil, v.Errf(fmt.Sprintf("%s[%d].name", at, i), "job %q is already defined at line %d", j.Name, v.Line(fmt.Sprintf("%s[%d].name", at, first)))
		}
		seen[j.Name] = i
		out = append(out, j)
	}
	return out, nil
}

func (v *validator) job(at string, r *rawJob, defaultTZ string) (*Job, error) {
	j := &Job{Name: r.Name, Spec: strings.TrimSpace(r.Cron), Options: r.Options.Clone(), Timezone: defaultTZ}
	switch {
	case r.Name == "":
		return nil, v.Errf(at+".name", "missing: every job needs a name")
	case !jobName.MatchString(r.Name):
		// The name becomes a file name in the state dir and a Prometheus label.
		return nil, v.Errf(at+".name", "%q: use letters, digits, '.', '_' and '-' only, starting with a letter or digit", r.Name)
	}
	if r.Timezone != "" {
		if _, err := time.LoadLocation(r.Timezone); err != nil {
			return nil, v.Errf(at+".timezone", "unknown time zone %q (want an IANA name such as Europe/Paris)", r.Timezone)
		}
		j.Timezone = r.Timezone
	}
	j.Location, _ = time.LoadLocation(j.Timezone)
	switch {
	case j.Spec == "":
		return nil, v.Errf(at+".cron", "missing: want a cron spec such as \"30 2 * * *\" (seconds optional: \"0 30 2 * * *\")")
	case strings.HasPrefix(j.Spec, "TZ=") || strings.HasPrefix(j.Spec, "CRON_TZ="):
		return nil, v.Errf(at+".cron", "%q: set the zone with the timezone field, not in the spec", j.Spec)
	}
	sched, err := specs.Parse(j.Spec)
	if err != nil {
		return nil, v.Errf(at+".cron", "bad cron spec %q: %v", j.Spec, err)
	}
	if s, ok := sched.(*cron.SpecSchedule); ok {
		s.Location = j.Location
	}
	j.Schedule = sched

	if src, err := v.secret(at+".source", r.Source, "the connection string"); err != nil {
		return nil, err
	} else {
		j.Source = src
	}
	// What the job does is checked as `versement run` checks its flags, with the same messages.
	o := &j.Options
	o.Source = j.Source.Spec()
	if v.defaults != nil {
		v.defaults(o)
	}
	if err := o.Check(); err != nil {
		var fe *job.FieldError
		if errors.As(err, &fe) {
			return nil, v.Errf(at+"."+fe.Field, "%s", fe.Msg)
		}
		return nil, v.Errf(at, "%v", err)
	}
	// Files are relative to the jobs file rather than to wherever the service starts.
	if p := o.Profile; strings.ContainsRune(p, '/') || strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") {
		o.Profile = v.Abs(p)
	}
	for _, p := range []*string{&o.State, &o.Ledger, &o.Elimination, &o.Undetermined, &o.Bordereaux} {
		if *p != "" {
			*p = v.Abs(*p)
		}
	}

	switch a := strings.TrimSpace(r.AsOf); {
	case a == "" || a == "today":
	case asOfDays.MatchString(a):
		n, err := strconv.Atoi(asOfDays.FindStringSubmatch(a)[1])
		if err != nil || n > 36600 {
			return nil, v.Errf(at+".as_of", "%q: too many days", a)
		}
		j.AsOf.DaysBeforeT = n
	default:
		d, err := civil.Parse(a)
		if err != nil {
			return nil, v.Errf(at+".as_of", "%q: want today, today-N (N days ago) or a date YYYY-MM-DD", a)
		}
		j.AsOf.Fixed = d
	}

	if r.Notify != nil {
		n := r.Notify
		f := at + ".notify"
		set := 0
		for _, s := range []string{n.Webhook, n.WebhookEnv, n.WebhookFile} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			return nil, v.Errf(f, "want exactly one of webhook (a URL), webhook_env or webhook_file")
		}
		j.Notify = &Notify{}
		switch {
		case n.Webhook != "":
			u, err := url.Parse(n.Webhook)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, v.Errf(f+".webhook", "want an http(s) URL")
			}
			j.Notify.url = n.Webhook
		case n.WebhookEnv != "":
			if !envName.MatchString(n.WebhookEnv) {
				return nil, v.Errf(f+".webhook_env", "not an environment variable name")
			}
			j.Notify.Webhook.Env = n.WebhookEnv
		default:
			j.Notify.Webhook.File = v.Abs(n.WebhookFile)
		}
	}
	return j, nil
}

func (v *validator) secret(at string, r *rawSecret, what string) (SecretRef, error) {
	if r == nil || (r.Env == "") == (r.File == "") {
		return SecretRef{}, v.Errf(at, "want exactly one of env (the name of an environment variable holding %s) or file (a file holding it)", what)
	}
	if r.Env != "" {
		if !envName.MatchString(r.Env) {
			// Do not echo the value: it is probably the secret itself.
			return SecretRef{}, v.Errf(at+".env", "not an environment variable name: write the name of a variable holding %s (e.g. APOGEE_DSN), not %s itself", what, what)
		}
		return SecretRef{Env: r.Env}, nil
	}
	if strings.Contains(r.File, "://") {
		return SecretRef{}, v.Errf(at+".file", "not a file path: write the path of a file holding %s, not %s itself", what, what)
	}
	return SecretRef{File: v.Abs(r.File)}, nil
}
