package pipeline

import (
	"context"
	"testing"

	"github.com/versement/versement/civil"
)

// A SQL source counts its root rows, so progress carries the total an ETA is computed from, and
// the last report reaches it.
func TestProgressKnowsTheTotal(t *testing.T) {
	var last Progress
	calls := 0
	_, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: openDemo(t), SourceName: "demo",
		AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, DryRun: true,
		Progress: func(p Progress) { last = p; calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Total != demoDossiers || last.Dossiers != demoDossiers {
		t.Fatalf("after %d progress calls the last says %d of %d dossiers, want %d of %d", calls, last.Dossiers, last.Total, demoDossiers, demoDossiers)
	}
}
