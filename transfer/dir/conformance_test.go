package dir_test

import (
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/targettest"
)

// A folder target does everything the suite asks: it keeps SIPs by name and cannot resume
// (a Put ends with the SIP on disk).
func TestConformance(t *testing.T) {
	targettest.Run(t, targettest.Suite{New: func(t *testing.T) transfer.Target {
		tg, err := dir.Open("dir://" + t.TempDir() + "/depot?mode=0640")
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}})
}
