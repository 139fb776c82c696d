package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/consult"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/roles"
)

func init() {
	register(&cli.Command{
		Name:  "access-log",
		Usage: "list every access to one archived dossier (who, when, what, why, with what result)",
		UsageText: "versement access-log --log FILE --roles FILE --profile P --key K --motive-category C --motive TEXT\n" +
			"   [--as USER --groups g1,g2] [--json]",
		Description: "Answers a data subject's question \"who read my record\": every search that returned the\n" +
			"dossier, every view and download of it, every refusal and every earlier listing, from the\n" +
			"access log that versement serve and consult write (its chain is checked on the way). The\n" +
			"caller must hold a role with access_log: true in the roles file, and give a motive: this\n" +
			"listing is itself recorded in the access log, before anything is shown. Without --as, the\n" +
			"caller is the operating system's user with their groups; with it, --groups gives the groups\n" +
			"and the system user is recorded beside it. The log is held by one process at a time: while\n" +
			"versement serve runs on it, use its page instead.\n" +
			"Exit status: 0 listed, 1 refused (no role, no motive: the refusal is recorded), 2 the call or\n" +
			"a file is wrong.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log", Usage: "the access log (as versement serve writes it)", EnvVars: []string{"VERSEMENT_ACCESS_LOG"}},
			&cli.StringFlag{Name: "roles", Usage: "the roles file (YAML) saying who may read the access log; without one nobody may", EnvVars: []string{"VERSEMENT_ROLES"}},
			&cli.StringFlag{Name: "profile", Usage: "the dossier's profile (apogee, harpege…)"},
			&cli.StringFlag{Name: "key", Usage: "the dossier's key (COD_ETU for Apogée, matricule for Harpège)"},
			&cli.StringFlag{Name: "as", Usage: "who is asking, when not the system user (an account of the establishment's sign-on)"},
			&cli.StringSliceFlag{Name: "groups", Usage: "with --as: that user's groups, comma-separated"},
			&cli.StringFlag{Name: "motive-category", Usage: "why: a category of the roles file (droit-acces, controle-audit…)"},
			&cli.StringFlag{Name: "motive", Usage: "why, in a few words (the request's date or reference)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON document"},
		},
		Action: func(c *cli.Context) error {
			return runAccessLog(c.Context, accessLogOptions{
				Log: c.String("log"), Roles: c.String("roles"), Profile: c.String("profile"), Key: c.String("key"),
				As: c.String("as"), Groups: c.StringSlice("groups"), GroupsSet: c.IsSet("groups"),
				MotiveCategory: c.String("motive-category"), Motive: c.String("motive"),
				JSON: c.Bool("json"), Lang: readerLang(c), Out: c.App.Writer,
			})
		},
	})
}

// accessLogOptions is what `versement access-log` was asked.
type accessLogOptions struct {
	Log, Roles   string
	Profile, Key string
	As           string
	Groups       []string
	GroupsSet    bool // --groups was given (perhaps empty)
	// The motive of the listing.
	MotiveCategory, Motive string
	JSON                   bool
	Lang                   language.Tag
	Out                    io.Writer
}

// runAccessLog checks that the caller may read the access log and gave a motive, records the
// listing (or its refusal) in the log, and then prints every access to the dossier, the listing
// just recorded included.
func runAccessLog(ctx context.Context, o accessLogOptions) error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"--log", o.Log}, {"--profile", o.Profile}, {"--key", o.Key}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return cli.Exit("access-log: give "+strings.Join(missing, ", "), exitError)
	}
	if o.GroupsSet && o.As == "" {
		return cli.Exit("access-log: --groups goes with --as (without it, the system user's groups are used)", exitError)
	}
	var policy *roles.Policy // no roles file: nobody may read the log
	if o.Roles != "" {
		p, err := roles.Load(o.Roles)
		if err != nil {
			return cli.Exit("access-log: "+err.Error(), exitError)
		}
		policy = p
	}
	who, err := cliUser(o.As, o.Groups)
	if err != nil {
		return cli.Exit("access-log: "+err.Error(), exitError)
	}
	// A log that is not there is a wrong path, not a dossier nobody read: creating it would
	// answer "no access" for a log kept elsewhere.
	if _, err := os.Stat(o.Log); errors.Is(err, fs.ErrNotExist) {
		return cli.Exit(fmt.Sprintf("access-log: %s does not exist: give the access log that versement serve and consult write", o.Log), exitError)
	}
	log, err := accesslog.Open(o.Log)
	if err != nil {
		return cli.Exit("access-log: "+err.Error(), exitError)
	}
	defer log.Close()

	entry := accesslog.Entry{
		User: accesslog.User(who.User), Client: who.Client, Operation: accesslog.OpAccessLog,
		Profile: o.Profile, Key: o.Key,
		Motive: accesslog.Motive{Category: strings.TrimSpace(o.MotiveCategory), Text: strings.TrimSpace(o.Motive)},
		Result: accesslog.ResultOK,
	}
	refusal := ""
	if d := policy.MayReadLog(who.User); !d.Allowed {
		entry.Result, entry.Reason, refusal = accesslog.ResultRefused, d.Reason, d.Message(o.Lang)
	} else if err := policy.CheckMotive(o.MotiveCategory, o.Motive); err != nil {
		var me *roles.MotiveError
		errors.As(err, &me)
		entry.Result, entry.Reason, refusal = accesslog.ResultRefused, me.Reason, me.Message(o.Lang)
	}
	// Recorded before anything is shown: a listing that cannot be logged is not made.
	recorded, err := log.Append(ctx, entry)
	if err != nil {
		return cli.Exit("access-log: "+err.Error(), exitError)
	}
	if refusal != "" {
		return cli.Exit(lang.Printer(o.Lang).Sprintf("access-log: refused: %s (the refusal is recorded in the access log)", refusal), exitFindings)
	}
	var accesses []accesslog.Entry
	if err := log.ForKey(ctx, o.Profile, o.Key, func(e accesslog.Entry) error {
		accesses = append(accesses, e)
		return nil
	}); err != nil {
		return cli.Exit("access-log: "+err.Error(), exitError)
	}
	if o.JSON {
		return printAccessesJSON(o, recorded, accesses)
	}
	return printAccesses(o, policy, recorded, accesses)
}

// cliWho is the user of a command-line consultation, and where it ran.
type cliWho struct {
	User   roles.User
	Client string // "cli:SYSTEM-USER@HOST": who really ran it, whatever --as says
}

// cliUser is --as with --groups, or the system user with their groups. Either way the system
// user and the host go into Client: --as cannot hide who ran the command.
func cliUser(as string, groups []string) (cliWho, error) {
	sys, err := user.Current()
	if err != nil {
		return cliWho{}, fmt.Errorf("who is running this command: %w (give --as USER --groups …)", err)
	}
	host, _ := os.Hostname()
	w := cliWho{Client: "cli:" + sys.Username + "@" + host}
	if as != "" {
		var gs []string
		for _, g := range groups {
			if g = strings.TrimSpace(g); g != "" {
				gs = append(gs, g)
			}
		}
		w.User = roles.User{ID: as, Groups: gs, Via: accesslog.ViaCLI}
		return w, nil
	}
	w.User = roles.User{ID: sys.Username, Name: sys.Name, Via: accesslog.ViaCLI}
	ids, err := sys.GroupIds()
	if err != nil {
		return cliWho{}, fmt.Errorf("the groups of %s: %w (give --as USER --groups …)", sys.Username, err)
	}
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			w.User.Groups = append(w.User.Groups, g.Name)
		}
	}
	return w, nil
}

func init() {
	lang.Translate(map[string]string{
		"access-log: refused: %s (the refusal is recorded in the access log)":          "access-log : refusé : %s (le refus est enregistré dans le journal des accès)",
		"accesses to dossier %s/%s (access log %s):\n":                                 "accès au dossier %s/%s (journal des accès %s) :\n",
		"WHEN\tWHO\tOPERATION\tMOTIVE\tRESULT\n":                                       "DATE\tQUI\tOPÉRATION\tMOTIF\tRÉSULTAT\n",
		"%d accesses; this listing is itself recorded (entry %d of the access log).\n": "%d accès ; cette lecture est elle-même enregistrée (entrée %d du journal des accès).\n",
	})
}

// printAccesses prints the accesses as a table for a person, in their language. What people typed
// (names, motives) is made safe for a terminal; a search's criteria and the other dossiers it
// returned are not shown: they are not this dossier's.
func printAccesses(o accessLogOptions, policy *roles.Policy, recorded accesslog.Entry, accesses []accesslog.Entry) error {
	pr := lang.Printer(o.Lang)
	safe := textsafe.Terminal
	pr.Fprintf(o.Out, "accesses to dossier %s/%s (access log %s):\n", safe(o.Profile), safe(o.Key), o.Log)
	tw := tabwriter.NewWriter(o.Out, 0, 0, 2, ' ', 0)
	pr.Fprintf(tw, "WHEN\tWHO\tOPERATION\tMOTIVE\tRESULT\n")
	for _, e := range accesses {
		row := consult.AccessRow(o.Lang, policy, e)
		for i := range row {
			row[i] = safe(row[i])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := pr.Fprintf(o.Out, "%d accesses; this listing is itself recorded (entry %d of the access log).\n", len(accesses), recorded.Seq)
	return err
}

// accessJSON is one access as the JSON listing shows it: what a data subject is owed, without a
// search's criteria nor the other dossiers it returned.
type accessJSON struct {
	Seq       int64               `json:"seq"`
	Time      time.Time           `json:"time"`
	User      accesslog.User      `json:"user"`
	Operation accesslog.Operation `json:"op"`
	Class     string              `json:"class,omitempty"`
	Tier      string              `json:"tier,omitempty"`
	Motive    accesslog.Motive    `json:"motive,omitzero"`
	Result    accesslog.Result    `json:"result"`
	Reason    string              `json:"reason,omitempty"`
}

func printAccessesJSON(o accessLogOptions, recorded accesslog.Entry, accesses []accesslog.Entry) error {
	out := struct {
		Profile  string       `json:"profile"`
		Key      string       `json:"key"`
		Log      string       `json:"log"`
		Recorded int64        `json:"recorded_as"` // this listing's own entry
		Accesses []accessJSON `json:"accesses"`
	}{Profile: o.Profile, Key: o.Key, Log: o.Log, Recorded: recorded.Seq, Accesses: []accessJSON{}}
	for _, e := range accesses {
		out.Accesses = append(out.Accesses, accessJSON{Seq: e.Seq, Time: e.Time, User: e.User,
			Operation: e.Operation, Class: e.Class, Tier: e.Tier, Motive: e.Motive, Result: e.Result, Reason: e.Reason})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.Out, string(b))
	return err
}
