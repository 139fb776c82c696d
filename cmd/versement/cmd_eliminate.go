package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/eliminate"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
	"github.com/versement/versement/transfer/vitam"
)

func init() {
	register(&cli.Command{
		Name:  "eliminate",
		Usage: "after the archives' visa on a proposal of elimination: record it, then destroy what it accepts",
		Description: "Nothing is destroyed without the archives service's visa (Code du patrimoine R212-14).\n" +
			"import-visa records the visa on a bordereau d'élimination in the ledger, checked against the\n" +
			"proposal; execute applies it in the archive and writes the attestation d'élimination\n" +
			"(docs/elimination.md).",
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
		}, {
			Name:  "execute",
			Usage: "destroy what a recorded visa accepts, and write the attestation d'élimination",
			Description: "Re-decides every dossier of the accepted lots as of --as-of (a hold put since the proposal, a\n" +
				"rule changed: the dossier is spared and the attestation says why), rewrites each SIP holding a\n" +
				"destroyed dossier without it, verifies, sends and records the rewrite, then deletes the old SIP\n" +
				"(a SIP under S3 Object Lock stays until its date: run execute again then). Dossiers archived in\n" +
				"VITAM are eliminated by VITAM (--vitam-access). Dossiers still in the source are listed for the\n" +
				"application's DBA: versement deletes no source data. Killed at any point, run it again: it ends\n" +
				"as an uninterrupted run would. --dry-run decides, rewrites and verifies, and changes nothing.",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "visa", Required: true, Usage: "the visa's reference, as import-visa recorded it"},
				&cli.StringFlag{Name: "profile", Required: true, Usage: "the proposal's profile, as it is now (its schedule and holds re-decide)"},
				&cli.StringFlag{Name: "state", Value: "versement-state", Usage: "the state folder of the runs that archived the dossiers"},
				&cli.StringFlag{Name: "ledger", Usage: "the ledger; default STATE/ledger.jsonl"},
				&cli.StringFlag{Name: "index", Usage: "the consultation index, which forgets destroyed dossiers; default STATE/index.db when it exists"},
				&cli.StringFlag{Name: "out", Value: "bordereaux", Usage: "folder of the attestation d'élimination"},
				&cli.StringFlag{Name: "as-of", Usage: "decide as of this date (YYYY-MM-DD) instead of today"},
				&cli.BoolFlag{Name: "dry-run", Usage: "decide, rewrite and verify; send, delete and record nothing (an attestation marked simulation)"},
				&cli.StringFlag{Name: "vitam-access", Usage: "VITAM's access API, for dossiers archived in VITAM, e.g. 'vitam+https://HOST?tenant=N&access-contract=ID'"},
				&cli.StringFlag{Name: "object-lock", Usage: "COMPLIANCE or GOVERNANCE: lock each rewritten SIP as the run locked the one it replaces"},
				&cli.StringFlag{Name: "xsd-dir", Usage: "folder of the official SEDA XSDs (seda-2.N/seda-2.N-main.xsd): each rewritten SIP is also validated against its schema", EnvVars: []string{"VERSEMENT_XSD_DIR"}},
			}, sourceFlags()...),
			Action: eliminateExecuteAction,
		}},
	})
	lang.Translate(map[string]string{
		"visa %s recorded for proposal %s (ledger entry %d): %d lot(s) accepted (%d dossiers), %d refused, %d not answered\n": "visa %s enregistré pour la proposition %s (entrée %d du journal) : %d lot(s) accepté(s) (%d dossiers), %d refusé(s), %d sans réponse\n",
		"visa %s was already recorded for proposal %s (ledger entry %d): nothing changed\n":                                   "le visa %s était déjà enregistré pour la proposition %s (entrée %d du journal) : rien n'a changé\n",
		"eliminate: %s": "eliminate : %s",
		"visa %s executed: %d dossier(s) destroyed, %d spared, %d still in the source (for the DBA); %d SIP(s) rewritten; ledger entry %d\n": "visa %s exécuté : %d dossier(s) détruit(s), %d non éliminé(s), %d encore dans la source (pour l'administrateur) ; %d SIP réécrit(s) ; entrée %d du journal\n",
		"simulation of visa %s: %d dossier(s) would be destroyed, %d spared, %d still in the source; nothing was changed\n":                  "simulation du visa %s : %d dossier(s) seraient détruits, %d non éliminé(s), %d encore dans la source ; rien n'a été modifié\n",
		"visa %s was executed before (ledger entry %d): nothing left to do\n":                                                                "le visa %s a déjà été exécuté (entrée %d du journal) : plus rien à faire\n",
		"%d old SIP(s) under Object Lock: to destroy when the lock ends; run execute again then\n":                                           "%d ancien(s) SIP sous verrou (Object Lock) : à détruire à la fin du verrou ; relancez execute à cette date\n",
		"attestation: %s\n": "attestation : %s\n",
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
	fail := eliminateFailure(o.Lang)
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
	led, release, err := lockLedger(o.State, o.Ledger)
	if err != nil {
		return fail(err)
	}
	defer release()
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

// eliminateExecuteOptions are `versement eliminate execute`'s.
type eliminateExecuteOptions struct {
	Visa, State, Ledger, Index, Out, VITAMAccess, ObjectLock, XSD string
	AsOf                                                          civil.Date
	DryRun                                                        bool
	Lang                                                          language.Tag
}

func eliminateExecuteAction(c *cli.Context) error {
	asOf, err := asOfFlag(c)
	if err != nil {
		return err
	}
	o := eliminateExecuteOptions{Visa: c.String("visa"), State: c.String("state"), Ledger: c.String("ledger"), Index: c.String("index"),
		Out: c.String("out"), VITAMAccess: c.String("vitam-access"), ObjectLock: c.String("object-lock"), XSD: c.String("xsd-dir"),
		AsOf: asOf, DryRun: c.Bool("dry-run"), Lang: readerLang(c)}
	switch o.ObjectLock {
	case "", "COMPLIANCE", "GOVERNANCE":
	default:
		return cli.Exit(fmt.Sprintf("eliminate execute: --object-lock %q: want COMPLIANCE or GOVERNANCE", o.ObjectLock), exitError)
	}
	return runEliminateExecute(c, o)
}

func runEliminateExecute(c *cli.Context, o eliminateExecuteOptions) error {
	ctx := c.Context
	pr := lang.Printer(o.Lang)
	fail := eliminateFailure(o.Lang)
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	if o.Ledger == "" {
		o.Ledger = pipeline.DefaultLedger(o.State)
	}
	if o.Index == "" {
		if d := pipeline.DefaultIndex(o.State); fileExists(d) {
			o.Index = d
		}
	}
	var src extract.Source
	// The source is read only when named: after a decommission it is gone, and the proposal and
	// the profile decide alone (a dossier under a hold with a where expression is then spared).
	if c.String("source") != "" {
		s, _, err := openSource(ctx, c, p)
		if err != nil {
			return err
		}
		defer s.Close()
		src = s
	}
	led, release, err := lockLedger(o.State, o.Ledger)
	if err != nil {
		return fail(err)
	}
	defer release()
	var ix index.Store
	if o.Index != "" {
		s, err := index.Open(ctx, o.Index)
		if err != nil {
			return fail(err)
		}
		defer s.Close()
		ix = s
	}
	var acc *vitam.Access
	if o.VITAMAccess != "" {
		a, err := vitam.OpenAccess(ctx, o.VITAMAccess, vitam.Options{})
		if err != nil {
			return fail(err)
		}
		defer a.Close()
		acc = a
	}
	executor := ""
	if u, err := user.Current(); err == nil {
		executor = u.Username
	}
	res, err := eliminate.Execute(ctx, eliminate.ExecuteOptions{Visa: o.Visa, State: o.State, Ledger: led, Profile: p, Source: src, Index: ix,
		OpenTarget: func(ctx context.Context, raw string) (transfer.Target, error) {
			return targets.Open(ctx, raw, targets.Options{DryRun: o.DryRun})
		},
		Access: acc, ObjectLock: o.ObjectLock, Out: o.Out, AsOf: o.AsOf, DryRun: o.DryRun, Executor: executor, XSDDir: o.XSD, Lang: o.Lang})
	if err != nil {
		return fail(err)
	}
	w := c.App.Writer
	switch {
	case res.NothingToDo:
		fmt.Fprint(w, pr.Sprintf("visa %s was executed before (ledger entry %d): nothing left to do\n", o.Visa, res.Entry.Seq))
	case o.DryRun:
		fmt.Fprint(w, pr.Sprintf("simulation of visa %s: %d dossier(s) would be destroyed, %d spared, %d still in the source; nothing was changed\n", o.Visa, res.Destroyed, res.Spared, res.InSource))
	default:
		fmt.Fprint(w, pr.Sprintf("visa %s executed: %d dossier(s) destroyed, %d spared, %d still in the source (for the DBA); %d SIP(s) rewritten; ledger entry %d\n",
			o.Visa, res.Destroyed, res.Spared, res.InSource, res.Rewritten, res.Entry.Seq))
	}
	if res.Locked > 0 {
		fmt.Fprint(w, pr.Sprintf("%d old SIP(s) under Object Lock: to destroy when the lock ends; run execute again then\n", res.Locked))
	}
	for _, f := range res.Files {
		fmt.Fprint(w, pr.Sprintf("attestation: %s\n", f))
	}
	return nil
}

// eliminateFailure makes an error the exit of an eliminate command, in the reader's language when
// the error can say itself in it.
func eliminateFailure(tag language.Tag) func(error) error {
	pr := lang.Printer(tag)
	return func(err error) error {
		var m interface{ Message(language.Tag) string }
		if errors.As(err, &m) {
			return cli.Exit(pr.Sprintf("eliminate: %s", m.Message(tag)), exitError)
		}
		return cli.Exit(pr.Sprintf("eliminate: %s", err.Error()), exitError)
	}
}

// lockLedger takes the state folder's lock, as a run does, and opens its ledger; release undoes
// both. An elimination and a run never write one state at once.
func lockLedger(state, path string) (led *ledger.Ledger, release func(), err error) {
	lock, err := pipeline.LockState(state, path)
	if err != nil {
		return nil, nil, err
	}
	led, err = ledger.Open(path)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return led, func() { led.Close(); lock.Close() }, nil
}
