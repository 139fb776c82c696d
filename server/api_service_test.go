package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/server"
)

var _ server.Deposits = (*deposit.Service)(nil)

// The HTTP layer over the real deposit.Service, up to the close (queued; the worker's
// processing is the end-to-end test's): its refusals come out as the documented problems.
func TestAPIOverTheDepositService(t *testing.T) {
	var queued []string
	svc, err := deposit.Open(context.Background(), deposit.Config{Establishment: "univ-a", Dir: t.TempDir(),
		OriginatingAgency: "UNIV-A", SubmissionAgency: "UNIV-A-SCOL", ArchivalAgreement: "IC-UNIV-A",
		Profile: profiles.Builtin,
		Job:     func(*profiles.Profile) pipeline.JobSpec { return pipeline.JobSpec{} },
		Enqueue: func(_ context.Context, id string) error { queued = append(queued, id); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newAPIEnv(t, func(a *server.APIConfig) { a.Establishments["univ-a"] = svc })
	a := bearer(e.token("app-a"))
	tx := openTx(t, e, a, `{"profile":"apogee","class":"etudiant","reference":"REF-1"}`)
	doc := `{"format":"versement-dossier/1","class":"etudiant","key":7,"tables":[{"name":"INDIVIDU","columns":["COD_IND","PHOTO"],"types":["integer","binary"],"rows":[[7,{"object":"photo.jpg","size":3}]]}]}`
	if r := e.call("POST", tx+"/units", []byte(doc+"\n"), with(a, "Content-Type", "application/x-ndjson")...); r.status != 200 || strings.TrimSpace(r.body) != `{"added":1}` {
		t.Fatalf("units: %d %s", r.status, r.body)
	}
	photo := []byte("JPG")
	r := e.call("PUT", tx+"/objects/photo.jpg", photo[:1], chunkHeaders(a, photo, 0, 0)...)
	if r.status != 200 || r.header.Get("Upload-Offset") != "1" {
		t.Fatalf("first chunk: %d %s", r.status, r.body)
	}
	r = e.call("PUT", tx+"/objects/photo.jpg", photo[2:], chunkHeaders(a, photo, 2, 2)...)
	if r.status != 409 || !strings.Contains(r.body, `"kind":"conflict"`) || !strings.Contains(r.body, `"received":1`) {
		t.Fatalf("a chunk ahead: %d %s", r.status, r.body)
	}
	if r = e.call("HEAD", tx+"/objects/photo.jpg", nil, a...); r.header.Get("Upload-Offset") != "1" {
		t.Fatalf("HEAD: %d %v", r.status, r.header)
	}
	r = e.call("PUT", tx+"/objects/photo.jpg", photo[1:], chunkHeaders(a, photo, 1, 2)...)
	if r.status != 200 || r.header.Get("Upload-Complete") != "?1" {
		t.Fatalf("last chunk: %d %s", r.status, r.body)
	}
	if r = e.call("GET", tx+"/atr", nil, a...); r.status != 404 || !strings.Contains(r.body, `"kind":"not-found"`) {
		t.Fatalf("ATR before any: %d %s", r.status, r.body)
	}
	if r = e.call("POST", tx+"/close", nil, a...); r.status != 202 || len(queued) != 1 {
		t.Fatalf("close: %d %s (queued %v)", r.status, r.body, queued)
	}
	if got := decode[deposit.Transaction](t, e.call("GET", tx, nil, a...)); got.State != deposit.StateQueued || got.Units != 1 || got.By != "app-a" {
		t.Fatalf("status: %+v", got)
	}

	// A contract that is not the establishment's is refused at close, the field named.
	other := openTx(t, e, a, `{"profile":"apogee","class":"etudiant","archival_agreement":"IC-UNIV-B"}`)
	e.call("POST", other+"/units", []byte(strings.Replace(doc, `{"object":"photo.jpg","size":3}`, "null", 1)), with(a, "Content-Type", "application/x-ndjson")...)
	r = e.call("POST", other+"/close", nil, a...)
	if r.status != 422 || !strings.Contains(r.body, `"field":"header.archival_agreement"`) {
		t.Fatalf("another contract: %d %s", r.status, r.body)
	}
	// Not a SIP: 422 with the findings.
	r = e.call("POST", "/api/v1/establishments/univ-a/sips", []byte("not a zip"), with(a, "Content-Type", "application/zip")...)
	if r.status != 422 || !strings.Contains(r.body, `"findings":[`) {
		t.Fatalf("not a SIP: %d %s", r.status, r.body)
	}
	t.Logf("not a SIP: %s", r.body)
}
