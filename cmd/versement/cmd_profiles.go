package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/profiles"
)

func init() {
	register(&cli.Command{
		Name:  "profiles",
		Usage: "list, show and check archiving profiles (which dossiers, which rules, which SEDA header)",
		Description: "A profile is a YAML file (or one of the built-in ones: apogee, harpege) that says which\n" +
			"dossiers a database holds, which retention rule decides each class, and how they are described\n" +
			"in SEDA. See docs/profiles.md.",
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list the built-in profiles",
				Action: profilesList,
			},
			{
				Name:      "show",
				Usage:     "print a profile as resolved (defaults filled in), as YAML you can copy and edit",
				ArgsUsage: "NAME|FILE",
				Action:    profilesShow,
			},
			{
				Name:      "validate",
				Usage:     "check a profile and print each mistake with its file, line and field",
				ArgsUsage: "NAME|FILE...",
				Description: "Exit status 0 when every profile is valid, 1 when one has mistakes (each printed as\n" +
					"FILE:LINE: FIELD: what is wrong), 2 when a file cannot be read.",
				Flags:  sourceFlags(),
				Action: profilesValidate,
			},
		},
	})
}

func profilesList(c *cli.Context) error {
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCLASSES\tSCHEDULE\tDESCRIPTION")
	for _, name := range profiles.BuiltinNames() {
		p, err := profiles.Builtin(name)
		if err != nil {
			return cli.Exit(fmt.Sprintf("built-in profile %s is broken: %v", name, err), exitError)
		}
		classes := ""
		for i, cl := range p.Classes {
			if i > 0 {
				classes += ","
			}
			classes += cl.Name
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, classes, p.Retention.Schedule, p.Description)
	}
	return w.Flush()
}

func profilesShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("profiles show: want one profile name or file", exitError)
	}
	p, err := profiles.Open(c.Args().First())
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	out, err := p.YAML()
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	_, err = c.App.Writer.Write(out)
	return err
}

func profilesValidate(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("profiles validate: want at least one profile name or file", exitError)
	}
	for _, arg := range c.Args().Slice() {
		if strings.HasPrefix(arg, "-") {
			return cli.Exit(fmt.Sprintf("profiles validate: %s: flags go before the profiles (versement profiles validate --source … NAME|FILE)", arg), exitError)
		}
	}
	findings := 0
	for _, arg := range c.Args().Slice() {
		p, err := profiles.Open(arg)
		var perrs profiles.Errors
		if errors.As(err, &perrs) {
			for _, e := range perrs {
				fmt.Fprintln(c.App.Writer, e)
			}
			findings += len(perrs)
			continue
		}
		if err != nil {
			return cli.Exit(err.Error(), exitError)
		}
		if err := validateAgainstSource(c, p); err != nil {
			if errors.As(err, &perrs) {
				for _, e := range perrs {
					fmt.Fprintln(c.App.Writer, e)
				}
				findings += len(perrs)
				continue
			}
			return cli.Exit(err.Error(), exitError)
		}
		fmt.Fprintf(c.App.Writer, "%s: ok\n", p.File)
	}
	if findings > 0 {
		return cli.Exit(fmt.Sprintf("%d mistake(s) found", findings), exitFindings)
	}
	return nil
}
