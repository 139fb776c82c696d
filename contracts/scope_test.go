package contracts

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/versement/versement/profiles"
)

func TestForScopeNamesOnlyTheEstablishment(t *testing.T) {
	s := Scope{ID: "univ-a", Name: "Université A", ArchivalAgreement: "IC-UNIVA-000001", ArchivalProfiles: []string{"PR-A", "", "PR-A", "PR-B"},
		OriginatingAgency: "UNIVA-SCOL", SubmissionAgency: "UNIVA-DSI", TransferringAgency: profiles.Agency{Identifier: "UNIVA-SCOL", Name: "Scolarité de A"},
		ArchivalAgency: profiles.Agency{Identifier: "FRAD033"}, ConsultationContract: "AC-UNIV-A-CONSULTATION", ArchivesContract: "AC-UNIV-A-ARCHIVES"}
	set, err := ForScope(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Ingest) != 1 || set.Ingest[0].Identifier != "IC-UNIVA-000001" || !slices.Equal(set.Ingest[0].ArchiveProfiles, []string{"PR-A", "PR-B"}) {
		t.Errorf("ingest %+v", set.Ingest)
	}
	for i, id := range []string{"AC-UNIV-A-CONSULTATION", "AC-UNIV-A-ARCHIVES"} {
		a := set.Access[i]
		if a.Identifier != id || a.WritingPermission || a.AccessLog != "ACTIVE" || a.EveryOriginatingAgency || !slices.Equal(a.OriginatingAgencies, []string{"UNIVA-SCOL"}) {
			t.Errorf("access %d: %+v", i, a)
		}
	}
	if !set.Access[1].EveryDataObjectVersion || set.Access[0].EveryDataObjectVersion {
		t.Errorf("the archives service reads every version, the producer the masters: %+v", set.Access)
	}
	var ids []string
	for _, a := range set.Agencies {
		ids = append(ids, a.Identifier+"="+a.Name)
	}
	if want := []string{"UNIVA-SCOL=Scolarité de A", "UNIVA-DSI=Service versant — Université A", "FRAD033=FRAD033"}; !slices.Equal(ids, want) {
		t.Errorf("agencies %v, want %v", ids, want)
	}
	var b bytes.Buffer
	if err := set.WriteAccess(&b); err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(b.Bytes(), &arr); err != nil || len(arr) != 2 || arr[0]["AccessLog"] != "ACTIVE" {
		t.Errorf("access JSON: %v %s", err, b.Bytes())
	}
	s.ArchivalAgreement = ""
	if _, err := ForScope(s); err == nil || err.Error() != "establishment univ-a has no seda.archival_agreement: VITAM refuses a SIP without the ingest contract it names" {
		t.Errorf("no agreement: %v", err)
	}
}
