// Command versement archives the data of decommissioned university applications (Apogée, Harpège)
// as SEDA packages, deciding each dossier's retention tier on the way.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
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

func newApp() *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	return &cli.App{
		Name:  "versement",
		Usage: "archive the data of decommissioned university applications as SEDA packages",
		Description: "versement extracts dossiers (students, agents) from a legacy database, decides each\n" +
			"one's retention tier (active, intermediate, final, destroy), packages them as SEDA 2.x SIPs\n" +
			"and sends them to a folder, an S3 drop zone or VITAM, keeping a ledger an auditor can check.",
		Commands: commands,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"VERSEMENT_LOG_LEVEL"}},
			&cli.StringFlag{Name: "log-format", Value: "auto", Usage: "text, json, or auto (json when stderr is not a terminal)"},
		},
		Before: func(c *cli.Context) error {
			return setupLogging(c.String("log-level"), c.String("log-format"))
		},
		ExitErrHandler:  func(*cli.Context, error) {}, // main decides the exit code
		HideHelpCommand: true,
	}
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
	// flushed ledger) instead of dying mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newApp().RunContext(ctx, os.Args)
	os.Exit(exitCode(err))
}

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
