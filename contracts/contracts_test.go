package contracts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/versement/versement/profiles"
)

func TestForRefusesAProfileVITAMCannotTakeContractsFor(t *testing.T) {
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.SEDA.ArchivalAgreement = ""
	if _, err := For(&q); err == nil || err.Error() != "profile apogee has no seda.archival_agreement: VITAM refuses a SIP without the ingest contract it names" {
		t.Errorf("no agreement: %v", err)
	}
	q = *p
	q.SEDA.OriginatingAgency = ""
	if _, err := For(&q); err == nil || !strings.Contains(err.Error(), "no seda.originating_agency") {
		t.Errorf("no agency: %v", err)
	}
	set, err := For(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := set.WriteIngest(&b); err != nil {
		t.Fatal(err)
	}
	// VITAM's import is a JSON array of contracts, Name mandatory.
	var arr []map[string]any
	if err := json.Unmarshal(b.Bytes(), &arr); err != nil || len(arr) != 1 || arr[0]["Name"] == "" || arr[0]["Identifier"] != "IC-APOGEE-000001" {
		t.Errorf("ingest contracts: %v %s", err, b.Bytes())
	}
	if got := set.Agencies[0]; got.Identifier != "ETAB-SCOL" || got.Name != "Service de la scolarité" {
		t.Errorf("the producing service is %+v, named after the profile's transferring agency", got)
	}
}
