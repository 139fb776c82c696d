package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

func init() {
	source := []cli.Flag{
		&cli.StringSliceFlag{Name: "profile", Usage: "a profile's retention schedule: a built-in profile (" + strings.Join(retention.Names(), ", ") + ") or a profile file (repeatable)"},
		&cli.StringSliceFlag{Name: "schedule", Usage: "a retention schedule file (YAML, see docs/retention.md; repeatable)"},
	}
	register(&cli.Command{
		Name:  "rules",
		Usage: "show and export retention rules (tableau de gestion)",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "print the rules of a schedule with their durations, sources and status",
				UsageText: "versement rules list --profile apogee|harpege\nversement rules list --schedule FILE",
				Flags:     source,
				Action: func(c *cli.Context) error {
					scheds, err := schedulesFromFlags(c)
					if err != nil {
						return err
					}
					var b bytes.Buffer
					for i, s := range scheds {
						if i > 0 {
							fmt.Fprintln(&b)
						}
						printSchedule(&b, s)
					}
					_, err = c.App.Writer.Write(b.Bytes())
					return err
				},
			},
			{
				Name:      "show",
				Usage:     "print a built-in schedule's YAML, to copy and edit (or to extend: see docs/retention.md)",
				ArgsUsage: "NAME",
				UsageText: "versement rules show apogee|harpege > my-schedule.yaml",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("rules show: give one built-in schedule name ("+strings.Join(retention.Names(), ", ")+")", exitError)
					}
					data, err := retention.BuiltinScheduleYAML(c.Args().First())
					if err != nil {
						return cli.Exit(err.Error(), exitError)
					}
					_, err = c.App.Writer.Write(data)
					return err
				},
			},
			{
				Name:      "export",
				Usage:     "write the schedule's rules as VITAM's rule referential CSV",
				UsageText: "versement rules export --format vitam-csv --profile apogee|harpege [-o FILE]\nversement rules export --format vitam-csv --schedule FILE [-o FILE]",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "format", Value: "vitam-csv", Usage: "output format: vitam-csv"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output"},
				}, source...),
				Action: func(c *cli.Context) error {
					if f := c.String("format"); f != "vitam-csv" {
						return cli.Exit(fmt.Sprintf("--format %q: want vitam-csv", f), exitError)
					}
					scheds, err := schedulesFromFlags(c)
					if err != nil {
						return err
					}
					// One tenant has one referential: the schedules' rules go into one file, and an
					// id defined differently by two of them is refused rather than overwritten.
					ref := &retention.Referential{}
					for _, s := range scheds {
						r, err := s.Referential()
						if err == nil {
							err = ref.Merge(r)
						}
						if err != nil {
							return cli.Exit(fmt.Sprintf("referential: %v", err), exitError)
						}
					}
					var b bytes.Buffer
					if err := ref.WriteCSV(&b); err != nil {
						return cli.Exit(fmt.Sprintf("referential: %v", err), exitError)
					}
					if out := c.String("output"); out != "" {
						if err := atomicfile.WriteFile(out, b.Bytes()); err != nil {
							return cli.Exit(err.Error(), exitError)
						}
						return nil
					}
					_, err = c.App.Writer.Write(b.Bytes())
					return err
				},
			},
		},
	})
}

// schedulesFromFlags loads the schedules named by --profile (for now the built-in schedule of that
// name) and --schedule, in that order.
func schedulesFromFlags(c *cli.Context) ([]*retention.Schedule, error) {
	var out []*retention.Schedule
	for _, name := range c.StringSlice("profile") {
		// The profile's own schedule: a built-in profile's, or the one an establishment's profile
		// file names (its retention.schedule).
		p, err := profiles.Open(name)
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("--profile: %v", err), exitError)
		}
		s := p.Schedule()
		if s == nil {
			return nil, cli.Exit(fmt.Sprintf("--profile %s: the profile has no retention schedule", name), exitError)
		}
		out = append(out, s)
	}
	for _, f := range c.StringSlice("schedule") {
		s, err := retention.LoadSchedule(f)
		if err != nil {
			return nil, cli.Exit(err.Error(), exitError)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, cli.Exit("give --profile ("+strings.Join(retention.Names(), ", ")+") or --schedule FILE", exitError)
	}
	return out, nil
}

func printSchedule(w io.Writer, s *retention.Schedule) {
	fmt.Fprintf(w, "schedule %s (%s) · academic year N ends on %s of N+1\n", s.Name, s.Source, s.YearEnd)
	for _, r := range s.Rules {
		status := r.StatusLabel()
		fmt.Fprintf(w, "\n%s  %s  [%s]\n", r.ID, r.Title, status)
		start := r.StartEvent
		if r.StartLabel != "" {
			start = r.StartLabel + ": " + start
		}
		fmt.Fprintf(w, "  start   %s\n", start)
		active := fmt.Sprintf("%s from the start (DUC)", r.Active)
		if r.ActiveUntil != "" {
			active = "until " + r.ActiveUntil
		}
		if r.ActiveToConfirm() {
			// The text verified gives the DUA; how long the active phase lasts is the team's reading.
			active += " · à confirmer (interpretation)"
		}
		fmt.Fprintf(w, "  active  %s\n", active)
		if r.DUAFrom == retention.FromStart {
			fmt.Fprintf(w, "  DUA     %s from the start\n", r.DUA)
		} else {
			fmt.Fprintf(w, "  DUA     %s after the active phase\n", r.DUA)
		}
		if !r.Ceiling.IsZero() {
			fmt.Fprintf(w, "  ceiling %s at most for active + DUA (legal maximum)\n", r.Ceiling)
		}
		switch {
		case r.FinalAction == retention.Sample && !r.Sampling.HasCriteria():
			fmt.Fprintf(w, "  final   sample, no criteria set: every dossier kept\n")
		case r.FinalAction == retention.Sample:
			fmt.Fprintf(w, "  final   sample: %s\n", describeSampling(r.Sampling))
		case r.FinalAction == retention.Destroy:
			fmt.Fprintf(w, "  final   destroy (proposed for elimination; needs the archives' visa, R212-14)\n")
		default:
			fmt.Fprintf(w, "  final   %s\n", r.FinalAction)
		}
		if a := r.Access; a != nil {
			from := "the start"
			if a.StartEvent != "" {
				from = a.StartEvent
			}
			fmt.Fprintf(w, "  access  %s %s from %s", a.ID, a.Duration, from)
			if a.Basis != "" {
				fmt.Fprintf(w, " · %s", a.Basis)
			}
			fmt.Fprintln(w)
		}
		if r.Storage != "" {
			fmt.Fprintf(w, "  storage %s (DUC %s)\n", r.Storage, r.Active)
		}
		if r.Basis != "" {
			fmt.Fprintf(w, "  source  %s\n", r.Basis)
		}
		if r.Note != "" {
			fmt.Fprintf(w, "  note    %s\n", r.Note)
		}
		fmt.Fprintf(w, "  status  %s\n", status)
	}
	for _, h := range s.Holds {
		until := "until lifted"
		if !h.Until.IsZero() {
			until = "until " + h.Until.String()
		}
		what := fmt.Sprintf("%d key(s)", len(h.Keys))
		if h.Where != "" {
			what += ", where " + h.Where
		}
		fmt.Fprintf(w, "\nhold %s  %s · %s · %s\n", h.ID, h.Reason, what, until)
	}
}

func describeSampling(s *retention.Sampling) string {
	var parts []string
	if len(s.Letters) > 0 {
		parts = append(parts, "birth surname starting with "+strings.Join(s.Letters, ", "))
	}
	if len(s.BirthDays) > 0 {
		days := make([]string, len(s.BirthDays))
		for i, d := range s.BirthDays {
			days[i] = fmt.Sprint(d)
		}
		parts = append(parts, "born on day "+strings.Join(days, ", ")+" of the month")
	}
	if s.YearModulo > 0 {
		parts = append(parts, fmt.Sprintf("year mod %d = %d", s.YearModulo, s.YearRemainder))
	}
	return "kept when " + strings.Join(parts, " or ")
}
