package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/eliminate"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer/ledger"
)

func init() {
	register(&cli.Command{
		Name:  "eliminate",
		Usage: "after the archives' visa on a proposal of elimination: record it",
		Description: "Nothing is destroyed without the archives service's visa (Code du patrimoine R212-14).\n" +
			"import-visa records the visa on a bordereau d'élimination in the ledger, checked against the\n" +
			"proposal. Its execution in the archive is not built yet (issue #16).",
		Subcommands: []*cli.Command{{
			Name:      "import-visa",
			Usage:     "record the archives' visa on a proposal of elimination",
			ArgsUsage: "VISA.csv|VISA.json",
			Description: "VISA is the lots table of the bordereau's CSV with Décision, Référence du visa, Date du\n" +
				"visa and Signataire filled in (docs/bordereaux.md), or JSON. It is checked against the\n" +
				"bordereau's JSON the archivist signed (--proposal) and recorded in the ledger. With a roles\n" +
				"file, the person recording it must hold an archives-service role and must not be the one who\n" +
				"made the proposal.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "proposal", Value: filepath.Join("bordereaux", pipeline.EliminationFile+".json"), Usage: "the bordereau d'élimination's JSON the visa answers"},
				&cli.StringFlag{Name: "state", Value: "versement-state", Usage: "state folder: the visa and the proposal are kept in STATE/eliminations/"},
				&cli.StringFlag{Name: "ledger", Usage: "the ledger; default STATE/ledger.jsonl"},
				&cli.StringFlag{Name: "roles", Usage: "the roles file (versement consult --roles-example); default STATE/roles.yaml when it exists"},
				&cli.StringFlag{Name: "as", Usage: "who records the visa, when not the system user (an account of the establishment's sign-on)"},
				&cli.StringSliceFlag{Name: "groups", Usage: "with --as: that user's groups, comma-separated"},
			},
			Action: eliminateImportAction,
		}},
	})
	lang.Translate(map[string]string{
		"visa %s recorded for proposal %s (ledger entry %d): %d lot(s) accepted (%d dossiers), %d refused, %d not answered\n": "visa %s enregistré pour la proposition %s (entrée %d du journal) : %d lot(s) accepté(s) (%d dossiers), %d refusé(s), %d sans réponse\n",
		"visa %s was already recorded for proposal %s (ledger entry %d): nothing changed\n":                                   "le visa %s était déjà enregistré pour la proposition %s (entrée %d du journal) : rien n'a changé\n",
		"eliminate: %s": "eliminate : %s",
	})
}

// eliminateImportOptions are `versement eliminate import-visa`'s.
type eliminateImportOptions struct {
	Visa, Proposal, State, Ledger, Roles string
	User                                 roles.User
	Lang                                 language.Tag
}

func eliminateImportAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("eliminate import-visa: give the visa file (the bordereau's CSV with the visa columns filled in, or JSON)", exitError)
	}
	if c.IsSet("groups") && c.String("as") == "" {
		return cli.Exit("eliminate import-visa: --groups goes with --as (without it, the system user's groups are used)", exitError)
	}
	who, err := cliUser(c.String("as"), c.StringSlice("groups"))
	if err != nil {
		return cli.Exit("eliminate import-visa: "+err.Error(), exitError)
	}
	o := eliminateImportOptions{Visa: c.Args().First(), Proposal: c.String("proposal"), State: c.String("state"), Ledger: c.String("ledger"),
		Roles: c.String("roles"), User: who.User, Lang: readerLang(c)}
	return runEliminateImport(c, o)
}

func runEliminateImport(c *cli.Context, o eliminateImportOptions) error {
	pr := lang.Printer(o.Lang)
	fail := func(err error) error {
		var m interface{ Message(language.Tag) string }
		if errors.As(err, &m) {
			return cli.Exit(pr.Sprintf("eliminate: %s", m.Message(o.Lang)), exitError)
		}
		return cli.Exit(pr.Sprintf("eliminate: %s", err.Error()), exitError)
	}
	if o.Ledger == "" {
		o.Ledger = pipeline.DefaultLedger(o.State)
	}
	var pol *roles.Policy
	rp := o.Roles
	if rp == "" {
		if d := filepath.Join(o.State, "roles.yaml"); fileExists(d) {
			rp = d
		}
	}
	if rp != "" {
		p, err := roles.Load(rp)
		if err != nil {
			return fail(err)
		}
		pol = p
	}
	lock, err := pipeline.LockState(o.State, o.Ledger)
	if err != nil {
		return fail(err)
	}
	defer lock.Close()
	led, err := ledger.Open(o.Ledger)
	if err != nil {
		return fail(err)
	}
	defer led.Close()
	res, err := eliminate.ImportVisa(c.Context, eliminate.ImportOptions{Visa: o.Visa, Proposal: o.Proposal, State: o.State, Ledger: led,
		Roles: pol, User: o.User, Lang: o.Lang})
	if err != nil {
		return fail(err)
	}
	w := c.App.Writer
	if res.Already {
		fmt.Fprint(w, pr.Sprintf("visa %s was already recorded for proposal %s (ledger entry %d): nothing changed\n", res.Visa.Reference, res.Proposal.ID, res.Entry.Seq))
	} else {
		fmt.Fprint(w, pr.Sprintf("visa %s recorded for proposal %s (ledger entry %d): %d lot(s) accepted (%d dossiers), %d refused, %d not answered\n",
			res.Visa.Reference, res.Proposal.ID, res.Entry.Seq, res.Accepted, res.Dossiers, res.Refused, res.Unanswered))
	}
	return nil
}
