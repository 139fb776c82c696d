package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/versement/versement/transfer"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden-sips.txt from this run")

// The quickstart's SIPs, at a fixed as-of date, are byte-identical from one version to the next
// unless a change means to alter them: a restructuring of the packaging code must not move a
// byte. The file lists each SIP's name and SHA-256; after a deliberate change of the SIPs'
// content, run `go test ./cmd/versement -run TestQuickstartSIPsAreGolden -update-golden` and say
// why in the commit.
func TestQuickstartSIPsAreGolden(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, "quickstart", "--dir", dir, "--as-of", "2026-06-30")
	if code != 0 {
		t.Fatalf("quickstart exit %d:\n%s", code, out)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "archives", "*.zip"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SIP in %s (%v)", dir, err)
	}
	sort.Strings(paths)
	var got strings.Builder
	for _, p := range paths {
		sum, err := transfer.FileSHA256(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%s  %s\n", sum, filepath.Base(p))
	}
	golden := filepath.Join("testdata", "golden-sips.txt")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("the quickstart's SIPs changed (run with -update-golden if that is meant):\n got:\n%s\nwant:\n%s", got.String(), want)
	}
}
