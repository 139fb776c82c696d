package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/server"
)

// The routes the server registers are exactly the document's operations, both ways.
func TestAPIRoutesMatchTheDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(documented)
	registered := server.APIRoutes()
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("routes and document differ\nregistered %q\ndocumented %q", registered, documented)
	}
	if len(registered) != 10 {
		t.Fatalf("%d routes", len(registered))
	}
}

// unitDoc is a dossier document as a run writes it.
func unitDoc(key int) string {
	return fmt.Sprintf(`{"format":"versement-dossier/1","class":"etudiant","key":%d,"tables":[{"name":"INDIVIDU","columns":["COD_IND","LIB_NOM_PAT_IND"],"types":["integer","text"],"rows":[[%d,"LE BRETON"]]}]}`, key, key)
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func digest(b []byte) string { return "sha-256=:" + base64.StdEncoding.EncodeToString(sha(b)) + ":" }

// chunkHeaders are a chunk's Content-Range and digests, of object whole.
func chunkHeaders(auth []string, whole []byte, first, last int) []string {
	return with(auth, "Content-Type", "application/octet-stream",
		"Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(whole)),
		"Content-Digest", digest(whole[first:last+1]), "Repr-Digest", digest(whole))
}

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return v
}

// sipZip is a zip holding a manifest, as the fake wants a SIP.
func sipZip(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(`<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"/>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A depositing application's whole deposit, as docs/api.md tells it, every route exercised and
// checked against the document.
func TestAPIDepositFlow(t *testing.T) {
	e := newAPIEnv(t)
	a := bearer(e.token("app-a"))
	base := "/api/v1/establishments/univ-a"

	d := e.call("GET", "/api/v1/openapi.yaml", nil)
	want, err := os.ReadFile(filepath.Join("api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if d.status != 200 || d.body != string(want) || d.header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("document: %d %q", d.status, d.header.Get("Content-Type"))
	}

	c := e.call("POST", base+"/transactions", []byte(`{"profile":"apogee","class":"etudiant","reference":"DEP-2026-0042","comment":"promotion 1998 de Marie Dupont"}`),
		with(a, "Content-Type", "application/json")...)
	if c.status != 201 {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	tx := decode[deposit.Transaction](t, c)
	loc := base + "/transactions/" + tx.ID
	if c.header.Get("Location") != loc || tx.State != deposit.StateOpen || tx.By != "app-a" || tx.Establishment != "univ-a" {
		t.Fatalf("create: Location %q, %+v", c.header.Get("Location"), tx)
	}
	// The same reference again is the same transaction (a retry after a lost reply).
	if again := decode[deposit.Transaction](t, e.call("POST", base+"/transactions", []byte(`{"profile":"apogee","class":"etudiant","reference":"DEP-2026-0042"}`),
		with(a, "Content-Type", "application/json")...)); again.ID != tx.ID {
		t.Fatalf("same reference: %s, want %s", again.ID, tx.ID)
	}

	u := e.call("POST", loc+"/units", []byte(unitDoc(1)+"\n"+unitDoc(2)+"\n"), with(a, "Content-Type", "application/x-ndjson")...)
	if u.status != 200 || strings.TrimSpace(u.body) != `{"added":2}` {
		t.Fatalf("units: %d %s", u.status, u.body)
	}
	u = e.call("POST", loc+"/units", []byte("["+unitDoc(3)+"]"), with(a, "Content-Type", "application/json; charset=utf-8")...)
	if u.status != 200 || strings.TrimSpace(u.body) != `{"added":1}` {
		t.Fatalf("units as an array: %d %s", u.status, u.body)
	}

	// An object in three chunks; a chunk sent ahead (the second one lost) is told where to resume.
	photo := make([]byte, 10000)
	for i := range photo {
		photo[i] = byte(rand.N(256))
	}
	obj := loc + "/objects/PHO_ETU.PHO_ETU.1"
	if p := e.call("PUT", obj, photo[:4096], chunkHeaders(a, photo, 0, 4095)...); p.status != 200 ||
		p.header.Get("Upload-Offset") != "4096" || p.header.Get("Upload-Complete") != "?0" {
		t.Fatalf("first chunk: %d %v %s", p.status, p.header, p.body)
	}
	wantProblem(t, e.call("PUT", obj, photo[8192:], chunkHeaders(a, photo, 8192, 9999)...), 409,
		`{"type":"urn:versement:api:problem:conflict","title":"Conflict","status":409,"detail":"chunk at offset 8192, but 4096 bytes are received: resume at 4096","kind":"conflict","field":"objects/PHO_ETU.PHO_ETU.1","received":4096}`)
	h := e.call("HEAD", obj, nil, a...)
	if h.status != 200 || h.header.Get("Upload-Offset") != "4096" || h.header.Get("Upload-Length") != "10000" || h.body != "" {
		t.Fatalf("HEAD: %d %v", h.status, h.header)
	}
	st := decode[deposit.Object](t, e.call("GET", obj, nil, a...))
	if st.Received != 4096 || st.Complete || st.SHA256 != hex.EncodeToString(sha(photo)) {
		t.Fatalf("GET object: %+v", st)
	}
	// The first chunk again (its reply was lost): acknowledged, nothing appended.
	if p := e.call("PUT", obj, photo[:4096], chunkHeaders(a, photo, 0, 4095)...); p.status != 200 || p.header.Get("Upload-Offset") != "4096" {
		t.Fatalf("retried chunk: %d %s", p.status, p.body)
	}
	e.call("PUT", obj, photo[4096:8192], chunkHeaders(a, photo, 4096, 8191)...)
	last := e.call("PUT", obj, photo[8192:], chunkHeaders(a, photo, 8192, 9999)...)
	if o := decode[deposit.Object](t, last); !o.Complete || o.Received != 10000 || last.header.Get("Upload-Complete") != "?1" {
		t.Fatalf("last chunk: %+v", o)
	}

	wantProblem(t, e.call("GET", loc+"/atr", nil, a...), 404,
		`{"type":"urn:versement:api:problem:not-found","title":"Not Found","status":404,"detail":"transaction `+tx.ID+` has no transfer reply yet","kind":"not-found","field":"atr"}`)

	cl := e.call("POST", loc+"/close", nil, a...)
	if cl.status != 202 || cl.header.Get("Location") != loc || cl.header.Get("Retry-After") != "5" {
		t.Fatalf("close: %d %v %s", cl.status, cl.header, cl.body)
	}
	s := e.call("GET", loc, nil, a...)
	got := decode[deposit.Transaction](t, s)
	if got.State != deposit.StateQueued || s.header.Get("Retry-After") != "5" || got.Units != 3 || len(got.Objects) != 1 {
		t.Fatalf("status after close: %v %+v", s.header, got)
	}

	atr := `<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><ReplyCode>OK</ReplyCode></ArchiveTransferReply>`
	e.fakes["univ-a"].finish(tx.ID, []byte(atr))
	s = e.call("GET", loc, nil, a...)
	if got = decode[deposit.Transaction](t, s); got.State != deposit.StateDone || len(got.SIPs) != 1 || !got.SIPs[0].ATR || s.header.Get("Retry-After") != "" {
		t.Fatalf("done: %v %+v", s.header, got)
	}
	r := e.call("GET", loc+"/atr", nil, a...)
	if r.status != 200 || r.body != atr || r.header.Get("Content-Type") != "application/xml" {
		t.Fatalf("ATR: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}

	sub := e.call("POST", base+"/sips", sipZip(t), with(a, "Content-Type", "application/zip")...)
	sipTx := decode[deposit.Transaction](t, sub)
	if sub.status != 202 || sub.header.Get("Location") != base+"/transactions/"+sipTx.ID || sipTx.Kind != deposit.KindSIP {
		t.Fatalf("SIP: %d %v %s", sub.status, sub.header, sub.body)
	}

	ops := server.APIRoutes()
	slices.Sort(ops)
	if seen := e.check.operations(); !slices.Equal(seen, ops) {
		t.Errorf("operations checked against the document\n got %q\nwant %q", seen, ops)
	}
	// The request log names routes, statuses and hashed clients: never a token, a path's ids,
	// a header field or a body's value.
	log := e.log.String()
	for _, secret := range []string{a[1][len("Bearer "):], "Bearer", "Authorization", tx.ID, "PHO_ETU", "DEP-2026", "Dupont", "LE BRETON", "app-a"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, `"route":"PUT /api/v1/establishments/{establishment}/transactions/{id}/objects/{name}"`) {
		t.Errorf("no route in the log:\n%s", log)
	}
}
