package vitam_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/targettest"
	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// Against the faithful test server, with real SIPs (it reads them as VITAM does). VITAM is a
// Resumer but not Indexed: the suite skips what only a target keeping SIPs by name can do, and
// checks that its Stat and List say ErrNotSupported.
func TestConformance(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	targettest.Run(t, targettest.Suite{
		New: func(t *testing.T) transfer.Target {
			return target(t, vitamtest.Start(t, "", client.Pool), client, "", vitam.Options{})
		},
		SIP: func(t *testing.T, name string, variant int) transfer.SIP {
			s := sipWith(t, fmt.Sprintf("CONFORMANCE-%s-%d", filepath.Base(name), variant), "IC-000001", nil)
			s.Name = name
			s.Origin = transfer.Origin{Profile: "conformance", Class: "test", Tier: "final"}
			if err := s.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
