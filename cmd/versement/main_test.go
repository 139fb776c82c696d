package main

import (
	"bytes"
	"context"
	"testing"
)

// run runs the CLI in-process and returns stdout, followed by "ERR: " and the error a user would
// see on stderr if the command failed, and the exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.RunContext(context.Background(), append([]string{"versement", "--log-format", "text", "--log-level", "error"}, args...))
	code := exitCode(err)
	if err != nil {
		out.WriteString("ERR: " + err.Error() + "\n")
	}
	return out.String(), code
}
