package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
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
			&cli.StringFlag{Name: "target", Usage: "where the SIPs go: dir://PATH, s3://BUCKET/PREFIX or vitam+https://HOST"},
			&cli.StringFlag{Name: "as-of", Usage: "decide as of this date (YYYY-MM-DD); default: today"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (counts per tier and rule) and write nothing"},
			&cli.BoolFlag{Name: "decommission", Usage: "the application is being shut down: active dossiers go to intermediate archiving, their clock preserved"},
			&cli.StringFlag{Name: "tiers", Value: "intermediate,final", Usage: "the tiers archived as SIPs, comma-separated (active, intermediate, final)"},
			&cli.StringSliceFlag{Name: "class", Usage: "run only this class (repeatable); default: every class of the profile"},
			&cli.StringFlag{Name: "elimination", Usage: "write the elimination proposal (CSV: the dossiers whose retention ends in destruction) to this file"},
			&cli.StringFlag{Name: "report", Usage: "write the run report as JSON to this file"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON instead of the summary"},
		}, sourceFlags()...),
		Action: runAction,
	})
}

// newArchiver builds the packaging stage (SIP writing and sending) for a run; nil until packaging
// is wired, in which case only dry runs are possible.
var newArchiver func(c *cli.Context, p *profiles.Profile) (pipeline.Archiver, error)

func parseTiers(s string) ([]retention.Tier, error) {
	var out []retention.Tier
	for _, f := range strings.Split(s, ",") {
		t := retention.Tier(strings.TrimSpace(f))
		switch t {
		case retention.Active, retention.Intermediate, retention.Final:
			out = append(out, t)
		case "":
		default:
			return nil, fmt.Errorf("--tiers: %q: want active, intermediate or final (destroy gives the elimination proposal, never a SIP)", f)
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
	cfg := pipeline.Config{
		Profile: p, AsOf: asOf, Tiers: tiers, Classes: c.StringSlice("class"),
		Decommission: c.Bool("decommission"), DryRun: c.Bool("dry-run"), Log: slog.Default(),
	}
	if !cfg.DryRun {
		if newArchiver == nil {
			return cli.Exit("writing SIPs is not available in this build yet: use --dry-run for the plan", exitError)
		}
		if cfg.Archiver, err = newArchiver(c, p); err != nil {
			return cli.Exit(err.Error(), exitError)
		}
	}
	src, spec, err := openSource(c.Context, c, p)
	if err != nil {
		return err
	}
	defer src.Close()
	cfg.Source, cfg.SourceName = src, extract.Redact(spec)

	var elim *os.File
	if path := c.String("elimination"); path != "" {
		if elim, err = os.Create(path); err != nil {
			return cli.Exit(fmt.Sprintf("--elimination: %v", err), exitError)
		}
		cfg.Elimination = elim
	}
	rep, runErr := pipeline.Run(c.Context, cfg)
	if elim != nil {
		if err := elim.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("--elimination: %w", err)
		}
	}
	if rep != nil {
		if path := c.String("report"); path != "" {
			b, err := json.MarshalIndent(rep, "", "  ")
			if err == nil {
				err = extract.WriteFileAtomic(path, append(b, '\n'))
			}
			if err != nil && runErr == nil {
				runErr = fmt.Errorf("--report: %w", err)
			}
		}
		if c.Bool("json") {
			enc := json.NewEncoder(c.App.Writer)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			if err := rep.WriteSummary(c.App.Writer); err != nil {
				return err
			}
			if rep.Eliminations > 0 && cfg.Elimination == nil {
				fmt.Fprintln(c.App.Writer, "write the elimination proposal with --elimination FILE")
			}
		}
	}
	if runErr != nil {
		return cli.Exit(runErr.Error(), exitError)
	}
	return nil
}
