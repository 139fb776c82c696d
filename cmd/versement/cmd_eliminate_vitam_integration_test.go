package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// Dossiers archived in VITAM are eliminated by VITAM: execute sends the elimination analysis,
// then the action, to access-external under the archives service's access contract, with a
// BATCH_PROCESSING DSL on the units' SystemIds from the ATRs (through the index) and a
// $threshold of their number; VITAM's report says which units it deleted, and the attestation
// and the ledger name both operations.
func TestEliminateExecuteInVITAM(t *testing.T) {
	client := vitamtest.NewClient(t, "versement")
	s := vitamtest.Start(t, "", client.Pool)
	dir := t.TempDir()
	ac := archivesContract(t, s, dir)
	s.SetRuleDurations(map[string]string{"APP-APO-IA": "7Y"})
	client.SetEnv(t, s)
	target := s.TargetURL("&poll=1ms&application-id=versement")
	prof, db := samplingProfile(t, dir), seededDemo(t, 60)
	state, docs, out := filepath.Join(dir, "state"), filepath.Join(dir, "bordereaux"), filepath.Join(dir, "attestations")
	for _, asOf := range []string{"2016-06-30", "2026-11-30"} {
		if o, code := run(t, "run", "--profile", prof, "--source", db, "--as-of", asOf, "--target", target, "--state", state, "--bordereaux", docs, "--batch-dossiers", "8"); code != 0 {
			t.Fatalf("run as of %s: exit %d\n%s", asOf, code, o)
		}
	}
	visa := acceptAllLots(t, docs, "AD-2026-18", "Claire Dupont")
	if o, code := run(t, "eliminate", "import-visa", "--proposal", filepath.Join(docs, pipeline.EliminationFile+".json"), "--state", state, visa); code != 0 {
		t.Fatalf("import-visa: exit %d\n%s", code, o)
	}
	// The SystemIds VITAM gave the units of every SIP, as its ATRs say.
	var known []string
	lb, _ := os.ReadFile(filepath.Join(state, "ledger.jsonl"))
	for _, l := range strings.Split(string(lb), "\n") {
		var e struct {
			Receipt struct{ Operation string } `json:"receipt"`
		}
		if json.Unmarshal([]byte(l), &e) == nil && e.Receipt.Operation != "" {
			for _, id := range s.UnitSystemIDs(e.Receipt.Operation) {
				known = append(known, id)
			}
		}
	}
	access := s.TargetURL("&poll=1ms&access-contract=" + ac.Identifier + "&application-id=versement")
	o, code := run(t, "--lang", "fr", "eliminate", "execute", "--visa", "AD-2026-18", "--profile", prof, "--source", db, "--state", state, "--out", out,
		"--as-of", "2026-12-02", "--vitam-access", access)
	if code != 0 || !strings.Contains(o, "visa AD-2026-18 exécuté : ") {
		t.Fatalf("execute: exit %d\n%s", code, o)
	}
	t.Logf("execute: %s", o)
	var analysis, action []vitamtest.AccessRequest
	for _, r := range s.AccessRequests() {
		switch r.Path {
		case "/access-external/v1/elimination/analysis":
			analysis = append(analysis, r)
		case "/access-external/v1/elimination/action":
			action = append(action, r)
		}
	}
	if len(analysis) != 1 || len(action) != 1 {
		ab, _ := os.ReadFile(filepath.Join(out, "attestation-elimination-AD-2026-18.json"))
		t.Fatalf("%d analysis and %d action requests, want one each; %d units known\n%.3000s", len(analysis), len(action), len(known), ab)
	}
	for _, r := range []vitamtest.AccessRequest{analysis[0], action[0]} {
		if r.Header.Get("X-Access-Contract-Id") != ac.Identifier || r.Header.Get("X-Tenant-Id") != "1" || r.Method != "POST" {
			t.Errorf("%s %s: contract %q, tenant %q", r.Method, r.Path, r.Header.Get("X-Access-Contract-Id"), r.Header.Get("X-Tenant-Id"))
		}
		var body struct {
			DSL struct {
				Roots     []string                         `json:"$roots"`
				Query     []map[string]map[string][]string `json:"$query"`
				Threshold int                              `json:"$threshold"`
			} `json:"dslRequest"`
			Date string `json:"date"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s: %v\n%s", r.Path, err, r.Body)
		}
		ids := body.DSL.Query[0]["$in"]["#id"]
		if body.Date != "2026-12-02" || len(ids) == 0 || body.DSL.Threshold != len(ids) || len(body.DSL.Roots) != 0 {
			t.Errorf("%s: %s", r.Path, r.Body)
		}
		for _, id := range ids {
			if !slices.Contains(known, id) {
				t.Errorf("%s names unit %s, which no ATR gave", r.Path, id)
			}
		}
	}
	var att struct {
		Destroyed  int64 `json:"destroyed"`
		Operations []struct {
			Kind, ID string
		} `json:"vitam_operations"`
		Dossiers []struct {
			Key, Outcome, Reason string
		} `json:"dossiers"`
	}
	ab, err := os.ReadFile(filepath.Join(out, "attestation-elimination-AD-2026-18.json"))
	if err != nil || json.Unmarshal(ab, &att) != nil {
		t.Fatalf("attestation: %v", err)
	}
	if att.Destroyed == 0 || len(att.Operations) != 2 || att.Operations[1].ID != action[0].Header.Get("X-Request-Id") && att.Operations[1].ID == "" {
		t.Fatalf("attestation: %d destroyed, operations %+v", att.Destroyed, att.Operations)
	}
	if o, code := run(t, "verify", "--ledger", filepath.Join(state, "ledger.jsonl")); code != 0 {
		t.Fatalf("verify --ledger: exit %d\n%s", code, o)
	}
	led, _ := os.ReadFile(filepath.Join(state, "ledger.jsonl"))
	if !strings.Contains(string(led), `"operation":"`+att.Operations[1].ID+`"`) {
		t.Errorf("the ledger does not record VITAM's action %s", att.Operations[1].ID)
	}
	if o, code := run(t, "--lang", "fr", "eliminate", "execute", "--visa", "AD-2026-18", "--profile", prof, "--source", db, "--state", state, "--out", out,
		"--as-of", "2026-12-02", "--vitam-access", access); code != 0 || !strings.Contains(o, "plus rien à faire") || elimRequests(s) != 2 {
		t.Fatalf("execute again: exit %d, %d elimination requests in all\n%s", code, elimRequests(s), o)
	}
}

// elimRequests counts the elimination analysis and action requests VITAM received.
func elimRequests(s *vitamtest.Server) int {
	n := 0
	for _, r := range s.AccessRequests() {
		if strings.HasPrefix(r.Path, "/access-external/v1/elimination/") {
			n++
		}
	}
	return n
}
