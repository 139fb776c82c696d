package main

import (
	"bytes"
	"context"
	"testing"
)

// runCLI runs the CLI in-process and returns what it printed and its exit code.
func runCLI(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	err := app.RunContext(context.Background(), append([]string{"versement"}, args...))
	return out.String(), exitCode(err)
}
