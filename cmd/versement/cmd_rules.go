package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/lang"
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
						printSchedule(&b, s, readerLang(c))
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

func printSchedule(w io.Writer, s *retention.Schedule, tag language.Tag) {
	p := lang.Printer(tag)
	p.Fprintf(w, "schedule %s (%s) · academic year N ends on %s of N+1\n", s.Name, s.Source, s.YearEnd)
	for _, r := range s.Rules {
		status := statusLabel(p, r.Rule)
		p.Fprintf(w, "\n%s  %s  [%s]\n", r.ID, r.Title, status)
		start := r.StartEvent
		if r.StartLabel != "" {
			start = r.StartLabel + ": " + start
		}
		p.Fprintf(w, "  start   %s\n", start)
		active := p.Sprintf("%s from the start (DUC)", r.Active)
		if r.ActiveUntil != "" {
			active = p.Sprintf("until %s", r.ActiveUntil)
		}
		if r.ActiveToConfirm() {
			// The text verified gives the DUA; how long the active phase lasts is the team's reading.
			active += " · " + p.Sprintf("à confirmer (interpretation)")
		}
		p.Fprintf(w, "  active  %s\n", active)
		if r.DUAFrom == retention.FromStart {
			p.Fprintf(w, "  DUA     %s from the start\n", r.DUA)
		} else {
			p.Fprintf(w, "  DUA     %s after the active phase\n", r.DUA)
		}
		if !r.Ceiling.IsZero() {
			p.Fprintf(w, "  ceiling %s at most for active + DUA (legal maximum)\n", r.Ceiling)
		}
		switch {
		case r.FinalAction == retention.Sample && !r.Sampling.HasCriteria():
			p.Fprintf(w, "  final   sample, no criteria set: every dossier kept\n")
		case r.FinalAction == retention.Sample:
			p.Fprintf(w, "  final   sample: %s\n", describeSampling(p, r.Sampling))
		case r.FinalAction == retention.Destroy:
			p.Fprintf(w, "  final   destroy (proposed for elimination; needs the archives' visa, R212-14)\n")
		default:
			p.Fprintf(w, "  final   %s\n", p.Sprintf(string(r.FinalAction)))
		}
		if a := r.Access; a != nil {
			from := p.Sprintf("the start")
			if a.StartEvent != "" {
				from = a.StartEvent
			}
			p.Fprintf(w, "  access  %s %s from %s", a.ID, a.Duration, from)
			if a.Basis != "" {
				p.Fprintf(w, " · %s", a.Basis)
			}
			fmt.Fprintln(w)
		}
		if r.Storage != "" {
			p.Fprintf(w, "  storage %s (DUC %s)\n", r.Storage, r.Active)
		}
		if r.Basis != "" {
			p.Fprintf(w, "  source  %s\n", r.Basis)
		}
		if r.Note != "" {
			p.Fprintf(w, "  note    %s\n", r.Note)
		}
		p.Fprintf(w, "  status  %s\n", status)
	}
	for _, h := range s.Holds {
		until := p.Sprintf("until lifted")
		if !h.Until.IsZero() {
			until = p.Sprintf("until %s", h.Until)
		}
		what := p.Sprintf("%d key(s)", len(h.Keys))
		if h.Where != "" {
			what += p.Sprintf(", where %s", h.Where)
		}
		p.Fprintf(w, "\nhold %s  %s · %s · %s\n", h.ID, h.Reason, what, until)
	}
}

// statusLabel is Rule.StatusLabel in the reader's language.
func statusLabel(p *message.Printer, r retention.Rule) string { return p.Sprintf(r.StatusLabel()) }

func describeSampling(p *message.Printer, s *retention.Sampling) string {
	var parts []string
	if len(s.Letters) > 0 {
		parts = append(parts, p.Sprintf("birth surname starting with %s", strings.Join(s.Letters, ", ")))
	}
	if len(s.BirthDays) > 0 {
		days := make([]string, len(s.BirthDays))
		for i, d := range s.BirthDays {
			days[i] = fmt.Sprint(d)
		}
		parts = append(parts, p.Sprintf("born on day %s of the month", strings.Join(days, ", ")))
	}
	if s.YearModulo > 0 {
		parts = append(parts, p.Sprintf("year mod %d = %d", s.YearModulo, s.YearRemainder))
	}
	return p.Sprintf("kept when %s", strings.Join(parts, p.Sprintf(" or ")))
}

func init() {
	lang.Translate(map[string]string{
		"schedule %s (%s) · academic year N ends on %s of N+1\n": "tableau de gestion %s (%s) · l'année universitaire N se termine le %s de N+1\n",
		"\n%s  %s  [%s]\n":                      "\n%s  %s  [%s]\n",
		"  start   %s\n":                        "  départ  %s\n",
		"%s from the start (DUC)":               "%s depuis le départ (DUC)",
		"until %s":                              "jusqu'à %s",
		"à confirmer (interpretation)":          "à confirmer (interprétation)",
		"  active  %s\n":                        "  active  %s\n",
		"  DUA     %s from the start\n":         "  DUA     %s depuis le départ\n",
		"  DUA     %s after the active phase\n": "  DUA     %s après la phase active\n",
		"  ceiling %s at most for active + DUA (legal maximum)\n":                           "  plafond %s au plus pour phase active + DUA (maximum légal)\n",
		"  final   sample, no criteria set: every dossier kept\n":                           "  sort    tri, sans critère : chaque dossier est conservé\n",
		"  final   sample: %s\n":                                                            "  sort    tri : %s\n",
		"  final   destroy (proposed for elimination; needs the archives' visa, R212-14)\n": "  sort    destruction (proposée à l'élimination ; soumise au visa des archives, R212-14)\n",
		"  final   %s\n":                     "  sort    %s\n",
		"the start":                          "le départ",
		"  access  %s %s from %s":            "  accès   %s %s depuis %s",
		" · %s":                              " · %s",
		"  storage %s (DUC %s)\n":            "  DUC     %s (DUC %s)\n",
		"  source  %s\n":                     "  source  %s\n",
		"  note    %s\n":                     "  note    %s\n",
		"  status  %s\n":                     "  statut  %s\n",
		"until lifted":                       "jusqu'à sa levée",
		"%d key(s)":                          "%d clé(s)",
		", where %s":                         ", où %s",
		"\nhold %s  %s · %s · %s\n":          "\ngel %s  %s · %s · %s\n",
		"birth surname starting with %s":     "nom de naissance commençant par %s",
		"born on day %s of the month":        "né le %s du mois",
		"year mod %d = %d":                   "année modulo %d = %d",
		"kept when %s":                       "conservé quand %s",
		" or ":                               " ou ",
		"TO CONFIRM":                         "À CONFIRMER",
		"verified, active phase à confirmer": "vérifiée, phase active à confirmer",
		"keep":                               "conservation",
	})
}
