package main

import (
	"strings"
	"testing"
)

func TestVersionPrintsGoVersion(t *testing.T) {
	out, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "versement ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: code %d, output %q", code, out)
	}
}
