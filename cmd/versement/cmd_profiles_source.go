package main

import (
	"github.com/urfave/cli/v2"

	"github.com/versement/versement/profiles"
)

// sourceFlags are the flags that name a source database; filled in once extract opens sources.
func sourceFlags() []cli.Flag { return nil }

// validateAgainstSource checks p against the database --source names, when one is given.
func validateAgainstSource(c *cli.Context, p *profiles.Profile) error { return nil }
