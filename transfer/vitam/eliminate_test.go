package vitam_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// ruledSIP writes, with the project's SEDA writer, three dossiers of ETAB-SCOL under the
// appraisal rule APP-APO-IA: 101 started 2015-08-31 with final action Destroy (its DUA of 7
// years ended 2022-08-31), 102 started 2024-08-31 with Destroy (running until 2031), 103 started
// 2015-08-31 with Keep. 101 and 103 carry a document (BinaryMaster_1).
func ruledSIP(t *testing.T) transfer.SIP {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ruled.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: "M-ELIM", Date: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-000001", ArchivalAgency: "AD-TEST", TransferringAgency: "ETAB-SCOL", OriginatingAgencyIdentifier: "ETAB-SCOL"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		key, start, final string
		doc               bool
	}{{"101", "2015-08-31", seda.AppraisalDestroy, true}, {"102", "2024-08-31", seda.AppraisalDestroy, false}, {"103", "2015-08-31", seda.AppraisalKeep, true}} {
		start, _ := civil.Parse(d.start)
		u := seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "Dossier " + d.key, OriginatingSystemID: []string{d.key}},
			Management: seda.Management{Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-APO-IA", StartDate: start}}}, FinalAction: d.final}}}
		if d.doc {
			ow, err := sw.AddObject(seda.Object{Name: "D" + d.key + ".json", MimeType: "application/json", FormatID: "fmt/817"}, strings.NewReader(`{"dossier":`+d.key+`}`))
			if err != nil {
				t.Fatal(err)
			}
			u.Groups = []seda.GroupID{ow.Group()}
		}
		if _, err := sw.AddUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	return transfer.SIP{Name: "ruled.zip", Path: p, MessageID: "M-ELIM", ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sum.ManifestSHA512}}
}

// eliminationSetup ingests the apogee SIP (dossiers without an appraisal rule of their own) and
// the ruled SIP, and returns the SystemIds of dossiers 42, 101, 102 and 103.
func eliminationSetup(t *testing.T) (*vitamtest.Server, vitamtest.Client, *vitam.Access, map[string]vitam.FoundUnit) {
	t.Helper()
	ctx := context.Background()
	s, client, _ := ingested(t, scolarite)
	s.SetRuleDurations(map[string]string{"APP-APO-IA": "7Y"})
	if r, err := target(t, s, client, "", vitam.Options{}).Put(ctx, ruledSIP(t)); err != nil || r.ReplyCode != "OK" {
		t.Fatalf("ingest: %+v %v", r, err)
	}
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	units := map[string]vitam.FoundUnit{}
	for _, k := range []string{"42", "101", "102", "103"} {
		us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: k})
		if err != nil || len(us) != 1 {
			t.Fatalf("dossier %s: %v %v", k, us, err)
		}
		units[k] = us[0]
	}
	return s, client, a, units
}

func lastRequest(t *testing.T, s *vitamtest.Server) vitamtest.AccessRequest {
	t.Helper()
	rs := s.AccessRequests()
	if len(rs) == 0 {
		t.Fatal("no access request")
	}
	return rs[len(rs)-1]
}

// checkRequest asserts the exact request VITAM received: path, body and VITAM's headers.
func checkRequest(t *testing.T, r vitamtest.AccessRequest, path, body string) {
	t.Helper()
	if r.Method != "POST" || r.Path != path || string(r.Body) != body {
		t.Errorf("request %s %s\n%s\nwant POST %s\n%s", r.Method, r.Path, r.Body, path, body)
	}
	for k, v := range map[string]string{"X-Access-Contract-Id": "AC-SCOL", "X-Tenant-Id": "2", "Content-Type": "application/json", "Accept": "application/json", "X-Http-Method-Override": ""} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
}

// Analysis then action on four dossiers at 2026-12-04: only 101 (DUA ended, Destroy) goes, with
// its object; 102 (DUA running), 103 (Keep) and 42 (no appraisal rule) stay, as VITAM decides.
func TestEliminationAnalysisThenAction(t *testing.T) {
	ctx := context.Background()
	s, _, a, units := eliminationSetup(t)
	ids := []string{units["42"].SystemID, units["101"].SystemID, units["102"].SystemID, units["103"].SystemID}
	dsl := `{"dslRequest":{"$roots":[],"$query":[{"$in":{"#id":["` + strings.Join(ids, `","`) + `"]}}],"$threshold":4},"date":"2026-12-04"}`

	op, err := a.EliminationAnalysis(ctx, ids, "2026-12-04")
	if err != nil || op == "" {
		t.Fatalf("analysis: %q %v", op, err)
	}
	checkRequest(t, lastRequest(t, s), "/access-external/v1/elimination/analysis", dsl)
	for k, want := range map[string]vitamtest.EliminationResult{
		"42":  {OperationID: op, GlobalStatus: "KEEP"},
		"101": {OperationID: op, GlobalStatus: "DESTROY", EndDate: "2022-08-31", FinalAction: "Destroy"},
		"102": {OperationID: op, GlobalStatus: "KEEP", EndDate: "2031-08-31", FinalAction: "Destroy"},
		"103": {OperationID: op, GlobalStatus: "KEEP", EndDate: "2022-08-31", FinalAction: "Keep"},
	} {
		if got := s.EliminationResults(units[k].SystemID); !reflect.DeepEqual(got, []vitamtest.EliminationResult{want}) {
			t.Errorf("dossier %s: #elimination %+v, want %+v", k, got, want)
		}
	}
	// An analysis destroys nothing.
	if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "101"}); err != nil {
		t.Fatalf("after the analysis: %v", err)
	}

	op2, err := a.EliminationAction(ctx, ids, "2026-12-04")
	if err != nil || op2 == "" || op2 == op {
		t.Fatalf("action: %q %v", op2, err)
	}
	checkRequest(t, lastRequest(t, s), "/access-external/v1/elimination/action", dsl)

	// Gone: not found by a search, its object 404.
	if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "101"}); !errors.Is(err, transfer.ErrNotExist) {
		t.Errorf("dossier 101 after the action: want not found, got %v", err)
	}
	if _, _, err := a.Object(ctx, units["101"].SystemID, "BinaryMaster", 1); !errors.Is(err, transfer.ErrNotExist) || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("object of dossier 101 after the action: want a 404, got %v", err)
	}
	// Spared: still found, the kept dossier's object still readable.
	for _, k := range []string{"42", "102", "103"} {
		if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: k}); err != nil {
			t.Errorf("dossier %s after the action: %v", k, err)
		}
	}
	rc, _, err := a.Object(ctx, units["103"].SystemID, "BinaryMaster", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != `{"dossier":103}` {
		t.Errorf("object of dossier 103: %q", b)
	}

	// The report says what was done to each, and why the others stay.
	rep, err := a.EliminationReport(ctx, op2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range rep {
		got[o.Type+" "+o.ID] = o.Status
	}
	want := map[string]string{
		"Unit " + units["42"].SystemID:            "GLOBAL_STATUS_KEEP",
		"Unit " + units["101"].SystemID:           "DELETED",
		"Unit " + units["102"].SystemID:           "GLOBAL_STATUS_KEEP",
		"Unit " + units["103"].SystemID:           "GLOBAL_STATUS_KEEP",
		"ObjectGroup " + units["101"].ObjectGroup: "DELETED",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report %v\nwant %v", got, want)
	}
	// A second action finds nothing more to destroy: 101 is no longer selected at all.
	op3, err := a.EliminationAction(ctx, ids, "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := a.EliminationReport(ctx, op3); err != nil || len(rep) != 3 {
		t.Errorf("second action's report: %+v %v", rep, err)
	}
}

// A parent whose DUA ended stays while a child it holds is kept.
func TestEliminationSparesAParentOfAKeptUnit(t *testing.T) {
	ctx := context.Background()
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.AddAccessContract(2, scolarite)
	s.SetRuleDurations(map[string]string{"APP-APO-IA": "7Y"})
	p := filepath.Join(t.TempDir(), "tree.zip")
	f, _ := os.Create(p)
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: "M-TREE", Date: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-000001", ArchivalAgency: "AD-TEST", TransferringAgency: "ETAB-SCOL", OriginatingAgencyIdentifier: "ETAB-SCOL"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	start, _ := civil.Parse("2010-01-01")
	rule := func(final string) seda.Management {
		return seda.Management{Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-APO-IA", StartDate: start}}}, FinalAction: final}}
	}
	if _, err := sw.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "Série", OriginatingSystemID: []string{"S"}}, Management: rule(seda.AppraisalDestroy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "Gardé", OriginatingSystemID: []string{"K"}}, Management: rule(seda.AppraisalKeep)}); err != nil {
		t.Fatal(err)
	}
	if err := sw.CloseUnit(); err != nil {
		t.Fatal(err)
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := target(t, s, client, "", vitam.Options{}).Put(ctx, transfer.SIP{Name: "tree.zip", Path: p, MessageID: "M-TREE", ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sum.ManifestSHA512}}); err != nil {
		t.Fatal(err)
	}
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	var ids []string
	for _, k := range []string{"S", "K"} {
		us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: k})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, us[0].SystemID)
	}
	op, err := a.EliminationAction(ctx, ids, "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.EliminationReport(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range rep {
		got[o.ID] = o.Status
	}
	if want := map[string]string{ids[0]: "NON_DESTROYABLE_HAS_CHILD_UNITS", ids[1]: "GLOBAL_STATUS_KEEP"}; !reflect.DeepEqual(got, want) {
		t.Errorf("report %v, want %v", got, want)
	}
	if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "S"}); err != nil {
		t.Errorf("series after the action: %v", err)
	}
}

// A contract the certificate's context does not allow: VITAM's 401 and message, nothing eliminated.
func TestEliminationUnderAnUnknownContract(t *testing.T) {
	ctx := context.Background()
	s, client, _, units := eliminationSetup(t)
	a := accessClient(t, s, client, "&access-contract=AC-OTHER")
	for _, kind := range []string{"analysis", "action"} {
		var err error
		if kind == "analysis" {
			_, err = a.EliminationAnalysis(ctx, []string{units["101"].SystemID}, "2026-12-04")
		} else {
			_, err = a.EliminationAction(ctx, []string{units["101"].SystemID}, "2026-12-04")
		}
		if !errors.Is(err, vitam.ErrAccessDenied) || transfer.IsTransient(err) {
			t.Fatalf("%s: want ErrAccessDenied, got %v", kind, err)
		}
		want := `VITAM elimination ` + kind + ` at ` + s.AdminURL() + `: VITAM refused the access contract "AC-OTHER" on tenant 2 (401 Unauthorized, request aeeaaaaaac` +
			`): VITAM says "Access contract AC-OTHER not found in the context for the tenant id :2" (code 000700, context {"Name":"vitamtest","Role":"access-external","ServerId":1,"SiteId":1,"GlobalPlatformId":1}, state INTERNAL_SECURITY_UNAUTHORIZED, message Internal Security Filter Unauthorized): check that the contract exists, is ACTIVE and is in the context of this application's certificate`
		msg := err.Error()
		if i := strings.Index(msg, "request aeeaaaaaac"); i >= 0 {
			msg = msg[:i+len("request aeeaaaaaac")] + msg[i+len("request aeeaaaaaac")+26:]
		}
		if msg != want {
			t.Errorf("%s: got\n%s\nwant\n%s", kind, msg, want)
		}
	}
	if _, err := accessClient(t, s, client, "&access-contract=AC-SCOL").FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "101"}); err != nil {
		t.Errorf("dossier 101 after refused requests: %v", err)
	}
}

// An operation VITAM ends KO is an error that says where VITAM tells why.
func TestEliminationEndingKO(t *testing.T) {
	ctx := context.Background()
	s, _, a, units := eliminationSetup(t)
	s.EndEliminationsWith("KO")
	op, err := a.EliminationAction(ctx, []string{units["101"].SystemID}, "2026-12-04")
	want := "VITAM elimination action operation " + op + " ended COMPLETED/KO: its logbook says why (GET /access-external/v1/logbookoperations/" + op + ")"
	if op == "" || err == nil || err.Error() != want || transfer.IsTransient(err) {
		t.Fatalf("got %q %v\nwant %s", op, err, want)
	}
	if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "101"}); err != nil {
		t.Errorf("dossier 101 after a KO action: %v", err)
	}
}

// What the client refuses before sending, and what the server refuses in the body.
func TestEliminationBadInput(t *testing.T) {
	ctx := context.Background()
	s, _, a, units := eliminationSetup(t)
	before := len(s.AccessRequests())
	for _, c := range []struct {
		ids  []string
		date string
		want string
	}{
		{nil, "2026-12-04", "VITAM elimination action: want 1 to 10000 unit ids, got 0"},
		{[]string{"a b"}, "2026-12-04", `VITAM elimination action: unit id "a b" is not a VITAM SystemId`},
		{[]string{units["101"].SystemID}, "04/12/2026", `VITAM elimination action: date "04/12/2026": want YYYY-MM-DD, the date at which VITAM decides whether a rule has ended`},
	} {
		if _, err := a.EliminationAction(ctx, c.ids, c.date); err == nil || err.Error() != c.want || transfer.IsTransient(err) {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
	if len(s.AccessRequests()) != before {
		t.Error("a refused call reached VITAM")
	}
	// An operation VITAM does not know has no report: its 404.
	rep, err := a.EliminationReport(ctx, "aeeaaaaaacnotanoperation0000000000")
	if !errors.Is(err, transfer.ErrNotExist) || rep != nil || !strings.Contains(err.Error(), `VITAM says "Report not found for operation aeeaaaaaacnotanoperation0000000000"`) {
		t.Errorf("report of an unknown operation: %v", err)
	}
}

// The test server refuses, as VITAM's resource does (412), a body that is not an
// EliminationRequestBody with a BATCH_PROCESSING DSL, and ends KO an operation selecting more
// units than its $threshold.
func TestTestServerRefusesEliminationBodies(t *testing.T) {
	s, client, _, units := eliminationSetup(t)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	send := func(method, path, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, s.AdminURL()+path, strings.NewReader(body))
		req.Header.Set("X-Tenant-Id", "2")
		req.Header.Set("X-Access-Contract-Id", "AC-SCOL")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	in := `[{"$in":{"#id":["` + units["101"].SystemID + `","` + units["103"].SystemID + `"]}}]`
	const refusal = `{"code":"PRECONDITION_FAILED","context":"ACCESS_EXTERNAL","description":%q,"httpCode":412,"message":"Precondition Failed","state":"code_vitam"}`
	for _, c := range []struct{ body, why string }{
		{`{"date":"2026-12-04"}`, "dslRequest is a mandatory parameter"},
		{`{"dslRequest":{"$query":` + in + `}}`, "date is a mandatory parameter, as YYYY-MM-DD"},
		{`{"dslRequest":{"$query":` + in + `},"date":"2026-02-30"}`, "date is a mandatory parameter, as YYYY-MM-DD"},
		{`{"dslRequest":{"$query":` + in + `,"$projection":{}},"date":"2026-12-04"}`, "dslRequest is not a BATCH_PROCESSING query: unknown key $projection"},
		{`{"dslRequest":{"$query":[]},"date":"2026-12-04"}`, "dslRequest is not a BATCH_PROCESSING query: empty $query"},
	} {
		resp, got := send("POST", "/access-external/v1/elimination/action", c.body)
		if want := fmt.Sprintf(refusal, c.why); resp.StatusCode != 412 || got != want {
			t.Errorf("%s: %d %s\nwant 412 %s", c.body, resp.StatusCode, got, want)
		}
	}
	// Two units selected under a $threshold of 1: accepted, then KO, and nothing destroyed.
	resp, _ := send("POST", "/access-external/v1/elimination/action", `{"dslRequest":{"$roots":[],"$query":`+in+`,"$threshold":1},"date":"2026-12-04"}`)
	op := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 202 || op == "" {
		t.Fatalf("threshold: %d %q", resp.StatusCode, op)
	}
	var state, status string
	for i := 0; i < 10 && state != "COMPLETED"; i++ {
		resp, _ := send("HEAD", "/admin-external/v1/operations/"+op, "")
		state, status = resp.Header.Get("X-Global-Execution-State"), resp.Header.Get("X-Global-Execution-Status")
	}
	if state != "COMPLETED" || status != "KO" {
		t.Errorf("threshold exceeded: %s/%s, want COMPLETED/KO", state, status)
	}
	if _, err := accessClient(t, s, client, "&access-contract=AC-SCOL").FindUnits(context.Background(), vitam.UnitQuery{OriginatingSystemID: "101"}); err != nil {
		t.Errorf("dossier 101 after a KO action: %v", err)
	}
}

// ingestUnits writes a SIP of ETAB-SCOL with the project's SEDA writer (SEDA 2.2, holds included)
// and ingests it.
func ingestUnits(t *testing.T, s *vitamtest.Server, client vitamtest.Client, msgID string, units []seda.Unit) {
	t.Helper()
	p := filepath.Join(t.TempDir(), msgID+".zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: msgID, Date: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-000001", ArchivalAgency: "AD-TEST", TransferringAgency: "ETAB-SCOL", OriginatingAgencyIdentifier: "ETAB-SCOL"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if _, err := sw.AddUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := target(t, s, client, "", vitam.Options{}).Put(context.Background(), transfer.SIP{Name: msgID + ".zip", Path: p, MessageID: msgID,
		ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sum.ManifestSHA512}}); err != nil || r.ReplyCode != "OK" {
		t.Fatalf("ingest: %+v %v", r, err)
	}
}

// A legal hold still running blocks a destruction (CONFLICT, BLOCKED_BY_HOLD_RULE) and the
// action spares the unit; a hold ended does not; a DUA ending on the elimination date has ended.
func TestEliminationHoldsAndTheDUAsLastDay(t *testing.T) {
	ctx := context.Background()
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.AddAccessContract(2, scolarite)
	s.SetRuleDurations(map[string]string{"APP-APO-IA": "7Y"})
	date := func(s string) civil.Date { d, _ := civil.Parse(s); return d }
	unit := func(key, start string, holds ...seda.HoldRule) seda.Unit {
		return seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "Dossier " + key, OriginatingSystemID: []string{key}},
			Management: seda.Management{Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-APO-IA", StartDate: date(start)}}}, FinalAction: seda.AppraisalDestroy}, Hold: holds}}
	}
	ingestUnits(t, s, client, "M-HOLD", []seda.Unit{
		unit("201", "2015-08-31", seda.HoldRule{Rule: "HLD-CONTENTIEUX", StartDate: date("2025-01-01")}),
		unit("202", "2019-12-04"),
		unit("203", "2015-08-31", seda.HoldRule{Rule: "HLD-CONTENTIEUX", StartDate: date("2024-01-01"), EndDate: date("2026-01-01")}),
	})
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	ids := map[string]string{}
	var all []string
	for _, k := range []string{"201", "202", "203"} {
		us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: k})
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = us[0].SystemID
		all = append(all, us[0].SystemID)
	}
	op, err := a.EliminationAnalysis(ctx, all, "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]vitamtest.EliminationResult{
		"201": {OperationID: op, GlobalStatus: "CONFLICT", EndDate: "2022-08-31", FinalAction: "Destroy", ExtendedInfo: []string{"BLOCKED_BY_HOLD_RULE"}},
		"202": {OperationID: op, GlobalStatus: "DESTROY", EndDate: "2026-12-04", FinalAction: "Destroy"},
		"203": {OperationID: op, GlobalStatus: "DESTROY", EndDate: "2022-08-31", FinalAction: "Destroy"},
	} {
		if got := s.EliminationResults(ids[k]); !reflect.DeepEqual(got, []vitamtest.EliminationResult{want}) {
			t.Errorf("dossier %s: %+v, want %+v", k, got, want)
		}
	}
	op, err = a.EliminationAction(ctx, all, "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.EliminationReport(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range rep {
		got[o.ID] = o.Status
	}
	if want := map[string]string{ids["201"]: "GLOBAL_STATUS_CONFLICT", ids["202"]: "DELETED", ids["203"]: "DELETED"}; !reflect.DeepEqual(got, want) {
		t.Errorf("report %v, want %v", got, want)
	}
	if _, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "201"}); err != nil {
		t.Errorf("held dossier after the action: %v", err)
	}
}
