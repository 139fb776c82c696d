package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/job"
	"github.com/versement/versement/pipeline"
)

func init() {
	register(&cli.Command{
		Name:  "run",
		Usage: "decide every dossier's tier and archive the intermediate and final ones as SEDA packages",
		Description: "Reads the dossiers of the source as the profile defines them, decides each one's retention\n" +
			"tier as of --as-of, and archives the dossiers of the archived tiers (--tiers). With --dry-run it\n" +
			"only prints the plan: counts per tier and rule, nothing written. Dossiers proposed for destruction\n" +
			"are listed in the elimination proposal (--elimination FILE); nothing is ever deleted from the source.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "profile", Required: true, Usage: "a built-in profile (apogee, harpege) or a profile file"},
			&cli.StringFlag{Name: "target", Usage: "where the SIPs of both tiers go: dir://PATH, s3://BUCKET/PREFIX?endpoint=… or vitam+https://HOST:PORT?tenant=N"},
			&cli.StringFlag{Name: "target-intermediate", Usage: "where intermediate SIPs go, instead of --target"},
			&cli.StringFlag{Name: "target-final", Usage: "where final SIPs go, instead of --target"},
			&cli.StringFlag{Name: "state", Value: "versement-state", Usage: "folder of the run state (state.db: which dossier went into which SIP; spool/: SIPs not yet sent); keep it between runs"},
			&cli.StringFlag{Name: "ledger", Usage: "the ledger file (hash-chained record of every SIP sent); default: STATE/ledger.jsonl"},
			&cli.IntFlag{Name: "batch-dossiers", Usage: "at most this many dossiers per SIP (default: the profile's batch.max_dossiers)"},
			&cli.StringFlag{Name: "batch-bytes", Usage: "at most about this many bytes per SIP, e.g. 500MB (default: the profile's batch.max_bytes)"},
			&cli.StringFlag{Name: "as-of", Usage: "decide as of this date (YYYY-MM-DD); default: today"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (counts per tier and rule) and write nothing"},
			&cli.BoolFlag{Name: "decommission", Usage: "the application is being shut down: active dossiers go to intermediate archiving, their clock preserved"},
			&cli.StringFlag{Name: "tiers", Usage: "the tiers archived as SIPs, comma-separated (active, intermediate, final; held: dossiers under a legal hold, archived as intermediate with their HoldRule) (default: intermediate,final, or those of them given a target)"},
			&cli.StringSliceFlag{Name: "class", Usage: "run only this class (repeatable); default: every class of the profile"},
			&cli.StringFlag{Name: "object-lock", Usage: "S3 targets: lock each SIP (compliance or governance) until the latest date its dossiers' rules protect them (end of DUA or of access restriction), with a legal hold when one of them is held"},
			&cli.StringFlag{Name: "elimination", Usage: "write the elimination proposal (CSV: the dossiers whose retention ends in destruction) to this file"},
			&cli.StringFlag{Name: "bordereaux", Usage: "write the archivist's documents to this folder: the bordereau d'élimination (the dossiers due for destruction, by lot, with the visa block) and, for a run that sends, the bordereau de versement; each in HTML (printable), CSV and JSON"},
			&cli.StringFlag{Name: "undetermined", Usage: "list every undetermined dossier with its reason (CSV; French spreadsheets' layout when the language is French) in this file; the report lists the first ones"},
			&cli.IntFlag{Name: "retries", Usage: "retries of transient transfer failures (timeouts, resets, 5xx, SlowDown); 0 disables them (default: 4)"},
			&cli.StringFlag{Name: "poll-interval", Usage: "VITAM: time between status requests, e.g. 90s (default: 1m)"},
			&cli.StringFlag{Name: "poll-timeout", Usage: "VITAM: how long to wait for one ingest, e.g. 12h (default: 6h)"},
			&cli.StringFlag{Name: "report", Usage: "write the run report as JSON to this file"},
			&cli.StringFlag{Name: "plan", Usage: "write the plan (with --dry-run) or the run report as a page with charts to this HTML file: dossiers per tier by year, and what comes due in the next 20 years"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON instead of the summary"},
			&cli.BoolFlag{Name: "verbose", Usage: "list every SIP in the summary (otherwise one line says how many and where; the report has the list)"},
		}, sourceFlags()...),
		Action: runAction,
	})
}

// runOptions fills the job's options from the flags; job.Build checks them, as it checks a jobs
// file's job.
func runOptions(c *cli.Context) (job.Options, error) {
	o := job.Options{
		Profile: c.String("profile"), Source: c.String("source"),
		State: c.String("state"), Ledger: c.String("ledger"), Classes: c.StringSlice("class"),
		Decommission: c.Bool("decommission"), DryRun: c.Bool("dry-run"), ObjectLock: c.String("object-lock"),
		Batch:       job.Batch{MaxDossiers: c.Int("batch-dossiers"), MaxBytes: c.String("batch-bytes")},
		Transfer:    job.Transfer{PollInterval: c.String("poll-interval"), PollTimeout: c.String("poll-timeout")},
		Elimination: c.String("elimination"), Undetermined: c.String("undetermined"), Bordereaux: c.String("bordereaux"), Lang: readerLangFlag(c),
	}
	if c.IsSet("retries") {
		r := c.Int("retries")
		o.Transfer.Retries = &r
	}
	for tier, flag := range map[string]string{"intermediate": "target-intermediate", "final": "target-final"} {
		if u := c.String(flag); u != "" {
			o.Targets = addTarget(o.Targets, tier, u)
		} else if u := c.String("target"); u != "" {
			o.Targets = addTarget(o.Targets, tier, u)
		}
	}
	if c.IsSet("tiers") {
		o.Tiers = []string{}
		for _, f := range strings.Split(c.String("tiers"), ",") {
			if f = strings.TrimSpace(f); f != "" {
				o.Tiers = append(o.Tiers, f)
			}
		}
	}
	asOf, err := asOfFlag(c)
	if err != nil {
		return o, err
	}
	o.AsOf = asOf
	return o, nil
}

func addTarget(m map[string]string, tier, url string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[tier] = url
	return m
}

// runFlags names, for each field of job.Options, the flag that sets it, as it prefixes the
// field's error message: `--batch-bytes "lots": want a size such as 500MB or 2GiB`. A target's
// message names the target itself.
var runFlags = map[string]string{
	"profile": "--profile: ", "targets": "", "tiers": "--tiers: ", "classes": "--class: ",
	"batch.max_dossiers": "--batch-dossiers ", "batch.max_bytes": "--batch-bytes ", "object_lock": "--object-lock ",
	"transfer.retries": "--retries ", "transfer.poll_interval": "--poll-interval ", "transfer.poll_timeout": "--poll-timeout ",
	"elimination": "--elimination: ", "undetermined": "--undetermined: ", "bordereaux": "--bordereaux: ", "source": "--source: ",
}

// runError says a job's error in run's terms: a value by the flag that gave it, a missing source
// or target by the flags that give one.
func runError(err error) error {
	var fe *job.FieldError
	switch {
	case errors.Is(err, job.ErrNoSource):
		return errors.New("no source: give --source (sqlite:PATH, env:VAR or file:PATH), or set source.dsn_env in the profile")
	case errors.Is(err, job.ErrNoTarget):
		return errors.New("no target: give --target dir://PATH, s3://BUCKET/PREFIX or vitam+https://HOST (or --target-intermediate and --target-final), or use --dry-run for the plan")
	case !errors.As(err, &fe):
		return err
	}
	field := fe.Field
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	prefix, ok := runFlags[field]
	if !ok {
		prefix, ok = runFlags[strings.SplitN(field, ".", 2)[0]]
	}
	if !ok {
		return err
	}
	return errors.New(prefix + fe.Msg)
}

// runMemoryLimit is the soft memory limit run sets for itself (unless GOMEMLIMIT is set). What a
// run holds live is about 20 MiB whatever the base's size, but Go lets its heap grow to twice
// that before collecting, and the rare moments where several SIPs close at once push the peak
// up with the length of the run: 1M students peaked 30 % above 10k. The limit makes those
// moments collect sooner (bench/README.md, "pipeline run, memory"); past it Go still allocates,
// with the collector capped at half the CPU, so a run with a huge batch is slower, not killed.
const runMemoryLimit = 64 << 20

func runAction(c *cli.Context) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(runMemoryLimit)
	}
	o, err := runOptions(c)
	if err != nil {
		return err
	}
	j, err := job.Build(o)
	if err != nil {
		return cli.Exit(runError(err).Error(), exitError)
	}
	j.Spec.Log = slog.Default()
	prog := newRunProgress(c.App.ErrWriter, slog.Default())
	if prog.bar != nil && !c.IsSet("log-level") {
		// On a terminal the bar and the final summary say what the per-SIP info lines would, and
		// those lines would tear the bar apart: only warnings and errors are printed.
		j.Spec.Log = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	j.Spec.Progress = prog.update
	rep, runErr := j.Run(c.Context)
	prog.finish()
	if errors.Is(runErr, context.Canceled) {
		runErr = errors.New("interrupted: stopped at a safe point; the SIPs sent are recorded, run the same command again to go on")
	}
	if rep != nil {
		if err := writeRunReport(c, rep, runErr == nil); err != nil && runErr == nil {
			runErr = err
		}
	}
	return runExit(runError(runErr))
}

// runExit is how a run's error ends the command: exit 1 when a SIP the run wrote failed
// verification (a damaged package, as `versement verify` says it), exit 2 when the run could not
// do its job.
func runExit(err error) error {
	if err == nil {
		return nil
	}
	var ve *pipeline.VerifyError
	if errors.As(err, &ve) {
		return cli.Exit(err.Error(), exitFindings)
	}
	return cli.Exit(err.Error(), exitError)
}

// writeRunReport prints the report (JSON with --json, else the summary) and saves it with --report.
// ok says the run succeeded, and so wrote its proposal and undetermined list.
func writeRunReport(c *cli.Context, rep *pipeline.Report, ok bool) error {
	if path := c.String("report"); path != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = atomicfile.WriteFile(path, append(b, '\n'))
		}
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if path := c.String("plan"); path != "" {
		if err := writePlanFile(path, rep, readerLang(c)); err != nil {
			return fmt.Errorf("--plan: %w", err)
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	o := pipeline.SummaryOptions{Lang: readerLang(c), Verbose: c.Bool("verbose")}
	for _, f := range []string{"report", "plan", "elimination", "undetermined"} {
		if path := c.String(f); path != "" && (f == "report" || f == "plan" || ok) {
			o.Files = append(o.Files, path)
		}
	}
	if err := rep.WriteSummaryWith(c.App.Writer, o); err != nil {
		return err
	}
	if rep.Eliminations > 0 && c.String("elimination") == "" {
		fmt.Fprintln(c.App.Writer, "write the elimination proposal with --elimination FILE")
	}
	return nil
}

// writePlanFile writes the report as a page with charts (Report.WritePlanHTML), replaced whole.
func writePlanFile(path string, rep *pipeline.Report, tag language.Tag) error {
	return atomicfile.Write(path, func(w io.Writer) error { return rep.WritePlanHTML(w, tag) })
}
