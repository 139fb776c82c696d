package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// eachCommand calls f with the words that name every registered command and subcommand.
func eachCommand(cmds []*cli.Command, parent []string, f func(path []string, c *cli.Command)) {
	for _, c := range cmds {
		path := append(parent[:len(parent):len(parent)], c.Name)
		f(path, c)
		eachCommand(c.Subcommands, path, f)
	}
}

// urfave/cli stops reading flags at the first positional argument: a stray one made the flags after
// it arguments, and `run … oops --dry-run` ran for real. Every command, run with a stray argument
// before a flag, refuses with exit 2, names the argument, and does nothing.
func TestArgsStrayArgumentBeforeAFlagRunsNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // were a command to run anyway, what it writes lands here and fails the test
	const after = `, where flags are no longer read: put flags before the arguments (and -- before a file name that starts with -)`
	noArgs := func(cmd string) string {
		return cmd + `: unexpected argument "oops": ` + cmd + ` takes no arguments; flags go before arguments (after one, "--help" is not read as a flag)`
	}
	want := map[string]string{
		"demo-db":           noArgs("demo-db"),
		"explain":           noArgs("explain"),
		"profiles":          `profiles: unknown command "oops": versement profiles --help lists them`,
		"profiles list":     noArgs("profiles list"),
		"profiles show":     `profiles show: "--help" comes after the argument "oops"` + after,
		"profiles validate": `profiles validate: "--help" comes after the argument "oops"` + after,
		"quickstart":        noArgs("quickstart"),
		"rules":             `rules: unknown command "oops": versement rules --help lists them`,
		"rules export":      noArgs("rules export"),
		"rules list":        noArgs("rules list"),
		"rules show":        `rules show: "--help" comes after the argument "oops"` + after,
		"run":               noArgs("run"),
		"schedule":          noArgs("schedule"),
		"transfer":          `transfer: "--help" comes after the argument "oops"` + after,
		"verify":            `verify: "--help" comes after the argument "oops"` + after,
		"version":           noArgs("version"),
	}
	seen := 0
	newApp() // sorts and sets up the commands
	eachCommand(commands, nil, func(path []string, c *cli.Command) {
		name := strings.Join(path, " ")
		out, code := run(t, append(path, "oops", "--help")...)
		w, listed := want[name]
		switch {
		case listed:
			seen++
			if code != exitError || out != "ERR: "+w+"\n" {
				t.Errorf("%s oops --help: exit %d\n%s\nwant exit 2 and\nERR: %s", name, code, out, w)
			}
		// A command added since: it must refuse too, naming the argument, and print nothing else.
		case code != exitError || !strings.HasPrefix(out, "ERR: ") || !strings.Contains(out, `"oops"`) || strings.Count(out, "\n") != 1:
			t.Errorf("%s oops --help: exit %d\n%s", name, code, out)
		}
	})
	if seen != len(want) {
		t.Errorf("%d of the %d commands this test knows are registered", seen, len(want))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a command ran: %d files in its folder", len(entries))
	}
}

// The cases issue 18 found, word for word: nothing read, nothing written.
func TestArgsStrayArgumentInRealCommands(t *testing.T) {
	dir := t.TempDir()
	db, target, state := filepath.Join(dir, "h.db"), filepath.Join(dir, "x"), filepath.Join(dir, "s")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--profile", "harpege", "--source", db, "--target", "dir://" + target, "--state", state, "oops", "--dry-run"},
			`run: unexpected argument "oops": run takes no arguments; flags go before arguments (after one, "--dry-run" is not read as a flag)`},
		{[]string{"explain", "--profile", "harpege", "--source", db, "--key", "10175", "10238", "--as-of", "2028-02-29"},
			`explain: unexpected argument "10238": explain takes no arguments; flags go before arguments (after one, "--as-of" is not read as a flag)`},
		{[]string{"explain", "--profile", "harpege", "--source", db, "--key", "10175", "10238"},
			`explain: unexpected argument "10238": explain takes no arguments`},
		{[]string{"transfer", "--target", "dir://" + target, filepath.Join(dir, "a.zip"), "--dry-run"},
			`transfer: "--dry-run" comes after the argument "` + filepath.Join(dir, "a.zip") + `", where flags are no longer read: put flags before the arguments (and -- before a file name that starts with -)`},
		{[]string{"profiles", "show", "harpege", "extra"}, `profiles show: unexpected argument "extra": profiles show takes only NAME|FILE`},
		{[]string{"rules", "show", "harpege", "apogee"}, `rules show: unexpected argument "apogee": rules show takes only NAME`},
		{[]string{"rules", "list", "--profile", "harpege", "apogee"}, `rules list: unexpected argument "apogee": rules list takes no arguments`},
	} {
		out, code := run(t, tc.args...)
		if code != exitError || out != "ERR: "+tc.want+"\n" {
			t.Errorf("%v: exit %d\n%s\nwant exit 2 and\nERR: %s", tc.args, code, out, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}

// What stays allowed: arguments a command takes, flags before them, and -- before a name that
// starts with a dash.
func TestArgsAcceptedStillWork(t *testing.T) {
	if out, code := run(t, "rules", "show", "harpege"); code != exitOK || !strings.Contains(out, "\nschedule: harpege\n") {
		t.Errorf("rules show harpege: exit %d\n%.200s", code, out)
	}
	if out, code := run(t, "profiles", "validate", "apogee", "harpege"); code != exitOK {
		t.Errorf("profiles validate apogee harpege: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	a, _ := makeSIP(t, dir, "-a.zip", "DASH")
	b, _ := makeSIP(t, dir, "b.zip", "B")
	if out, code := run(t, "verify", "--json", "--", "b.zip", "-a.zip"); code != exitOK || !strings.Contains(out, `"path": "-a.zip"`) {
		t.Errorf("verify -- b.zip -a.zip: exit %d\n%s", code, out)
	}
	if out, code := run(t, "verify", b, a); code != exitOK || strings.Count(out, ": OK\n") != 2 {
		t.Errorf("verify b a: exit %d\n%s", code, out)
	}
}

// A mistyped command exits 2 (urfave/cli's default said "No help topic" and exited 3), with a
// suggestion when one is close.
func TestMainUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"oops"}, `unknown command "oops": versement --help lists them`},
		{[]string{"verfy", "a.zip"}, `unknown command "verfy" (did you mean "verify"?)`},
		{[]string{"trasnfer"}, `unknown command "trasnfer" (did you mean "transfer"?)`},
		{[]string{"sched"}, `unknown command "sched" (did you mean "schedule"?)`},
		{[]string{"rules", "lst"}, `rules: unknown command "lst" (did you mean "list"?)`},
		{[]string{"profiles", "valdate", "x"}, `profiles: unknown command "valdate" (did you mean "validate"?)`},
		{[]string{"rules", "oops"}, `rules: unknown command "oops": versement rules --help lists them`},
	} {
		out, code := run(t, tc.args...)
		if code != exitError || out != "ERR: "+tc.want+"\n" {
			t.Errorf("%v: exit %d\n%s\nwant exit 2 and\nERR: %s", tc.args, code, out, tc.want)
		}
	}
	// No command at all is a request for help.
	if out, code := run(t); code != exitOK || !strings.Contains(out, "COMMANDS:") {
		t.Errorf("no command: exit %d\n%s", code, out)
	}
}

// A mistyped flag says which flag was meant.
func TestMainFlagSuggestion(t *testing.T) {
	out, code := run(t, "verify", "--xsd-dri", "x", "a.zip")
	if code != exitError || !strings.HasPrefix(out, "Incorrect Usage: flag provided but not defined: -xsd-dri\n\nDid you mean \"--xsd-dir\"?\n") ||
		!strings.HasSuffix(out, "ERR: flag provided but not defined: -xsd-dri\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestVersionFlag(t *testing.T) {
	want, code := run(t, "version")
	if code != exitOK || !strings.HasPrefix(want, "versement ") {
		t.Fatalf("version: exit %d %q", code, want)
	}
	for _, flag := range []string{"--version", "-v"} {
		if out, code := run(t, flag); code != exitOK || out != want {
			t.Errorf("%s: exit %d %q, want %q", flag, code, out, want)
		}
	}
}

// `versement help CMD [SUB]` shows that command's help; an unknown one exits 2 like a mistyped
// command (urfave/cli's help exited 3 and read one word only).
func TestMainHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "NAME:\n   versement - archive the data"},
		{[]string{"help", "run"}, "NAME:\n   versement run - decide every dossier's tier"},
		{[]string{"help", "rules"}, "NAME:\n   versement rules - show and export retention rules"},
		{[]string{"help", "rules", "list"}, "NAME:\n   versement rules list - print the rules of a schedule"},
		{[]string{"help", "profiles", "show"}, "NAME:\n   versement profiles show - "},
		{[]string{"--help"}, "NAME:\n   versement - archive the data"},
		{[]string{"rules", "list", "--help"}, "NAME:\n   versement rules list - print the rules of a schedule"},
	} {
		if out, code := run(t, tc.args...); code != exitOK || !strings.HasPrefix(out, tc.want) {
			t.Errorf("%v: exit %d\n%s", tc.args, code, out)
		}
	}
	if out, _ := run(t, "help", "profiles", "show"); !strings.Contains(out, "USAGE:\n   versement profiles show [command options] NAME|FILE\n") {
		t.Errorf("help profiles show:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "oops"}, `unknown command "oops": versement --help lists them`},
		{[]string{"help", "verfy"}, `unknown command "verfy" (did you mean "verify"?)`},
		{[]string{"help", "rules", "lst"}, `rules: unknown command "lst" (did you mean "list"?)`},
		{[]string{"help", "run", "oops"}, `help: run has no subcommands ("oops")`},
		{[]string{"help", "rules", "list", "x"}, `help: rules list has no subcommands ("x")`},
	} {
		if out, code := run(t, tc.args...); code != exitError || out != "ERR: "+tc.want+"\n" {
			t.Errorf("%v: exit %d\n%s\nwant exit 2 and\nERR: %s", tc.args, code, out, tc.want)
		}
	}
}

// The global flags work after the command too, and there win over the ones before it.
func TestMainGlobalFlagsAfterTheCommand(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	// run() gives --log-level error before the command.
	if out, code := run(t, "rules", "list", "--profile", "apogee", "--log-level", "debug", "--log-format", "json"); code != exitOK || !strings.HasPrefix(out, "schedule apogee") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		t.Error("--log-level debug after the command was not applied")
	}
	if _, ok := slog.Default().Handler().(*slog.JSONHandler); !ok {
		t.Errorf("--log-format json after the command: handler %T", slog.Default().Handler())
	}
	if out, code := run(t, "rules", "list", "--profile", "apogee", "--log-level", "loud"); code != exitError || out != "ERR: --log-level \"loud\": want debug, info, warn or error\n" {
		t.Errorf("bad level after the command: exit %d\n%s", code, out)
	}
}

// A URL with & copied from the help into a shell must not end the command there: every such URL
// in any command's help is quoted.
func TestArgsHelpQuotesURLs(t *testing.T) {
	newApp()
	eachCommand(commands, nil, func(path []string, c *cli.Command) {
		out, code := run(t, append([]string{"help"}, path...)...)
		if code != exitOK {
			t.Fatalf("help %v: exit %d\n%s", path, code, out)
		}
		for _, word := range strings.Fields(out) {
			if strings.Contains(word, "://") && strings.Contains(word, "&") && !(strings.HasPrefix(word, "'") && strings.HasSuffix(word, "'")) {
				t.Errorf("help %s: unquoted URL %s", strings.Join(path, " "), word)
			}
		}
	})
}
