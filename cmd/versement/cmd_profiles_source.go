package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/job"
	"github.com/versement/versement/profiles"
)

// sourceFlags name the source database. The connection string itself never goes on the command
// line when it can hold a password: --source takes sqlite:PATH (or PATH.db), env:VAR or file:PATH.
func sourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", Usage: "the database: sqlite:PATH or PATH.db, env:VAR (connection string in an environment variable) or file:PATH (in a file); default: the profile's source.dsn_env or source.dsn_file"},
	}
}

// sourceSpec is the --source value, or the default the profile gives.
func sourceSpec(c *cli.Context, p *profiles.Profile) string {
	if s := c.String("source"); s != "" {
		return s
	}
	return job.DefaultSource(p)
}

// openSource opens the source of a command, with an error saying how to name one.
func openSource(ctx context.Context, c *cli.Context, p *profiles.Profile) (extract.Source, string, error) {
	spec := sourceSpec(c, p)
	if spec == "" {
		return nil, "", cli.Exit("no source: give --source (sqlite:PATH, env:VAR or file:PATH), or set source.dsn_env in the profile", exitError)
	}
	src, err := extract.Open(ctx, spec)
	if err != nil {
		return nil, spec, cli.Exit(err.Error(), exitError)
	}
	return src, spec, nil
}

// validateAgainstSource checks p against the database --source names, when one is given.
func validateAgainstSource(c *cli.Context, p *profiles.Profile) error {
	if c.String("source") == "" {
		return nil
	}
	src, spec, err := openSource(c.Context, c, p)
	if err != nil {
		return err
	}
	defer src.Close()
	warnings, err := p.CheckSource(c.Context, src)
	for _, w := range warnings {
		fmt.Fprintf(c.App.Writer, "%s:%d: warning: %s: %s\n", w.File, w.Line, w.Field, w.Msg)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: tables and columns found in %s\n", p.File, spec)
	return nil
}
