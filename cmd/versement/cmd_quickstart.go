package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

func init() {
	register(&cli.Command{
		Name:  "quickstart",
		Usage: "try versement in one command: a demo Apogée database, archived into ./archives and verified",
		Description: "Creates a demo Apogée SQLite database (apogee-demo.db, if it is not there yet), runs the\n" +
			"pipeline with the built-in apogee profile into ./archives (a dir:// target; the state and the\n" +
			"ledger go to ./versement-state), verifies every SIP written and the ledger, and prints the\n" +
			"summary and where to look next. Run it again: nothing new is archived.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "folder for the demo database, ./archives and ./versement-state"},
			&cli.IntFlag{Name: "dossiers", Value: 10000, Usage: "students in the demo database (when it is created)"},
			&cli.StringFlag{Name: "as-of", Usage: "decide as of this date (YYYY-MM-DD); default: today"},
		},
		Action: quickstartAction,
	})
}

func quickstartAction(c *cli.Context) error {
	ctx := c.Context
	w := c.App.Writer
	pr := lang.Printer(readerLang(c))
	dir := c.String("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cli.Exit(fmt.Sprintf("--dir: %v", err), exitError)
	}
	asOf, err := asOfFlag(c)
	if err != nil {
		return err
	}
	db := filepath.Join(dir, "apogee-demo.db")
	archives := filepath.Join(dir, "archives")
	state := filepath.Join(dir, "versement-state")
	elimPath := filepath.Join(dir, "elimination-proposal.csv")
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		n := c.Int("dossiers")
		pr.Fprintf(w, "creating a demo Apogée database with %d students: %s\n", n, db)
		start := time.Now()
		if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: demo.Apogee, Dossiers: n, Seed: 1}); err != nil {
			os.Remove(db)
			return cli.Exit(fmt.Sprintf("demo database: %v", err), exitError)
		}
		pr.Fprintf(w, "  done in %.1fs\n", time.Since(start).Seconds())
	} else if err != nil {
		return cli.Exit(err.Error(), exitError)
	} else {
		pr.Fprintf(w, "using the demo database %s (delete it for a new one)\n", db)
	}
	p, err := profiles.Open("apogee")
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	elim, err := os.Create(elimPath)
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	target := "dir://" + archives
	pr.Fprintf(w, "archiving into %s (state and ledger in %s)\n\n", archives, state)
	// The summary says what the per-SIP log lines would: only warnings and errors are logged.
	log := slog.New(minLevel{slog.Default().Handler(), slog.LevelWarn})
	prog := newRunProgress(c.App.ErrWriter, log)
	tag := readerLang(c)
	docs := filepath.Join(dir, "bordereaux")
	rep, runErr := pipeline.Execute(ctx, pipeline.JobSpec{Profile: p, Source: "sqlite:" + db, Target: target, State: state,
		AsOf: asOf, Elimination: elim, Progress: prog.update, Log: log, Lang: tag, Documents: &pipeline.Documents{Dir: docs, Lang: tag}})
	prog.finish()
	if err := elim.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if rep != nil {
		if err := rep.WriteSummaryWith(w, pipeline.SummaryOptions{Lang: readerLang(c)}); err != nil {
			return err
		}
	}
	if runErr != nil {
		return cli.Exit(runErr.Error(), exitError)
	}

	// Verify what this run wrote, and the whole ledger against the folder.
	bad := 0
	for _, s := range rep.SIPs {
		vr, err := seda.Verify(ctx, filepath.Join(archives, s.Name), seda.VerifyOptions{})
		if err != nil || !vr.OK() {
			bad++
			pr.Fprintf(w, "SIP %s does NOT verify: %v %v\n", s.Name, err, vr)
		}
	}
	tg, err := targets.Open(ctx, target, targets.Options{Retries: -1})
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	defer tg.Close()
	lr, err := ledger.Verify(ctx, rep.Ledger, tg)
	if err != nil {
		return cli.Exit(fmt.Sprintf("ledger %s: %v", rep.Ledger, err), exitError)
	}
	if bad > 0 || !lr.OK() {
		return cli.Exit(fmt.Sprintf("verification failed: %d SIP(s) damaged, ledger problems: %v", bad, lr.Problems), exitFindings)
	}
	pr.Fprintf(w, "\nverified: %d new SIP(s) (manifest, digests, structure) and the ledger's %d entries (hash chain, every SIP at the target with its checksum)\n", len(rep.SIPs), lr.Entries)
	pr.Fprintf(w, "\nwhere to look next:\n")
	pr.Fprintf(w, "  the SIPs:                 ls %s   (unzip -p %s/NAME.zip manifest.xml)\n", archives, archives)
	pr.Fprintf(w, "  the ledger:               versement verify --ledger %s --target %s\n", rep.Ledger, target)
	pr.Fprintf(w, "  a SIP:                    versement verify %s/NAME.zip\n", archives)
	pr.Fprintf(w, "  the elimination proposal: %s\n", elimPath)
	pr.Fprintf(w, "  the bordereaux (to print): %s\n", docs+string(filepath.Separator))
	plan := filepath.Join(dir, "plan.html")
	if err := writePlanFile(plan, rep, tag); err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	pr.Fprintf(w, "  the run as pictures:       %s\n", plan)
	pr.Fprintf(w, "  one dossier's decision:   versement explain --profile apogee --source %s --key 1\n", db)
	pr.Fprintf(w, "  consult the archives:     versement serve --demo --state %s   (http://127.0.0.1:8080/)\n", state)
	pr.Fprintf(w, "  the rules:                versement rules list --profile apogee\n")
	pr.Fprintf(w, "  your own database:        versement run --profile apogee --source env:APOGEE_DSN --target dir://PATH --dry-run\n")
	return nil
}

// minLevel drops the records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }

func init() {
	lang.Translate(map[string]string{
		"creating a demo Apogée database with %d students: %s\n": "création d'une base Apogée de démonstration de %d étudiants : %s\n",
		"  done in %.1fs\n": "  faite en %.1f s\n",
		"using the demo database %s (delete it for a new one)\n": "base de démonstration %s (supprimez-la pour en créer une nouvelle)\n",
		"archiving into %s (state and ledger in %s)\n\n":         "archivage dans %s (état et journal dans %s)\n\n",
		"SIP %s does NOT verify: %v %v\n":                        "le SIP %s NE se vérifie PAS : %v %v\n",
		"\nverified: %d new SIP(s) (manifest, digests, structure) and the ledger's %d entries (hash chain, every SIP at the target with its checksum)\n": "\nvérifiés : %d nouveau(x) SIP (manifeste, empreintes, structure) et les %d entrées du journal (chaînage, chaque SIP à la cible avec son empreinte)\n",
		"\nwhere to look next:\n": "\noù regarder ensuite :\n",
		"  the SIPs:                 ls %s   (unzip -p %s/NAME.zip manifest.xml)\n":                                          "  les SIP :                  ls %s   (unzip -p %s/NOM.zip manifest.xml)\n",
		"  the ledger:               versement verify --ledger %s --target %s\n":                                             "  le journal :               versement verify --ledger %s --target %s\n",
		"  a SIP:                    versement verify %s/NAME.zip\n":                                                         "  un SIP :                   versement verify %s/NOM.zip\n",
		"  the bordereaux (to print): %s\n":                                                                                  "  les bordereaux (à imprimer) : %s\n",
		"  the run as pictures:       %s\n":                                                                                  "  le versement en images :   %s\n",
		"  the elimination proposal: %s\n":                                                                                   "  la proposition d'élimination : %s\n",
		"  one dossier's decision:   versement explain --profile apogee --source %s --key 1\n":                               "  la décision d'un dossier : versement explain --profile apogee --source %s --key 1\n",
		"  consult the archives:     versement serve --demo --state %s   (http://127.0.0.1:8080/)\n":                         "  consulter les archives :   versement serve --demo --state %s   (http://127.0.0.1:8080/)\n",
		"  the rules:                versement rules list --profile apogee\n":                                                "  les règles :               versement rules list --profile apogee\n",
		"  your own database:        versement run --profile apogee --source env:APOGEE_DSN --target dir://PATH --dry-run\n": "  votre propre base :        versement run --profile apogee --source env:APOGEE_DSN --target dir://CHEMIN --dry-run\n",
	})
}
