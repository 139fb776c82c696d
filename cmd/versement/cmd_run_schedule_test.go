package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/job"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/retention"
)

// buildFromRunFlags builds the job `versement run ARGS` would run, without running it.
func buildFromRunFlags(t *testing.T, args ...string) *job.Job {
	t.Helper()
	var flags []cli.Flag
	for _, c := range commands {
		if c.Name == "run" {
			flags = c.Flags
		}
	}
	var built *job.Job
	app := &cli.App{Name: "versement", ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{Name: "run", Flags: flags, Action: func(c *cli.Context) error {
			o, err := runOptions(c)
			if err != nil {
				return err
			}
			built, err = job.Build(o)
			return err
		}}}}
	if err := app.RunContext(context.Background(), append([]string{"versement", "run"}, args...)); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return built
}

// buildFromJobsFile builds the job the scheduler's runner would run for the first job of a jobs file.
func buildFromJobsFile(t *testing.T, yaml string) *job.Job {
	t.Helper()
	cfg, err := nightly.ParseConfig("/etc/versement/jobs.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	sj := *cfg.Jobs[0]
	sj.AsOfDate = sj.AsOf.Resolve(time.Now(), sj.Location)
	sj.StateDir = "/var/lib/versement/jobs/" + sj.Name
	j, err := job.Build(scheduledOptions(sj))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A jobs file can say everything run can: a scheduled job with Object Lock, decommission, tiers,
// classes, batch limits, transfer options, its own state, ledger and elimination proposal builds
// the same JobSpec as the equivalent run flags.
func TestScheduledJobBuildsTheSameSpecAsRun(t *testing.T) {
	const yaml = `jobs:
  - name: apogee-decommission
    cron: "30 2 * * *"
    profile: apogee
    source: {env: APOGEE_DSN}
    targets:
      intermediate: s3://archives/apogee/intermediate?endpoint=https://s3.example.org
      final: dir:///srv/archives/final
    state: state/apogee
    ledger: /srv/ledger/apogee.jsonl
    tiers: [active, intermediate, final, held]
    classes: [etudiant]
    decommission: true
    batch: {max_dossiers: 500, max_bytes: 500MB}
    object_lock: compliance
    transfer: {retries: 0, poll_interval: 90s, poll_timeout: 12h}
    elimination: elimination/apogee.csv
    undetermined: undetermined/apogee.csv
    bordereaux: bordereaux/apogee
    lang: fr
    as_of: 2026-11-30
`
	scheduled := buildFromJobsFile(t, yaml)
	t.Setenv("LANG", "fr_FR.UTF-8") // run's language is the reader's; the job says lang: fr
	ran := buildFromRunFlags(t, "--profile", "apogee", "--source", "env:APOGEE_DSN",
		"--target-intermediate", "s3://archives/apogee/intermediate?endpoint=https://s3.example.org",
		"--target-final", "dir:///srv/archives/final",
		"--state", "/etc/versement/state/apogee", "--ledger", "/srv/ledger/apogee.jsonl",
		"--tiers", "active,intermediate,final,held", "--class", "etudiant", "--decommission",
		"--batch-dossiers", "500", "--batch-bytes", "500MB", "--object-lock", "compliance",
		"--retries", "0", "--poll-interval", "90s", "--poll-timeout", "12h",
		"--elimination", "/etc/versement/elimination/apogee.csv", "--as-of", "2026-11-30",
		"--undetermined", "/etc/versement/undetermined/apogee.csv", "--bordereaux", "/etc/versement/bordereaux/apogee")

	s, r := scheduled.Spec, ran.Spec
	if s.Profile == nil || r.Profile == nil || s.Profile.Name != "apogee" || r.Profile.Name != "apogee" {
		t.Fatalf("profiles %v %v", s.Profile, r.Profile)
	}
	s.Profile, r.Profile = nil, nil
	if !reflect.DeepEqual(s, r) || scheduled.Elimination != ran.Elimination || scheduled.Undetermined != ran.Undetermined {
		t.Errorf("scheduled job:\n%+v %s\nrun:\n%+v %s", s, scheduled.Elimination, r, ran.Elimination)
	}
	// And it is the job asked for.
	if s.ObjectLock != "COMPLIANCE" || !s.Decommission || s.MaxDossiers != 500 || s.MaxBytes != 500_000_000 ||
		!reflect.DeepEqual(s.Tiers, []retention.Tier{retention.Active, retention.Intermediate, retention.Final, retention.Held}) ||
		!reflect.DeepEqual(s.Classes, []string{"etudiant"}) || s.Source != "env:APOGEE_DSN" || s.AsOf.String() != "2026-11-30" ||
		s.Transfer.Retries != -1 || s.Transfer.VITAM.PollInterval != 90*time.Second || s.Transfer.VITAM.PollTimeout != 12*time.Hour ||
		s.State != "/etc/versement/state/apogee" || s.Ledger != "/srv/ledger/apogee.jsonl" ||
		s.TargetFinal != "dir:///srv/archives/final" || scheduled.Elimination != "/etc/versement/elimination/apogee.csv" ||
		scheduled.Undetermined != "/etc/versement/undetermined/apogee.csv" || s.Documents == nil ||
		s.Documents.Dir != "/etc/versement/bordereaux/apogee" || !lang.IsFrench(s.Documents.Lang) || !lang.IsFrench(s.Lang) {
		t.Errorf("spec %+v, elimination %s", s, scheduled.Elimination)
	}
}

// Without tiers or a state, a scheduled job archives the tiers it gives a target, in its private
// state folder, as run does with the same targets.
func TestScheduledJobDefaults(t *testing.T) {
	scheduled := buildFromJobsFile(t, "jobs:\n  - {name: h, cron: '0 3 * * *', profile: harpege, source: {file: /run/secrets/dsn}, targets: {final: 'dir:///srv/final'}}\n")
	ran := buildFromRunFlags(t, "--profile", "harpege", "--source", "file:/run/secrets/dsn", "--target-final", "dir:///srv/final",
		"--state", "/var/lib/versement/jobs/h", "--as-of", scheduled.Spec.AsOf.String())
	s, r := scheduled.Spec, ran.Spec
	s.Profile, r.Profile = nil, nil
	if !reflect.DeepEqual(s, r) || !reflect.DeepEqual(s.Tiers, []retention.Tier{retention.Final}) {
		t.Errorf("scheduled job:\n%+v\nrun:\n%+v", s, r)
	}
}

// A bad value is refused with the same message by run (after the flag) and by a jobs file (after
// the file, the line and the key).
func TestBadValueSameMessageInRunAndJobsFile(t *testing.T) {
	const head = "jobs:\n  - name: a\n    cron: \"* * * * *\"\n    profile: apogee\n    source: {env: DSN}\n    targets: {final: dir:///x}\n"
	for _, tc := range []struct {
		flags     []string
		yaml, msg string
		run, file string
	}{
		{[]string{"--batch-bytes", "lots"}, "    batch: {max_bytes: lots}\n", `"lots": want a size such as 500MB or 2GiB`,
			"--batch-bytes ", "jobs.yaml:7: jobs[0].batch.max_bytes: "},
		{[]string{"--batch-dossiers", "-5"}, "    batch: {max_dossiers: -5}\n", `-5: want a positive number of dossiers per SIP`,
			"--batch-dossiers ", "jobs.yaml:7: jobs[0].batch.max_dossiers: "},
		{[]string{"--object-lock", "forever"}, "    object_lock: forever\n", `"forever": want compliance or governance`,
			"--object-lock ", "jobs.yaml:7: jobs[0].object_lock: "},
		{[]string{"--tiers", "final,destroy"}, "    tiers: [final, destroy]\n", `"destroy": want active, intermediate, final or held (destroy gives the elimination proposal, never a SIP)`,
			"--tiers: ", "jobs.yaml:7: jobs[0].tiers[1]: "},
		{[]string{"--poll-timeout", "6 hours"}, "    transfer: {poll_timeout: 6 hours}\n", `"6 hours": want a duration such as 90s, 10m or 6h`,
			"--poll-timeout ", "jobs.yaml:7: jobs[0].transfer.poll_timeout: "},
		{[]string{"--retries", "-1"}, "    transfer: {retries: -1}\n", `-1: want a number of retries, 0 to disable them`,
			"--retries ", "jobs.yaml:7: jobs[0].transfer.retries: "},
		{[]string{"--target-intermediate", "ftp://x"}, "    targets: {final: dir:///x, intermediate: ftp://x}\n", `target "ftp://x": unknown scheme "ftp" (want dir://, s3:// or vitam+https://)`,
			"", "jobs.yaml:6: jobs[0].targets.intermediate: "},
	} {
		out, code := run(t, append([]string{"run", "--profile", "apogee", "--source", "sqlite:/nonexistent.db", "--target-final", "dir:///x"}, tc.flags...)...)
		if want := "ERR: " + tc.run + tc.msg; code != exitError || strings.TrimSpace(out) != want {
			t.Errorf("run %v: exit %d %q, want %q", tc.flags, code, out, want)
		}
		yaml := head + tc.yaml
		if strings.HasPrefix(tc.yaml, "    targets:") {
			yaml = strings.Replace(head, "    targets: {final: dir:///x}\n", tc.yaml, 1)
		}
		_, err := nightly.ParseConfig("jobs.yaml", []byte(yaml))
		if want := tc.file + tc.msg; err == nil || err.Error() != want {
			t.Errorf("jobs file %q: %v, want %s", tc.yaml, err, want)
		}
	}
}
