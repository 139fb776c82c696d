package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

func init() {
	register(&cli.Command{
		Name:  "explain",
		Usage: "say which tier one dossier is in and why (rule, dates, legal basis, what is still to confirm)",
		Description: "Reads the dossier whose key is --key from the source, applies the profile's retention rule\n" +
			"as of --as-of (today by default) and prints the decision with its reasons. Nothing is written.\n" +
			"Exit status 2 when no dossier has that key.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "profile", Required: true, Usage: "a built-in profile (apogee, harpege) or a profile file"},
			&cli.StringFlag{Name: "key", Required: true, Usage: "the dossier key (Apogée COD_IND, Harpège NO_INDIVIDU)"},
			&cli.StringFlag{Name: "class", Usage: "the class to look in; default: every class of the profile"},
			&cli.StringFlag{Name: "as-of", Usage: "decide as of this date (YYYY-MM-DD); default: today"},
			&cli.BoolFlag{Name: "decommission", Usage: "say where a decommission run would put the dossier"},
			&cli.BoolFlag{Name: "json", Usage: "print the explanation as JSON (a list: one per class holding the key)"},
		}, sourceFlags()...),
		Action: explainAction,
	})
}

// loadProfile opens --profile, printing each mistake of a broken profile.
func loadProfile(c *cli.Context) (*profiles.Profile, error) {
	p, err := profiles.Open(c.String("profile"))
	if err != nil {
		return nil, cli.Exit(err.Error(), exitError)
	}
	return p, nil
}

func asOfFlag(c *cli.Context) (civil.Date, error) {
	s := c.String("as-of")
	if s == "" {
		return civil.Today(time.Local), nil
	}
	d, err := civil.Parse(s)
	if err != nil {
		return civil.Date{}, cli.Exit(fmt.Sprintf("--as-of %q: want a date YYYY-MM-DD", s), exitError)
	}
	return d, nil
}

func explainAction(c *cli.Context) error {
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	asOf, err := asOfFlag(c)
	if err != nil {
		return err
	}
	src, _, err := openSource(c.Context, c, p)
	if err != nil {
		return err
	}
	defer src.Close()
	exs, err := pipeline.Explain(c.Context, p, src, pipeline.ExplainQuery{Class: c.String("class"), Key: c.String("key"), AsOf: asOf, Decommission: c.Bool("decommission")})
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(exs)
	}
	for i, ex := range exs {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		if err := ex.WriteTextIn(c.App.Writer, readerLang(c)); err != nil {
			return err
		}
	}
	return nil
}
