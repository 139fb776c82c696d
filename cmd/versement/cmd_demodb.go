package main

import (
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

func init() {
	register(&cli.Command{
		Name:  "demo-db",
		Usage: "create a synthetic Apogée or Harpège database to try versement on",
		Description: "Builds a database with the real table and column names of Apogée (students) or Harpège\n" +
			"(staff), forty years of history (" + fmt.Sprint(demo.FirstYear) + "–" + fmt.Sprint(demo.LastYear) + "), French names, some NULL dates, dirty\n" +
			"text (control characters, invalid UTF-8 on SQLite, 100 kB comments) and photos as BLOBs.\n" +
			"The same --seed gives the same database.\n\n" +
			"   versement demo-db --profile apogee --dossiers 10000 --out apogee.db\n" +
			"   DEMO_PG=postgres://user:pass@host/db versement demo-db --profile harpege --dsn env:DEMO_PG",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "profile", Required: true, Usage: "apogee or harpege"},
			&cli.IntFlag{Name: "dossiers", Value: 1000, Usage: "number of students or agents"},
			&cli.StringFlag{Name: "out", Usage: "SQLite file to create (must not exist)"},
			&cli.StringFlag{Name: "dsn", Usage: "PostgreSQL database to fill instead, as env:VAR or file:PATH (never the connection string itself)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed: the same seed gives the same data"},
			&cli.BoolFlag{Name: "clean", Usage: "leave out dirty values (control characters, invalid UTF-8, 100 kB comments)"},
		},
		Action: demoDB,
	})
}

func demoDB(c *cli.Context) error {
	profile := c.String("profile")
	if profile != demo.Apogee && profile != demo.Harpege {
		return cli.Exit(fmt.Sprintf("--profile %q: want apogee or harpege", profile), exitError)
	}
	n := c.Int("dossiers")
	if n < 0 {
		return cli.Exit(fmt.Sprintf("--dossiers %d: want 0 or more", n), exitError)
	}
	out, dsnSpec := c.String("out"), c.String("dsn")
	if (out == "") == (dsnSpec == "") {
		return cli.Exit("give either --out FILE.db (SQLite) or --dsn env:VAR|file:PATH (PostgreSQL)", exitError)
	}
	opt := demo.Options{Profile: profile, Dossiers: n, Seed: c.Uint64("seed"), Clean: c.Bool("clean"),
		Progress: func(done int) { slog.Info("demo-db", "dossiers", done, "of", n) }}
	start := time.Now()
	var st demo.Stats
	var err error
	where := out
	if out != "" {
		st, err = demo.CreateSQLite(c.Context, out, opt)
	} else {
		if !strings.HasPrefix(dsnSpec, "env:") && !strings.HasPrefix(dsnSpec, "file:") {
			return cli.Exit(fmt.Sprintf("--dsn %s: give env:VAR or file:PATH; a connection string on the command line would expose its password", extract.Redact(dsnSpec)), exitError)
		}
		var dsn string
		dsn, err = extract.ResolveDSN(dsnSpec)
		if err != nil {
			return cli.Exit(err.Error(), exitError)
		}
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			return cli.Exit(fmt.Sprintf("--dsn %s: demo databases go to SQLite (--out) or PostgreSQL (postgres://…)", dsnSpec), exitError)
		}
		where = extract.Redact(dsn)
		var db *sql.DB
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			st, err = demo.Generate(c.Context, db, "postgres", opt)
			db.Close()
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", where, extract.RedactError(err, dsn))
		}
	}
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	total := 0
	var names []string
	for t, k := range st.Rows {
		total += k
		names = append(names, fmt.Sprintf("%s %d", t, k))
	}
	sort.Strings(names)
	fmt.Fprintf(c.App.Writer, "%s: %d %s dossiers, %d rows in %d tables (seed %d) in %s\n  %s\n",
		where, n, profile, total, len(st.Rows), opt.Seed, time.Since(start).Round(time.Millisecond), strings.Join(names, ", "))
	return nil
}
