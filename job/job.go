// Package job builds one archiving job from its options. `versement run` fills the options from its
// flags, a jobs file (package schedule) from a job's entry; both call Build, so that both accept the
// same values, refuse the same ones with the same message, and give the pipeline the same JobSpec.
package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/bytesize"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/transfer/targets"
)

// Options is everything one job can say. The YAML names are a jobs file's keys; `versement run`
// has a flag for each (docs/schedule.md lists both).
type Options struct {
	// Profile is a built-in profile's name (apogee, harpege) or a profile file.
	Profile string `yaml:"profile"`
	// Source is the source spec (sqlite:PATH, PATH.db, env:VAR, file:PATH); empty: the profile's
	// source.dsn_env or source.dsn_file. A jobs file writes `source: {env: VAR}` or
	// `source: {file: PATH}` instead, never the connection string.
	Source string `yaml:"-"`
	// Targets maps a tier's destination (intermediate, final) to a target URL. Active and held
	// dossiers go to the intermediate target. run's --target gives both.
	Targets map[string]string `yaml:"targets"`
	// State is the state folder (state.db, spool/). Ledger is the ledger file; empty: STATE/ledger.jsonl.
	State  string `yaml:"state"`
	Ledger string `yaml:"ledger"`
	// Tiers are the tiers archived as SIPs (active, intermediate, final, held); nil: intermediate
	// and final, or those of them given a target.
	Tiers []string `yaml:"tiers"`
	// Classes restricts the job to these classes of the profile; empty: every class.
	Classes []string `yaml:"classes"`
	// Decommission: the application is being shut down; active dossiers go to intermediate
	// archiving, their clock preserved.
	Decommission bool  `yaml:"decommission"`
	Batch        Batch `yaml:"batch"`
	// ObjectLock is compliance or governance (any case): each SIP at an S3 target is locked until
	// the latest date its dossiers' rules protect them. Empty: no lock.
	ObjectLock string   `yaml:"object_lock"`
	Transfer   Transfer `yaml:"transfer"`
	// Elimination is the file the elimination proposal (CSV) is written to; empty: not written.
	Elimination string `yaml:"elimination"`
	// Undetermined is the file every undetermined dossier is listed in, with its reason (CSV);
	// empty: not written (the report lists the first ones).
	Undetermined string `yaml:"undetermined"`
	// Bordereaux is the folder the run writes the archivist's documents to (the proposal of
	// elimination; the transfer slip of a run that sends), in HTML, CSV and JSON; empty: none.
	Bordereaux string `yaml:"bordereaux"`
	// Lang is the language of what people read (the undetermined list's header, the documents):
	// fr or en; empty: the environment's (LC_ALL, LC_MESSAGES, LANG).
	Lang string `yaml:"lang"`
	// AsOf is the date retention is decided at; zero: today. A jobs file's as_of (today, today-N
	// or a date) is resolved by the scheduler at the start of each run.
	AsOf civil.Date `yaml:"-"`
	// DryRun prints the plan and writes nothing; no target or state is needed.
	DryRun bool `yaml:"-"`
}

// Batch bounds one SIP; zero or empty means the profile's batch limits.
type Batch struct {
	MaxDossiers int    `yaml:"max_dossiers"`
	MaxBytes    string `yaml:"max_bytes"` // a size: 500MB, 2GiB, 1000000
}

// Transfer tunes the sending of SIPs; zero values are the targets' defaults.
type Transfer struct {
	// Retries of transient failures (timeouts, resets, 5xx, SlowDown); nil: 4; 0 disables them.
	Retries *int `yaml:"retries"`
	// PollInterval between VITAM status requests (default 1m), PollTimeout for one ingest
	// (default 6h): durations such as 90s, 10m or 6h.
	PollInterval string `yaml:"poll_interval"`
	PollTimeout  string `yaml:"poll_timeout"`
}

// FieldError is a value a job cannot be built with. Field names the option as a jobs file writes
// it (batch.max_bytes, tiers[1], targets.final); Msg says what is wrong and what to write instead.
// Each front end puts its own name for the field before Msg: the flag (`--batch-bytes "lots": …`)
// or the file, line and key (`jobs.yaml:9: jobs[0].batch.max_bytes: "lots": …`).
type FieldError struct {
	Field string
	Msg   string
	Err   error // ErrNoTarget, ErrNoSource, or nil
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }
func (e *FieldError) Unwrap() error { return e.Err }

// Errors a FieldError wraps when something is missing rather than wrong: the front ends say how
// to give it in their own terms (a flag, a key).
var (
	ErrNoTarget = errors.New("no target")
	ErrNoSource = errors.New("no source")
)

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// destinations are the keys of Options.Targets.
var destinations = []string{string(retention.Intermediate), string(retention.Final)}

// destination is the target key a tier's SIPs go to: final to final, the others to intermediate.
func destination(t retention.Tier) string {
	if t == retention.Final {
		return string(retention.Final)
	}
	return string(retention.Intermediate)
}

// Check validates the options without opening or reading anything (profile, source, targets):
// what a jobs file is checked for when it is loaded. Build checks the same first. The error is a
// *FieldError.
func (o Options) Check() error {
	if o.Profile == "" {
		return fieldErr("profile", "missing: want a built-in profile (apogee, harpege) or a profile file")
	}
	keys := make([]string, 0, len(o.Targets))
	for k := range o.Targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(destinations, k) {
			return fieldErr("targets."+k, "unknown tier %q: want intermediate or final", k)
		}
		if o.Targets[k] == "" {
			return &FieldError{Field: "targets." + k, Msg: "empty: want a target URL, or leave the tier out", Err: ErrNoTarget}
		}
		// The messages are the ones the run would fail with when opening the target.
		if err := targets.Check(o.Targets[k]); err != nil {
			return fieldErr("targets."+k, "%v", err)
		}
	}
	tiers, err := o.tiers()
	if err != nil {
		return err
	}
	if !o.DryRun {
		if len(o.Targets) == 0 {
			return &FieldError{Field: "targets", Msg: "missing: want a target URL for intermediate and/or final, e.g. intermediate: s3://bucket/prefix", Err: ErrNoTarget}
		}
		for _, t := range tiers {
			if d := destination(t); o.Targets[d] == "" {
				return &FieldError{Field: "targets." + d, Msg: fmt.Sprintf("missing: the %s tier is archived, its SIPs go to the %s target", t, d), Err: ErrNoTarget}
			}
		}
	}
	for i, c := range o.Classes {
		if strings.TrimSpace(c) == "" {
			return fieldErr(fmt.Sprintf("classes[%d]", i), "empty: want the name of a class of the profile")
		}
	}
	if o.Batch.MaxDossiers < 0 {
		return fieldErr("batch.max_dossiers", "%d: want a positive number of dossiers per SIP", o.Batch.MaxDossiers)
	}
	if _, err := o.maxBytes(); err != nil {
		return err
	}
	if _, err := o.objectLock(); err != nil {
		return err
	}
	if r := o.Transfer.Retries; r != nil && *r < 0 {
		return fieldErr("transfer.retries", "%d: want a number of retries, 0 to disable them", *r)
	}
	if _, err := duration("transfer.poll_interval", o.Transfer.PollInterval); err != nil {
		return err
	}
	if _, err := duration("transfer.poll_timeout", o.Transfer.PollTimeout); err != nil {
		return err
	}
	return nil
}

// tiers are the tiers archived: Options.Tiers, or by default intermediate and final, keeping
// only those given a target when some are.
func (o Options) tiers() ([]retention.Tier, error) {
	if o.Tiers == nil {
		var out []retention.Tier
		for _, t := range pipeline.DefaultTiers {
			if len(o.Targets) == 0 || o.Targets[destination(t)] != "" {
				out = append(out, t)
			}
		}
		return out, nil
	}
	var out []retention.Tier
	for i, s := range o.Tiers {
		t := retention.Tier(strings.TrimSpace(s))
		switch t {
		case retention.Active, retention.Intermediate, retention.Final, retention.Held:
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		default:
			return nil, fieldErr(fmt.Sprintf("tiers[%d]", i), "%q: want active, intermediate, final or held (destroy gives the elimination proposal, never a SIP)", s)
		}
	}
	if len(out) == 0 {
		return nil, fieldErr("tiers", "no tier given")
	}
	return out, nil
}

func (o Options) maxBytes() (int64, error) {
	s := o.Batch.MaxBytes
	if s == "" {
		return 0, nil
	}
	n, err := bytesize.Parse(s)
	if err != nil || n <= 0 {
		return 0, fieldErr("batch.max_bytes", "%q: want a size such as 500MB or 2GiB", s)
	}
	return n, nil
}

func (o Options) objectLock() (string, error) {
	switch m := strings.ToUpper(strings.TrimSpace(o.ObjectLock)); m {
	case "", "COMPLIANCE", "GOVERNANCE":
		return m, nil
	}
	return "", fieldErr("object_lock", "%q: want compliance or governance", o.ObjectLock)
}

func duration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fieldErr(field, "%q: want a duration such as 90s, 10m or 6h", s)
	}
	return d, nil
}

// Clone returns a copy that shares no map or slice with o.
func (o Options) Clone() Options {
	c := o
	if o.Targets != nil {
		c.Targets = make(map[string]string, len(o.Targets))
		for k, v := range o.Targets {
			c.Targets[k] = v
		}
	}
	c.Tiers = slices.Clone(o.Tiers)
	c.Classes = slices.Clone(o.Classes)
	if o.Transfer.Retries != nil {
		r := *o.Transfer.Retries
		c.Transfer.Retries = &r
	}
	return c
}

// DefaultSource is the source a profile names (source.dsn_env or source.dsn_file, the file
// relative to the profile's folder), as a source spec; "" when it names none.
func DefaultSource(p *profiles.Profile) string {
	switch {
	case p.Source.DSNEnv != "":
		return "env:" + p.Source.DSNEnv
	case p.Source.DSNFile != "":
		path := p.Source.DSNFile
		if !filepath.IsAbs(path) && p.Dir != "" {
			path = filepath.Join(p.Dir, path)
		}
		return "file:" + path
	}
	return ""
}

// Job is a built job: the pipeline's spec, and where the elimination proposal goes. The caller may
// set the spec's Log, Progress and OnSIP before Run.
type Job struct {
	Spec pipeline.JobSpec
	// Elimination is the file Run writes the elimination proposal to; "" for none.
	Elimination string
	// Undetermined is the file Run lists the undetermined dossiers in; "" for none.
	Undetermined string
}

// Build checks o (as Check does), opens its profile and returns the job. Errors about a value are
// *FieldError; the profile's own errors are returned as profiles.Open gives them.
func Build(o Options) (*Job, error) {
	var p *profiles.Profile
	if o.Profile != "" { // the profile first: what the rest means depends on it
		var err error
		if p, err = profiles.Open(o.Profile); err != nil {
			return nil, err
		}
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	src := o.Source
	if src == "" {
		src = DefaultSource(p)
	}
	if src == "" {
		return nil, &FieldError{Field: "source", Msg: "missing: want the source database (sqlite:PATH, env:VAR or file:PATH), or source.dsn_env in the profile", Err: ErrNoSource}
	}
	// Check has accepted every value: these cannot fail.
	tiers, _ := o.tiers()
	maxBytes, _ := o.maxBytes()
	lock, _ := o.objectLock()
	spec := pipeline.JobSpec{
		Profile: p, Source: src, AsOf: o.AsOf, Tiers: tiers, Classes: slices.Clone(o.Classes),
		Decommission: o.Decommission, DryRun: o.DryRun,
		TargetIntermediate: o.Targets[string(retention.Intermediate)], TargetFinal: o.Targets[string(retention.Final)],
		State: o.State, Ledger: o.Ledger, MaxDossiers: o.Batch.MaxDossiers, MaxBytes: maxBytes, ObjectLock: lock,
	}
	if r := o.Transfer.Retries; r != nil {
		spec.Transfer.Retries = *r
		if *r == 0 {
			spec.Transfer.Retries = -1 // targets.Options: < 0 disables, 0 is the default policy
		}
	}
	spec.Transfer.VITAM.PollInterval, _ = duration("", o.Transfer.PollInterval)
	spec.Transfer.VITAM.PollTimeout, _ = duration("", o.Transfer.PollTimeout)
	spec.Lang = lang.FromEnv(o.Lang)
	if o.Bordereaux != "" {
		spec.Documents = &pipeline.Documents{Dir: o.Bordereaux, Lang: spec.Lang}
	}
	return &Job{Spec: spec, Elimination: o.Elimination, Undetermined: o.Undetermined}, nil
}

// Run executes the job (pipeline.Execute). The elimination proposal and the undetermined list
// appear only when the run that made them succeeded: a failed run leaves the previous ones, which
// the archivist may be reading, untouched. The report is returned even with an error, for what was
// done.
func (j *Job) Run(ctx context.Context) (*pipeline.Report, error) {
	spec := j.Spec
	type output struct {
		field string
		p     *atomicfile.Pending
	}
	var outs []output
	abort := func() {
		for _, o := range outs {
			o.p.Abort()
		}
	}
	for _, f := range []struct {
		field, path string
		w           *io.Writer
	}{{"elimination", j.Elimination, &spec.Elimination}, {"undetermined", j.Undetermined, &spec.Undetermined}} {
		if f.path == "" {
			continue
		}
		p, err := atomicfile.Create(f.path)
		if err != nil {
			abort()
			return nil, &FieldError{Field: f.field, Msg: err.Error(), Err: err}
		}
		*f.w = p
		outs = append(outs, output{f.field, p})
	}
	rep, err := pipeline.Execute(ctx, spec)
	if err != nil {
		abort()
		return rep, err
	}
	for _, o := range outs {
		if cerr := o.p.Commit(); cerr != nil && err == nil {
			err = &FieldError{Field: o.field, Msg: cerr.Error(), Err: cerr}
		}
	}
	return rep, err
}
