package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/bytesize"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/retention"
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
			&cli.StringFlag{Name: "tiers", Value: "intermediate,final", Usage: "the tiers archived as SIPs, comma-separated (active, intermediate, final; held: dossiers under a legal hold, archived as intermediate with their HoldRule)"},
			&cli.StringSliceFlag{Name: "class", Usage: "run only this class (repeatable); default: every class of the profile"},
			&cli.StringFlag{Name: "object-lock", Usage: "S3 targets: lock each SIP (compliance or governance) until the latest date its dossiers' rules protect them (end of DUA or of access restriction), with a legal hold when one of them is held"},
			&cli.StringFlag{Name: "elimination", Usage: "write the elimination proposal (CSV: the dossiers whose retention ends in destruction) to this file"},
			&cli.StringFlag{Name: "report", Usage: "write the run report as JSON to this file"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON instead of the summary"},
		}, sourceFlags()...),
		Action: runAction,
	})
}

func parseTiers(s string) ([]retention.Tier, error) {
	var out []retention.Tier
	for _, f := range strings.Split(s, ",") {
		t := retention.Tier(strings.TrimSpace(f))
		switch t {
		case retention.Active, retention.Intermediate, retention.Final, retention.Held:
			out = append(out, t)
		case "":
		default:
			return nil, fmt.Errorf("--tiers: %q: want active, intermediate, final or held (destroy gives the elimination proposal, never a SIP)", f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--tiers: no tier given")
	}
	return out, nil
}

func runAction(c *cli.Context) error {
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	asOf, err := asOfFlag(c)
	if err != nil {
		return err
	}
	tiers, err := parseTiers(c.String("tiers"))
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	spec := sourceSpec(c, p)
	if spec == "" {
		return cli.Exit("no source: give --source (sqlite:PATH, env:VAR or file:PATH), or set source.dsn_env in the profile", exitError)
	}
	job := pipeline.JobSpec{
		Profile: p, Source: spec, AsOf: asOf, Tiers: tiers, Classes: c.StringSlice("class"),
		Decommission: c.Bool("decommission"), DryRun: c.Bool("dry-run"), Log: slog.Default(),
		Target: c.String("target"), TargetIntermediate: c.String("target-intermediate"), TargetFinal: c.String("target-final"),
		State: c.String("state"), Ledger: c.String("ledger"),
		MaxDossiers: c.Int("batch-dossiers"),
	}
	switch m := strings.ToUpper(c.String("object-lock")); m {
	case "", "COMPLIANCE", "GOVERNANCE":
		job.ObjectLock = m
	default:
		return cli.Exit(fmt.Sprintf("--object-lock %q: want compliance or governance", c.String("object-lock")), exitError)
	}
	if s := c.String("batch-bytes"); s != "" {
		n, err := bytesize.Parse(s)
		if err != nil || n <= 0 {
			return cli.Exit(fmt.Sprintf("--batch-bytes %q: want a size such as 500MB or 2GiB", s), exitError)
		}
		job.MaxBytes = n
	}
	if !job.DryRun && job.Target == "" && (job.TargetIntermediate == "" || job.TargetFinal == "") {
		return cli.Exit("no target: give --target dir://PATH, s3://BUCKET/PREFIX or vitam+https://HOST (or --target-intermediate and --target-final), or use --dry-run for the plan", exitError)
	}
	// The proposal appears only when the run that made it succeeded: a failed run leaves the
	// previous proposal the archivist may be reading untouched.
	var elim *atomicfile.Pending
	if path := c.String("elimination"); path != "" {
		if elim, err = atomicfile.Create(path); err != nil {
			return cli.Exit(fmt.Sprintf("--elimination: %v", err), exitError)
		}
		job.Elimination = elim
	}
	prog := newRunProgress(c.App.ErrWriter, slog.Default())
	if prog.bar != nil && !c.IsSet("log-level") {
		// On a terminal the bar and the final summary say what the per-SIP info lines would, and
		// those lines would tear the bar apart: only warnings and errors are printed.
		job.Log = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	job.Progress = prog.update
	rep, runErr := pipeline.Execute(c.Context, job)
	prog.finish()
	if elim != nil {
		if runErr != nil {
			elim.Abort()
		} else if err := elim.Commit(); err != nil {
			runErr = fmt.Errorf("--elimination: %w", err)
		}
	}
	if errors.Is(runErr, context.Canceled) {
		runErr = errors.New("interrupted: stopped at a safe point; the SIPs sent are recorded, run the same command again to go on")
	}
	if rep != nil {
		if err := writeRunReport(c, rep, job.Elimination != nil); err != nil && runErr == nil {
			runErr = err
		}
	}
	return runExit(runErr)
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
func writeRunReport(c *cli.Context, rep *pipeline.Report, elimination bool) error {
	if path := c.String("report"); path != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = atomicfile.WriteFile(path, append(b, '\n'))
		}
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if err := rep.WriteSummary(c.App.Writer); err != nil {
		return err
	}
	if rep.Eliminations > 0 && !elimination {
		fmt.Fprintln(c.App.Writer, "write the elimination proposal with --elimination FILE")
	}
	return nil
}
