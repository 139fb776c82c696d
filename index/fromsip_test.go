package index

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/internal/testsvc"
)

// The SystemIds VITAM gave each unit are read from a real ATR, by the manifest's unit ids.
func TestATRSystemIDs(t *testing.T) {
	path := filepath.Join(testsvc.SharedDir(t, "samples", "vitam", "vitam-atr"), "sedaArchiveTransferReply.xml")
	atr, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("VITAM's sample ATR (in the shared folder beside the checkout): %v", err)
	}
	ids := ATRSystemIDs(atr)
	if ids["ID19"] != "aeaqaaaaaae2txtzaadjwaltyrxsyxiaaaaq" || len(ids) < 3 {
		t.Errorf("SystemIds: %v", ids)
	}
	for id, sys := range ids {
		if len(sys) != 36 {
			t.Errorf("unit %s: SystemId %q", id, sys)
		}
	}
	if ATRSystemIDs(nil) != nil || len(ATRSystemIDs([]byte("<not xml"))) != 0 {
		t.Error("an empty or broken ATR gives SystemIds")
	}
}
