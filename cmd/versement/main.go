// Command versement archives the data of decommissioned university applications (Apogée, Harpège)
// as SEDA packages, deciding each dossier's retention tier on the way.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
)

// Exit codes shared by every command, so that scripts can tell a damaged package from a broken call.
const (
	exitOK       = 0
	exitFindings = 1 // the command ran and found something wrong (a damaged SIP, a broken ledger)
	exitError    = 2 // the command could not do its job (unreadable input, bad flags, I/O failure)
)

// commands is filled by the init functions of the cmd_<verb>.go files, so that adding a command
// touches one file only.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

// globalFlags are the app's own flags. Each command accepts them too (`versement run --log-level
// debug`), as users write them after the command as often as before it.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"VERSEMENT_LOG_LEVEL"}},
		&cli.StringFlag{Name: "log-format", Value: "auto", Usage: "text, json, or auto (json when stderr is not a terminal)"},
		&cli.StringFlag{Name: "lang", Usage: "language of what people read (summaries, documents): fr or en; default: from LC_ALL, LC_MESSAGES or LANG (French when it starts with fr). Logs stay in English"},
	}
}

// readerLang is the language of what the command prints for a person: --lang where it is given
// (after the command or before it), else the environment's locale.
func readerLang(c *cli.Context) language.Tag { return lang.FromEnv(readerLangFlag(c)) }

// readerLangFlag is --lang as given, after the command or before it; "" when it is not.
func readerLangFlag(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("lang") {
			return ctx.String("lang")
		}
	}
	return ""
}

func newApp() *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	for _, c := range commands {
		setupCommand(c, "")
	}
	cli.VersionPrinter = printVersion
	return &cli.App{
		Name:  "versement",
		Usage: "archive the data of decommissioned university applications as SEDA packages",
		Description: "versement extracts dossiers (students, agents) from a legacy database, decides each\n" +
			"one's retention tier (active, intermediate, final, destroy), packages them as SEDA 2.x SIPs\n" +
			"and sends them to a folder, an S3 drop zone or VITAM, keeping a ledger an auditor can check.",
		Commands: append(commands[:len(commands):len(commands)], helpCommand()),
		// With a command named help, urfave/cli no longer adds --help by itself.
		Flags:   append(globalFlags(), cli.HelpFlag),
		Version: strings.TrimPrefix(versionText(), "versement "),
		Before: func(c *cli.Context) error {
			if err := setupLogging(c.String("log-level"), c.String("log-format")); err != nil {
				return err
			}
			// Before any command runs: urfave/cli stops reading flags at the first positional
			// argument, so a stray one would silently turn the flags after it into arguments.
			return checkArgs(commands, c.Args().Slice(), "")
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			return unknownCommand("", commands, c.Args().First())
		},
		Suggest:         true,                         // did-you-mean for mistyped flags
		ExitErrHandler:  func(*cli.Context, error) {}, // main decides the exit code
		HideHelpCommand: true,                         // helpCommand instead: its unknown topic exits 3
	}
}

// setupCommand prepares a registered command and its subcommands: the global flags, a name for
// their help, and for a command that only groups subcommands an action that refuses an unknown
// one (urfave/cli's default says "No help topic" and exits 3). It may run more than once (tests
// build one app per call).
func setupCommand(c *cli.Command, parent string) {
	path := strings.TrimSpace(parent + " " + c.Name)
	// urfave/cli would add a "help" subcommand to each command it runs: `versement help CMD` does it.
	c.HideHelpCommand = true
	if parent == "" {
		c.HelpName = "" // App.Setup prefixes it with the app's name
	} else {
		c.HelpName = "versement " + path
	}
	if !hasFlag(c.Flags, "log-level") && !hasFlag(c.Flags, "log-format") {
		for _, f := range globalFlags() {
			f.(*cli.StringFlag).EnvVars = nil // read by the app's own flag
			f.(*cli.StringFlag).Category = "global (also before the command)"
			c.Flags = append(c.Flags, f)
		}
		before := c.Before
		c.Before = func(ctx *cli.Context) error {
			if err := commandLogging(ctx); err != nil {
				return err
			}
			if before != nil {
				return before(ctx)
			}
			return nil
		}
	}
	if len(c.Subcommands) == 0 {
		return
	}
	if c.Action == nil {
		c.Action = func(ctx *cli.Context) error {
			if ctx.NArg() == 0 {
				return cli.ShowSubcommandHelp(ctx)
			}
			return unknownCommand(path, c.Subcommands, ctx.Args().First())
		}
	}
	for _, sc := range c.Subcommands {
		setupCommand(sc, path)
	}
}

func hasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// commandLogging sets the logging up again when a global flag was given after the command: each
// flag given there wins over the one given before it or in the environment.
func commandLogging(c *cli.Context) error {
	if !c.IsSet("log-level") && !c.IsSet("log-format") {
		return nil
	}
	var level, format string
	lineage, root := c.Lineage(), true
	for i := len(lineage) - 1; i >= 0; i-- { // from the app's context to the command's
		ctx := lineage[i]
		if ctx.Command == nil {
			continue
		}
		if root || ctx.IsSet("log-level") {
			level = ctx.String("log-level")
		}
		if root || ctx.IsSet("log-format") {
			format = ctx.String("log-format")
		}
		root = false
	}
	return setupLogging(level, format)
}

// helpCommand is `versement help [COMMAND [SUBCOMMAND]]`: urfave/cli's own exits 3 on an unknown
// topic and takes one word only.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the help of versement or of a command",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		HideHelp:  true,
		Action: func(c *cli.Context) error {
			cmds, parent := commands, ""
			var cmd *cli.Command
			for _, name := range c.Args().Slice() {
				if cmd != nil && len(cmds) == 0 {
					return cli.Exit(fmt.Sprintf("help: %s has no subcommands (%q)", parent, name), exitError)
				}
				cmd = nil
				for _, sc := range cmds {
					if sc.HasName(name) {
						cmd = sc
					}
				}
				if cmd == nil {
					return unknownCommand(parent, cmds, name)
				}
				cmds, parent = cmd.Subcommands, strings.TrimSpace(parent+" "+cmd.Name)
			}
			if cmd == nil {
				return cli.ShowAppHelp(c)
			}
			if cmd.HelpName == "" {
				cmd.HelpName = "versement " + cmd.Name
			}
			tmpl := cli.CommandHelpTemplate
			if len(cmd.Subcommands) > 0 {
				tmpl = cli.SubcommandHelpTemplate
			}
			cli.HelpPrinter(c.App.Writer, tmpl, cmd)
			return nil
		},
	}
}

// unknownCommand is the exit 2 for a command name that is not one of cmds (parent's subcommands).
func unknownCommand(parent string, cmds []*cli.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if parent != "" {
		msg = parent + ": " + msg
	}
	if s := suggestCommand(cmds, name); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += ": " + strings.Join(append([]string{"versement"}, strings.Fields(parent)...), " ") + " --help lists them"
	}
	return cli.Exit(msg, exitError)
}

// suggestCommand is the command name closest to a mistyped one: within two edits, or the only one
// it begins; "" when none is close enough to be what the user meant.
func suggestCommand(cmds []*cli.Command, typed string) string {
	best, bestDist, prefixed := "", 3, []string{}
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		for _, n := range c.Names() {
			if d := editDistance(typed, n); d < bestDist && d < len(n) {
				best, bestDist = n, d
			}
			if len(typed) >= 2 && strings.HasPrefix(n, typed) {
				prefixed = append(prefixed, n)
			}
		}
	}
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes (command names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkArgs refuses, before anything runs, a positional argument the command named by args does
// not take, and a flag written after a positional argument (urfave/cli would take it for one more
// argument): `run --profile harpege oops --dry-run` must not run for real. How many arguments a
// command takes is what its help shows, ArgsUsage: none when empty, any number when it ends with
// "...", else one per word. An unknown command or flag is left to the parser, which names it.
func checkArgs(cmds []*cli.Command, args []string, parent string) error {
	if len(args) == 0 {
		return nil
	}
	var cmd *cli.Command
	for _, c := range cmds {
		if c.HasName(args[0]) {
			cmd = c
		}
	}
	if cmd == nil {
		return nil
	}
	path := strings.TrimSpace(parent + " " + cmd.Name)
	set := flag.NewFlagSet(path, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	flags := cmd.Flags
	if !cmd.HideHelp && cli.HelpFlag != nil {
		flags = append(flags[:len(flags):len(flags)], cli.HelpFlag)
	}
	help := false
	for _, f := range flags {
		isBool := false
		if d, ok := f.(cli.DocGenerationFlag); ok {
			isBool = !d.TakesValue()
		}
		for _, n := range f.Names() {
			switch {
			case set.Lookup(n) != nil:
			case f == cli.HelpFlag:
				set.BoolVar(&help, n, false, "")
			default:
				set.Var(anyValue(isBool), n, "")
			}
		}
	}
	if err := set.Parse(args[1:]); err != nil || help {
		return nil
	}
	pos := set.Args()
	if len(cmd.Subcommands) > 0 {
		return checkArgs(cmd.Subcommands, pos, path)
	}
	// After "--" everything is an argument, even a file name starting with "-".
	ended := len(pos) < len(args)-1 && args[len(args)-len(pos)-1] == "--"
	flagLike := func(a string) bool { return !ended && len(a) > 1 && strings.HasPrefix(a, "-") }
	firstFlag := ""
	for _, a := range pos {
		if flagLike(a) {
			firstFlag = a
			break
		}
	}
	if max := argsAccepted(cmd); max >= 0 && len(pos) > max && !flagLike(pos[max]) {
		takes := "no arguments"
		if max > 0 {
			takes = "only " + cmd.ArgsUsage
		}
		msg := fmt.Sprintf("%s: unexpected argument %q: %s takes %s", path, pos[max], path, takes)
		if firstFlag != "" {
			msg += fmt.Sprintf("; flags go before arguments (after one, %q is not read as a flag)", firstFlag)
		}
		return cli.Exit(msg, exitError)
	}
	if firstFlag != "" {
		return cli.Exit(fmt.Sprintf("%s: %q comes after the argument %q, where flags are no longer read: put flags before the arguments (and -- before a file name that starts with -)", path, firstFlag, pos[0]), exitError)
	}
	return nil
}

// argsAccepted is how many positional arguments a command takes, from its ArgsUsage; -1 for any
// number.
func argsAccepted(c *cli.Command) int {
	u := strings.TrimSpace(c.ArgsUsage)
	if strings.HasSuffix(u, "...") {
		return -1
	}
	return len(strings.Fields(u))
}

// anyValue stands for a flag's value while checkArgs finds where the flags end: it only needs to
// know whether the flag takes a value (false) or not (true).
type anyValue bool

func (v anyValue) String() string   { return "" }
func (v anyValue) IsBoolFlag() bool { return bool(v) }
func (v anyValue) Set(string) error { return nil }

// printVersion makes --version print what `versement version` prints.
func printVersion(c *cli.Context) { fmt.Fprintln(c.App.Writer, versionText()) }

// versionText is what the version command prints, for --version and the help's VERSION line.
func versionText() string {
	var b strings.Builder
	for _, cmd := range commands {
		if cmd.Name == "version" && cmd.Action != nil {
			_ = cmd.Action(cli.NewContext(&cli.App{Writer: &b}, nil, nil))
		}
	}
	return strings.TrimSpace(b.String())
}

func setupLogging(level, format string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return cli.Exit(fmt.Sprintf("--log-level %q: want debug, info, warn or error", level), exitError)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "auto", "":
		if term.IsTerminal(int(os.Stderr.Fd())) {
			h = slog.NewTextHandler(os.Stderr, opts)
		} else {
			h = slog.NewJSONHandler(os.Stderr, opts)
		}
	default:
		return cli.Exit(fmt.Sprintf("--log-format %q: want text, json or auto", format), exitError)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

func main() {
	// SIGINT/SIGTERM cancel the context: every command stops at a safe point (a finished SIP, a
	// flushed ledger) instead of dying mid-write. A command they cut short exits 128 + the
	// signal's number, as a shell reports it (130 SIGINT, 143 SIGTERM), so that a script tells
	// "interrupted: run me again" from "broken" (2).
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		sig := <-sigs
		got.Store(sig)
		cancel()
		signal.Stop(sigs) // a second Ctrl-C kills at once
	}()
	err := newApp().RunContext(ctx, os.Args)
	code := exitCode(err)
	if sig, ok := got.Load().(syscall.Signal); ok && err != nil {
		code = interruptedCode(sig)
	}
	os.Exit(code)
}

// interruptedCode is the exit status of a command cut short by sig.
func interruptedCode(sig syscall.Signal) int { return 128 + int(sig) }

// exitCode prints err for the user, if any, and returns the process's exit status.
func exitCode(err error) int {
	if err != nil && err.Error() != "" {
		fmt.Fprintln(os.Stderr, "versement:", err)
	}
	return codeOf(err)
}

// codeOf is the exit status err stands for, without printing anything.
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitError
}
