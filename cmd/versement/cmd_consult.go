package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/consult"
	"github.com/versement/versement/fiche"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/targets"
)

func init() {
	register(&cli.Command{
		Name:  "consult",
		Usage: "find an archived dossier and read it back (the fiche), with a motive; every access is logged",
		Description: "With --key, prints the fiche of one dossier of --profile, read out of its SIP where the index\n" +
			"says it is (a folder or S3: the zip's directory, the manifest and the dossier's own objects;\n" +
			"every object's digest checked against the manifest). With --search (names, typos and accents\n" +
			"tolerated), --identifier, --born or --year, lists the dossiers found. The roles file decides\n" +
			"who may see which tiers; --motive-category and --motive are required; every search, view,\n" +
			"download and refusal is written in the access log before anything is shown.\n" +
			"Exit status: 0 shown, 1 nothing found (or refused), 2 the consultation could not be done.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "profile", Usage: "the dossier's profile (apogee, harpege); required with --key"},
			&cli.StringFlag{Name: "key", Usage: "the dossier's key (Apogée COD_IND, Harpège NO_INDIVIDU)"},
			&cli.StringFlag{Name: "search", Usage: "names to search for, in any order (typos and accents tolerated)"},
			&cli.StringFlag{Name: "identifier", Usage: "an identifier to search for (COD_ETU, INE, matricule, or the key)"},
			&cli.StringFlag{Name: "born", Usage: "with --search: birth year (YYYY) or date (YYYY-MM-DD)"},
			&cli.IntFlag{Name: "year", Usage: "a year of registration"},
			&cli.StringFlag{Name: "html", Usage: "with --key: also write the printable fiche (HTML, A4) to this file"},
			&cli.StringFlag{Name: "objects", Usage: "with --key: also write the dossier's objects, as archived, into this folder"},
			&cli.StringFlag{Name: "zip", Usage: "with --key: also write the dossier as a small zip with its manifest (DIP-like) to this file"},
			&cli.BoolFlag{Name: "json", Usage: "print the fiche or the matches as JSON"},
			&cli.BoolFlag{Name: "roles-example", Usage: "print an example roles file (commented) and exit"},
		}, consultFlags()...),
		Action: consultAction,
	})
}

// consultFlags are the flags every consultation verb shares: where the index, roles and access
// log are, who asks and why.
func consultFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "state", Value: "versement-state", Usage: "state folder: the index (STATE/index.db) and the access log (STATE/access-log.jsonl)"},
		&cli.StringFlag{Name: "index", Usage: "the consultation index; default STATE/index.db"},
		&cli.StringFlag{Name: "access-log", Usage: "the access log; default STATE/access-log.jsonl"},
		&cli.StringFlag{Name: "roles", Usage: "the roles file: who may consult which profiles, classes and tiers; default STATE/roles.yaml", EnvVars: []string{"VERSEMENT_ROLES"}},
		&cli.StringFlag{Name: "as", Usage: "who consults, when not the system user (an account of the establishment's sign-on); the system user is recorded beside it"},
		&cli.StringSliceFlag{Name: "groups", Usage: "with --as: that user's groups, comma-separated"},
		&cli.StringFlag{Name: "motive-category", Usage: "why: one of the roles file's categories (droit-acces, verification-diplome, …)"},
		&cli.StringFlag{Name: "motive", Usage: "why, in your words (a request's reference, a court's letter…)"},
	}
}

// consultEnv is what the consultation verbs open: the service and who asks.
type consultEnv struct {
	svc   *consult.Service
	req   consult.Request
	tag   language.Tag
	state *pipeline.State // the runs' state, for what eliminations destroyed; nil: none
}

func (e *consultEnv) Close() error {
	err := errors.Join(e.svc.Close(), e.svc.Index.Close(), e.svc.Log.Close())
	if e.state != nil {
		err = errors.Join(err, e.state.Close())
	}
	return err
}

func openConsult(c *cli.Context) (*consultEnv, error) {
	if c.IsSet("groups") && c.String("as") == "" {
		return nil, cli.Exit("consult: --groups goes with --as (without it, the system user's groups are used)", exitError)
	}
	who, err := cliUser(c.String("as"), c.StringSlice("groups"))
	if err != nil {
		return nil, cli.Exit("consult: "+err.Error(), exitError)
	}
	env, err := openService(c, nil)
	if err != nil {
		return nil, err
	}
	env.req = consult.Request{User: who.User, Motive: consult.Motive{Category: c.String("motive-category"), Text: c.String("motive")}, Client: who.Client}
	return env, nil
}

// openService opens the index, the roles file (or uses policy when it is not nil) and the access
// log of the state folder.
func openService(c *cli.Context, policy *roles.Policy) (*consultEnv, error) {
	state := c.String("state")
	pathOr := func(flag, def string) string {
		if v := c.String(flag); v != "" {
			return v
		}
		return filepath.Join(state, def)
	}
	pol := policy
	if pol == nil {
		rp := pathOr("roles", "roles.yaml")
		if _, err := os.Stat(rp); err != nil {
			return nil, cli.Exit(fmt.Sprintf("consult: no roles file at %s: nobody may consult without one (an example: versement consult --roles-example)", rp), exitError)
		}
		var err error
		if pol, err = roles.Load(rp); err != nil {
			return nil, cli.Exit("consult: "+err.Error(), exitError)
		}
	}
	ip := pathOr("index", "index.db")
	if _, err := os.Stat(ip); err != nil {
		return nil, cli.Exit(fmt.Sprintf("consult: no index at %s: runs write it in their state folder; versement index rebuild --target URL recovers it from the SIPs", ip), exitError)
	}
	st, err := index.Open(c.Context, ip)
	if err != nil {
		return nil, cli.Exit("consult: "+err.Error(), exitError)
	}
	lg, err := accesslog.Open(pathOr("access-log", "access-log.jsonl"))
	if err != nil {
		st.Close()
		return nil, cli.Exit("consult: "+err.Error(), exitError)
	}
	tag := readerLang(c)
	svc := &consult.Service{Index: st, Policy: pol, Log: lg, Lang: tag,
		OpenTarget: func(ctx context.Context, url string) (transfer.Target, error) {
			return targets.Open(ctx, url, targets.Options{})
		}}
	env := &consultEnv{svc: svc, tag: tag}
	// A dossier an elimination destroyed is no longer in the index; the state says when, and
	// under which visa, so that the answer (and the access log) say so.
	if _, err := os.Stat(filepath.Join(state, "state.db")); err == nil {
		ps, err := pipeline.OpenState(c.Context, state)
		if err != nil {
			env.Close()
			return nil, cli.Exit("consult: "+err.Error(), exitError)
		}
		env.state = ps
		svc.Destroyed = func(ctx context.Context, profile, key string) (consult.Destruction, bool, error) {
			es, err := ps.EliminatedKey(ctx, profile, key)
			if err != nil || len(es) == 0 {
				return consult.Destruction{}, false, err
			}
			return consult.Destruction{Visa: es[0].Visa, At: es[0].At}, true, nil
		}
	}
	return env, nil
}

// consultExit is the exit a consultation's error gives: 1 for what is not there or refused, 2 for
// what could not be done.
func consultExit(err error) error {
	var r *consult.Refusal
	switch {
	case errors.As(err, &r):
		return cli.Exit("consult: refused: "+r.Message+" (the refusal is recorded in the access log)", exitFindings)
	case errors.Is(err, consult.ErrNotFound):
		return cli.Exit("consult: "+err.Error(), exitFindings)
	case errors.Is(err, index.ErrBadQuery):
		return cli.Exit("consult: "+err.Error(), exitError)
	}
	return cli.Exit("consult: "+err.Error(), exitError)
}

func consultAction(c *cli.Context) error {
	if c.Bool("roles-example") {
		_, err := c.App.Writer.Write(roles.ExampleYAML)
		return err
	}
	byKey := c.String("key") != ""
	searching := c.String("search") != "" || c.String("identifier") != "" || c.String("born") != "" || c.Int("year") != 0
	switch {
	case byKey && searching:
		return cli.Exit("consult: --key reads one dossier, --search/--identifier/--born/--year look for dossiers: give one or the other", exitError)
	case !byKey && !searching:
		return cli.Exit("consult: give --profile and --key to read a dossier, or --search/--identifier/--year to find one", exitError)
	case byKey && c.String("profile") == "":
		return cli.Exit("consult: --key needs --profile (the key is the profile's)", exitError)
	case !byKey && (c.String("html") != "" || c.String("objects") != "" || c.String("zip") != ""):
		return cli.Exit("consult: --html, --objects and --zip write one dossier: give --profile and --key", exitError)
	}
	env, err := openConsult(c)
	if err != nil {
		return err
	}
	defer env.Close()
	if searching {
		return consultSearch(c, env)
	}
	return consultKey(c, env)
}

func consultSearch(c *cli.Context, env *consultEnv) error {
	ms, err := env.svc.Search(c.Context, env.req, index.Query{Profile: c.String("profile"), Name: c.String("search"),
		Identifier: c.String("identifier"), Born: c.String("born"), Year: c.Int("year")})
	if err != nil {
		return consultExit(err)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ms); err != nil {
			return err
		}
	} else {
		printMatches(c.App.Writer, env.tag, ms)
	}
	if len(ms) == 0 {
		return cli.Exit("", exitFindings)
	}
	return nil
}

func printMatches(w io.Writer, tag language.Tag, ms []index.Match) {
	p := lang.Printer(tag)
	if len(ms) == 0 {
		p.Fprintf(w, "no archived dossier matches (or none you may consult)\n")
		return
	}
	p.Fprintf(w, "%d dossier(s) found:\n", len(ms))
	for _, m := range ms {
		e := m.Entry
		born := e.Person.BirthDate
		fmt.Fprintf(w, "  %s  --profile %s --key %s  (%s, %s; %s)\n", e.Title, e.Profile, e.Key, born, e.Tier, m.Why)
	}
}

func consultKey(c *cli.Context, env *consultEnv) error {
	profile, key := c.String("profile"), c.String("key")
	f, err := env.svc.Fiche(c.Context, env.req, profile, key)
	if err != nil {
		return consultExit(err)
	}
	if p := c.String("html"); p != "" {
		footer := fiche.PrintedBy(env.tag, time.Now(), env.req.User.ID)
		if err := atomicfile.Write(p, func(w io.Writer) error { return f.WritePage(w, env.tag, footer) }); err != nil {
			return cli.Exit("consult: "+err.Error(), exitError)
		}
	}
	if dir := c.String("objects"); dir != "" {
		if err := consultObjects(c.Context, env, profile, key, dir, f.Objects); err != nil {
			return consultExit(err)
		}
	}
	if p := c.String("zip"); p != "" {
		if err := atomicfile.Write(p, func(w io.Writer) error { return env.svc.Package(c.Context, env.req, profile, key, w) }); err != nil {
			return consultExit(err)
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}
	return f.WriteText(c.App.Writer, env.tag)
}

// consultObjects writes each object of the dossier into dir under its name in the SIP, each one
// only once its bytes matched the manifest.
func consultObjects(ctx context.Context, env *consultEnv, profile, key, dir string, objects []fiche.Object) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, o := range objects {
		if strings.ContainsAny(o.Name, `/\`) || o.Name == ".." {
			return fmt.Errorf("object %q: not a file name", o.Name)
		}
		d, err := env.svc.Object(ctx, env.req, profile, key, o.Name)
		if err != nil {
			return err
		}
		err = atomicfile.Write(filepath.Join(dir, o.Name), func(w io.Writer) error { _, err := io.Copy(w, d); return err })
		d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
