package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/urfave/cli/v2"
)

// run runs the CLI in-process and returns stdout, followed by "ERR: " and the error a user would
// see on stderr if the command failed, and the exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.RunContext(context.Background(), append([]string{"versement", "--log-format", "text", "--log-level", "error"}, args...))
	code := codeOf(err)
	if err != nil {
		out.WriteString("ERR: " + err.Error() + "\n")
	}
	return out.String(), code
}

// Comparing exit codes must not print: verify compares a ledger's and the packages' outcomes, and
// each message was printed once there and once more by main.
func TestWorstExitPrintsNothing(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = f
	got := worstExit(cli.Exit("findings", exitFindings), cli.Exit("unreadable", exitError))
	os.Stderr = saved
	if codeOf(got) != exitError || got.Error() != "unreadable" {
		t.Errorf("worstExit kept %v (exit %d)", got, codeOf(got))
	}
	if b, _ := os.ReadFile(f.Name()); len(b) > 0 {
		t.Errorf("worstExit printed %q", b)
	}
}
