package nightly

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/job"
)

func TestLoadConfigExample(t *testing.T) {
	c, err := LoadConfig("testdata/jobs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Jobs) != 2 || c.Timezone != "Europe/Paris" {
		t.Fatalf("got %d jobs, tz %q", len(c.Jobs), c.Timezone)
	}
	a, h := c.Job("apogee-nightly"), c.Job("harpege-weekly")
	if a.Timezone != "Europe/Paris" || h.Timezone != "America/Cayenne" {
		t.Errorf("time zones: %q %q", a.Timezone, h.Timezone)
	}
	// 02:30 Paris is 01:30 UTC in winter, 00:30 UTC in summer: the zone is applied.
	from := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	if got, want := a.Schedule.Next(from).UTC(), time.Date(2026, 1, 11, 1, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next winter run %v, want %v", got, want)
	}
	from = time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)
	if got, want := a.Schedule.Next(from).UTC(), time.Date(2026, 7, 11, 0, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next summer run %v, want %v", got, want)
	}
	// Seconds field: 03:00:00 on Sunday in Cayenne (UTC-3).
	if got, want := h.Schedule.Next(from).UTC(), time.Date(2026, 7, 12, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next weekly run %v, want %v", got, want)
	}
	if a.Source != (SecretRef{Env: "APOGEE_DSN"}) {
		t.Errorf("source %+v", a.Source)
	}
	abs, _ := filepath.Abs("testdata/secrets/harpege.dsn")
	if got, _ := filepath.Abs(h.Source.File); got != abs {
		t.Errorf("relative secret file resolved to %q, want %q", got, abs)
	}
	if a.Options.Batch != (job.Batch{MaxDossiers: 2000, MaxBytes: "2GiB"}) {
		t.Errorf("batch %+v", a.Options.Batch)
	}
	if a.Options.Targets["final"] != "vitam+https://vitam.example.org:8443?tenant=1" || len(h.Options.Targets) != 1 {
		t.Errorf("targets %v %v", a.Options.Targets, h.Options.Targets)
	}
	if a.Options.Source != "env:APOGEE_DSN" || h.Options.Source != "file:"+abs {
		t.Errorf("source specs %q %q", a.Options.Source, h.Options.Source)
	}
	if u, _ := a.Notify.URL(); u != "https://hooks.example.org/services/T000/B000/XXXX" {
		t.Errorf("webhook %q", u)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // already 2 March in Paris
	if got := a.AsOf.Resolve(now, paris); got != (civil.Date{Year: 2026, Month: 3, Day: 2}) {
		t.Errorf("as_of today = %v", got)
	}
	if got := h.AsOf.Resolve(now, paris); got != (civil.Date{Year: 2026, Month: 1, Day: 31}) {
		t.Errorf("as_of today-30d = %v", got)
	}
}

func TestConfigErrors(t *testing.T) {
	const head = "jobs:\n  - name: a\n    cron: \"* * * * *\"\n    profile: apogee\n    source: {env: DSN}\n    targets: {final: dir:///x}\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", head + "    cronn: x\n",
			`jobs.yaml:7: jobs[0].cronn: unknown field "cronn"`},
		{"unknown top field", "zone: x\n" + head,
			`jobs.yaml:1: zone: unknown field "zone"`},
		{"bad cron", strings.Replace(head, `"* * * * *"`, `"61 * * * *"`, 1),
			`jobs.yaml:3: jobs[0].cron: bad cron spec "61 * * * *": end of range (61) above maximum (59): 61`},
		{"cron field count", strings.Replace(head, `"* * * * *"`, `"* * *"`, 1),
			`jobs.yaml:3: jobs[0].cron: bad cron spec "* * *": expected 5 to 6 fields, found 3: [* * *]`},
		{"cron tz prefix", strings.Replace(head, `"* * * * *"`, `"CRON_TZ=UTC 0 2 * * *"`, 1),
			`jobs.yaml:3: jobs[0].cron: "CRON_TZ=UTC 0 2 * * *": set the zone with the timezone field, not in the spec`},
		{"missing cron", strings.Replace(head, "    cron: \"* * * * *\"\n", "", 1),
			`jobs.yaml:2: jobs[0].cron: missing: want a cron spec such as "30 2 * * *" (seconds optional: "0 30 2 * * *")`},
		{"unknown job tz", head + "    timezone: Europe/Pariss\n",
			`jobs.yaml:7: jobs[0].timezone: unknown time zone "Europe/Pariss" (want an IANA name such as Europe/Paris)`},
		{"unknown global tz", "timezone: Mars/Olympus\n" + head,
			`jobs.yaml:1: timezone: unknown time zone "Mars/Olympus" (want an IANA name such as Europe/Paris)`},
		{"duplicate", head + strings.Replace(head, "jobs:\n", "", 1),
			`jobs.yaml:7: jobs[1].name: job "a" is already defined at line 2`},
		{"bad name", strings.Replace(head, "name: a", "name: a/b", 1),
			`jobs.yaml:2: jobs[0].name: "a/b": use letters, digits, '.', '_' and '-' only, starting with a letter or digit`},
		{"secret in source", strings.Replace(head, "{env: DSN}", `{env: "postgres://u:hunter2@db/apogee"}`, 1),
			`jobs.yaml:5: jobs[0].source.env: not an environment variable name: write the name of a variable holding the connection string (e.g. APOGEE_DSN), not the connection string itself`},
		{"two sources", strings.Replace(head, "{env: DSN}", "{env: DSN, file: /x}", 1),
			`jobs.yaml:5: jobs[0].source: want exactly one of env (the name of an environment variable holding the connection string) or file (a file holding it)`},
		{"no source", strings.Replace(head, "    source: {env: DSN}\n", "", 1),
			`jobs.yaml:2: jobs[0].source: want exactly one of env (the name of an environment variable holding the connection string) or file (a file holding it)`},
		{"bad tier", strings.Replace(head, "{final: dir:///x}", "{finale: dir:///x}", 1),
			`jobs.yaml:6: jobs[0].targets.finale: unknown tier "finale": want intermediate or final`},
		{"bad scheme", strings.Replace(head, "{final: dir:///x}", "{final: ftp://x}", 1),
			`jobs.yaml:6: jobs[0].targets.final: target "ftp://x": unknown scheme "ftp" (want dir://, s3:// or vitam+https://)`},
		{"password in target", strings.Replace(head, "{final: dir:///x}", "{final: \"s3://k:secret@bucket/p\"}", 1),
			`jobs.yaml:6: jobs[0].targets.final: S3 target s3://k:xxxxx@bucket/p: credentials do not belong in the URL (user info holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`},
		{"scalar for a list", "jobs: 5\n", `jobs.yaml:1: jobs: want a list, got "5"`},
		{"mapping for a list", "jobs: {a: 1}\n", `jobs.yaml:1: jobs: want a list, got a mapping`},
		{"list for a string", strings.Replace(head, `cron: "* * * * *"`, `cron: [1]`, 1),
			`jobs.yaml:3: jobs[0].cron: want a string, got a list`},
		{"alias", strings.Replace(head, "targets: {", "targets: &t {", 1) + "  - name: b\n    cron: \"* * * * *\"\n    profile: apogee\n    source: {env: DSN}\n    targets: *t\n",
			`jobs.yaml:11: YAML aliases (*name) are not allowed in a jobs file: repeat the value`},
		{"bad as_of", head + "    as_of: yesterday\n",
			`jobs.yaml:7: jobs[0].as_of: "yesterday": want today, today-N (N days ago) or a date YYYY-MM-DD`},
		{"bad batch type", head + "    batch:\n      max_dossiers: many\n",
			`jobs.yaml:8: jobs[0].batch.max_dossiers: want an integer, got "many"`},
		{"bad size", head + "    batch:\n      max_bytes: 2 parsecs\n",
			`jobs.yaml:8: jobs[0].batch.max_bytes: "2 parsecs": want a size such as 500MB or 2GiB`},
		{"bad tiers", head + "    tiers: [final, destroy]\n",
			`jobs.yaml:7: jobs[0].tiers[1]: "destroy": want active, intermediate, final or held (destroy gives the elimination proposal, never a SIP)`},
		{"no tiers", head + "    tiers: []\n",
			`jobs.yaml:7: jobs[0].tiers: no tier given`},
		{"tier without a target", head + "    tiers: [intermediate]\n",
			`jobs.yaml:6: jobs[0].targets.intermediate: missing: the intermediate tier is archived, its SIPs go to the intermediate target`},
		{"no targets", strings.Replace(head, "    targets: {final: dir:///x}\n", "", 1),
			`jobs.yaml:2: jobs[0].targets: missing: want a target URL for intermediate and/or final, e.g. intermediate: s3://bucket/prefix`},
		{"bad object lock", head + "    object_lock: forever\n",
			`jobs.yaml:7: jobs[0].object_lock: "forever": want compliance or governance`},
		{"bad retries", head + "    transfer: {retries: -2}\n",
			`jobs.yaml:7: jobs[0].transfer.retries: -2: want a number of retries, 0 to disable them`},
		{"bad poll timeout", head + "    transfer:\n      poll_timeout: 6 hours\n",
			`jobs.yaml:8: jobs[0].transfer.poll_timeout: "6 hours": want a duration such as 90s, 10m or 6h`},
		{"decommission type", head + "    decommission: sometimes\n",
			`jobs.yaml:7: jobs[0].decommission: want true or false, got "sometimes"`},
		{"notify both", head + "    notify: {webhook: \"https://h/x\", webhook_env: HOOK}\n",
			`jobs.yaml:7: jobs[0].notify: want exactly one of webhook (a URL), webhook_env or webhook_file`},
		{"no jobs", "timezone: UTC\n",
			`jobs.yaml:1: jobs: no jobs: want a list of jobs, each with a name, a cron spec, a profile, a source and targets`},
		{"empty", "",
			`jobs.yaml: empty jobs file: want a mapping with a jobs list`},
		{"syntax", "jobs:\n\t- name: a\n",
			"jobs.yaml:2:1: a tab in the indentation: YAML indents with spaces only\n    2 | \t- name: a\n      | ^"},
		{"integer size", head + "    batch:\n      max_bytes: 1048576\n      max_dossiers: -1\n",
			`jobs.yaml:9: jobs[0].batch.max_dossiers: -1: want a positive number of dossiers per SIP`},
		{"mapping expected", "jobs:\n  - name: a\n    batch: [1]\n",
			`jobs.yaml:3: jobs[0].batch: want a mapping, got a list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("jobs.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %s", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), ":secret@") {
				t.Errorf("error leaks a secret: %s", err)
			}
		})
	}
}

func TestProfileFileIsRelativeToTheJobsFile(t *testing.T) {
	c, err := ParseConfig("/etc/versement/jobs.yaml", []byte(strings.Replace(
		"jobs:\n  - {name: a, cron: '0 2 * * *', profile: PROFILE, source: {env: E}, targets: {final: 'dir:///x'}}\n", "PROFILE", "profiles/univ.yaml", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Jobs[0].Options.Profile; got != "/etc/versement/profiles/univ.yaml" {
		t.Errorf("profile %q", got)
	}
	c, _ = ParseConfig("/etc/versement/jobs.yaml", []byte("jobs:\n  - {name: a, cron: '0 2 * * *', profile: apogee, source: {env: E}, targets: {final: 'dir:///x'}}\n"))
	if got := c.Jobs[0].Options.Profile; got != "apogee" {
		t.Errorf("built-in profile %q", got)
	}
}
