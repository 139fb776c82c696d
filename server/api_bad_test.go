package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/server"
)

const problemPrefix = `{"type":"urn:versement:api:problem:`

// problemJSON is the exact problem document of status, kind, title and the rest (",…" members).
func problemJSON(kind, title string, status int, detail, rest string) string {
	return fmt.Sprintf(`%s%s","title":"%s","status":%d,"detail":%q,"kind":"%s"%s}`, problemPrefix, kind, title, status, detail, kind, rest)
}

// openTx opens a transaction in univ-a and returns its path.
func openTx(t *testing.T, e *apiEnv, auth []string, header string) string {
	t.Helper()
	c := e.call("POST", "/api/v1/establishments/univ-a/transactions", []byte(header), with(auth, "Content-Type", "application/json")...)
	if c.status != 201 {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	return c.header.Get("Location")
}

// unsized is a body whose length the client does not know: sent chunked.
type unsized struct{ io.Reader }

func TestAPIBadRequestsGetTheirProblem(t *testing.T) {
	e := newAPIEnv(t, func(a *server.APIConfig) { a.MaxUnitsBytes, a.MaxChunkBytes, a.MaxSIPBytes = 2048, 1024, 4096 })
	a := bearer(e.token("app-a"))
	base := "/api/v1/establishments/univ-a"
	js := with(a, "Content-Type", "application/json")
	tx := openTx(t, e, a, `{"profile":"apogee","class":"etudiant"}`)
	whole := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
	obj := tx + "/objects/doc.pdf"

	cases := []struct {
		name         string
		method, path string
		body         []byte
		header       []string
		status       int
		want         string
	}{
		{"header not JSON", "POST", base + "/transactions", []byte(`profile=apogee`), with(a, "Content-Type", "text/plain"), 415,
			problemJSON("unsupported-media-type", "Unsupported Media Type", 415, "a transaction's header is application/json", "")},
		{"unknown header field", "POST", base + "/transactions", []byte(`{"profile":"apogee","class":"etudiant","colour":"red"}`), js, 400,
			problemJSON("invalid", "Bad Request", 400, `the header is not a JSON object of the documented fields: json: unknown field "colour"`, `,"field":"header"`)},
		{"truncated header", "POST", base + "/transactions", []byte(`{"profile":`), js, 400,
			problemJSON("invalid", "Bad Request", 400, "the header is not a JSON object of the documented fields: the body ends before the object does", `,"field":"header"`)},
		{"header of the wrong type", "POST", base + "/transactions", []byte(`{"profile":42,"class":"etudiant"}`), js, 400,
			problemJSON("invalid", "Bad Request", 400, "the header is not a JSON object of the documented fields: profile: a number where a string is expected", `,"field":"header"`)},
		{"two headers", "POST", base + "/transactions", []byte(`{"profile":"apogee","class":"etudiant"} {}`), js, 400,
			problemJSON("invalid", "Bad Request", 400, "the header is not a JSON object of the documented fields: data after the header's object", `,"field":"header"`)},
		{"no class", "POST", base + "/transactions", []byte(`{"profile":"apogee"}`), js, 400,
			problemJSON("invalid", "Bad Request", 400, "the class is needed", `,"field":"header.class"`)},
		{"huge header", "POST", base + "/transactions", []byte(`{"profile":"apogee","class":"etudiant","comment":"` + strings.Repeat("x", 70000) + `"}`), js, 413,
			problemJSON("too-large", "Request Entity Too Large", 413, "a transaction's header is at most 65536 bytes", `,"field":"header"`)},
		{"units as CSV", "POST", tx + "/units", []byte("a,b\n"), with(a, "Content-Type", "text/csv"), 415,
			problemJSON("unsupported-media-type", "Unsupported Media Type", 415, "units are application/x-ndjson (one document a line) or application/json (an array of documents)", "")},
		{"a unit without tables", "POST", tx + "/units", []byte(unitDoc(1) + "\n{\"key\":2}\n"), with(a, "Content-Type", "application/x-ndjson"), 400,
			problemJSON("invalid", "Bad Request", 400, "not a dossier document: no tables", `,"field":"units[1]"`)},
		{"units over the limit", "POST", tx + "/units", []byte(strings.Repeat(unitDoc(1)+"\n", 20)), with(a, "Content-Type", "application/x-ndjson"), 413,
			problemJSON("too-large", "Request Entity Too Large", 413, "one request of units is at most 2048 bytes: send them in several", `,"field":"units"`)},
		{"units of no transaction", "POST", base + "/transactions/tx9999/units", []byte(unitDoc(1)), with(a, "Content-Type", "application/x-ndjson"), 404,
			problemJSON("not-found", "Not Found", 404, "no transaction tx9999", "")},
		{"chunk without Content-Range", "PUT", obj, whole[:100], with(a, "Content-Type", "application/octet-stream", "Content-Digest", digest(whole[:100]), "Repr-Digest", digest(whole)), 400,
			problemJSON("invalid", "Bad Request", 400, "Content-Range: want bytes FIRST-LAST/TOTAL, e.g. bytes 0-1048575/5000000", `,"field":"Content-Range"`)},
		{"chunk range backwards", "PUT", obj, whole[:100], with(chunkHeaders(a, whole, 0, 99), "Content-Range", "bytes 99-0/1000"), 400,
			problemJSON("invalid", "Bad Request", 400, "Content-Range: bytes 99-0/1000: want FIRST <= LAST < TOTAL", `,"field":"Content-Range"`)},
		{"chunk without its digest", "PUT", obj, whole[:100], with(a, "Content-Type", "application/octet-stream", "Content-Range", "bytes 0-99/1000", "Repr-Digest", digest(whole)), 400,
			problemJSON("invalid", "Bad Request", 400, "Content-Digest: missing (want sha-256=:BASE64: of the chunk)", `,"field":"Content-Digest"`)},
		{"chunk digest in MD5", "PUT", obj, whole[:100], with(chunkHeaders(a, whole, 0, 99), "Content-Digest", "md5=:HUXZLQLMuI/KZ5KDcJPcOA==:"), 400,
			problemJSON("invalid", "Bad Request", 400, "Content-Digest: no sha-256 member (want sha-256=:BASE64: of the chunk)", `,"field":"Content-Digest"`)},
		{"object digest not 32 bytes", "PUT", obj, whole[:100], with(chunkHeaders(a, whole, 0, 99), "Repr-Digest", "sha-256=:AAAA:"), 400,
			problemJSON("invalid", "Bad Request", 400, "Repr-Digest: sha-256 is not 32 bytes in base64 (want sha-256=:BASE64: of the whole object)", `,"field":"Repr-Digest"`)},
		{"chunk shorter than its range", "PUT", obj, whole[:50], chunkHeaders(a, whole, 0, 99), 400,
			problemJSON("invalid", "Bad Request", 400, "Content-Length is 50 bytes but Content-Range says 100", `,"field":"Content-Length"`)},
		{"chunk over the limit", "PUT", obj, whole[:0], chunkHeaders(a, append(whole, whole...), 0, 1999), 413,
			problemJSON("too-large", "Request Entity Too Large", 413, "a chunk is at most 1024 bytes", `,"field":"Content-Range"`)},
		{"wrong chunk digest", "PUT", obj, whole[:100], with(chunkHeaders(a, whole, 0, 99), "Content-Digest", digest(whole[1:101])), 422,
			problemJSON("unprocessable", "Unprocessable Entity", 422, fmt.Sprintf("the chunk's SHA-256 is %x, not the declared %x", sha(whole[:100]), sha(whole[1:101])), `,"field":"objects/doc.pdf"`)},
		{"a name with a slash", "PUT", tx + "/objects/a%2Fb.pdf", whole[:100], chunkHeaders(a, whole, 0, 99), 400,
			problemJSON("invalid", "Bad Request", 400, `an object's name is one path segment of 1 to 255 bytes, without '/', '\' or control characters`, `,"field":"name"`)},
		{"an object never sent", "GET", tx + "/objects/never.pdf", nil, a, 404,
			problemJSON("not-found", "Not Found", 404, `no object "never.pdf" in transaction tx0001`, `,"field":"objects/never.pdf"`)},
		{"no such transaction", "GET", base + "/transactions/tx9999", nil, a, 404,
			problemJSON("not-found", "Not Found", 404, "no transaction tx9999", "")},
		{"SIP as octets", "POST", base + "/sips", []byte("PK"), with(a, "Content-Type", "application/octet-stream"), 415,
			problemJSON("unsupported-media-type", "Unsupported Media Type", 415, "a SIP is application/zip", "")},
		{"SIP not a zip", "POST", base + "/sips", []byte("not a zip at all"), with(a, "Content-Type", "application/zip"), 422,
			problemJSON("unprocessable", "Unprocessable Entity", 422, "the SIP does not verify", `,"field":"sip","findings":["not a zip file"]`)},
		{"SIP over the limit", "POST", base + "/sips", bytes.Repeat([]byte("P"), 5000), with(a, "Content-Type", "application/zip"), 413,
			problemJSON("too-large", "Request Entity Too Large", 413, "a SIP is at most 4096 bytes", `,"field":"sip"`)},
		{"no such route", "GET", "/api/v1/nothing", nil, a, 404,
			problemJSON("not-found", "Not Found", 404, "no such API route", "")},
		{"a method not allowed", "DELETE", tx, nil, a, 405,
			problemJSON("method-not-allowed", "Method Not Allowed", 405, "this method is not allowed here", "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, e.call(c.method, c.path, c.body, c.header...), c.status, c.want)
		})
	}
	if r := e.call("DELETE", tx, nil, a...); r.header.Get("Allow") != "GET, HEAD" && r.header.Get("Allow") != "GET" {
		t.Errorf("405 Allow %q", r.header.Get("Allow"))
	}

	// A wrong whole digest on the last chunk: 422, and nothing of the object is kept.
	wrong := with(chunkHeaders(a, whole, 0, 999), "Repr-Digest", digest(whole[1:]))
	wantProblem(t, e.call("PUT", obj, whole, wrong...), 422,
		problemJSON("unprocessable", "Unprocessable Entity", 422, fmt.Sprintf("the object's SHA-256 is %x, not the declared %x: its bytes are removed", sha(whole), sha(whole[1:])), `,"field":"objects/doc.pdf"`))
	if r := e.call("HEAD", obj, nil, a...); r.status != 404 {
		t.Errorf("after a wrong digest, HEAD %d", r.status)
	}

	// Bodies of unknown length are bounded as they come.
	req, err := http.NewRequest("POST", e.srv.URL+tx+"/units", unsized{strings.NewReader(strings.Repeat(unitDoc(1)+"\n", 20))})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", a[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantProblem(t, reply{resp.StatusCode, resp.Header, string(b)}, 413,
		problemJSON("too-large", "Request Entity Too Large", 413, "one request of units is at most 2048 bytes: send them in several", `,"field":"units"`))
	if got := e.fakes["univ-a"].txs["tx0001"].tx.Units; got != 0 {
		t.Errorf("%d units kept from refused requests", got)
	}
	req, _ = http.NewRequest("PUT", e.srv.URL+obj, unsized{bytes.NewReader(whole[:100])})
	for i := 0; i < len(chunkHeaders(a, whole, 0, 99)); i += 2 {
		h := chunkHeaders(a, whole, 0, 99)
		req.Header.Set(h[i], h[i+1])
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	wantProblem(t, reply{resp.StatusCode, resp.Header, string(b)}, 411,
		problemJSON("length-required", "Length Required", 411, "a chunk needs its Content-Length", `,"field":"Content-Length"`))
}

func TestAPICloseRefusals(t *testing.T) {
	e := newAPIEnv(t)
	a := bearer(e.token("app-a"))
	nd := with(a, "Content-Type", "application/x-ndjson")
	empty := openTx(t, e, a, `{"profile":"apogee","class":"etudiant"}`)
	wantProblem(t, e.call("POST", empty+"/close", nil, a...), 422,
		problemJSON("unprocessable", "Unprocessable Entity", 422, "no units: nothing to archive", `,"field":"units"`))

	other := openTx(t, e, a, `{"profile":"apogee","class":"etudiant","archival_agreement":"IC-univ-b"}`)
	e.call("POST", other+"/units", []byte(unitDoc(1)), nd...)
	wantProblem(t, e.call("POST", other+"/close", nil, a...), 422,
		problemJSON("unprocessable", "Unprocessable Entity", 422, `ingest contract "IC-univ-b" is not one of establishment univ-a`, `,"field":"header.archival_agreement"`))

	half := openTx(t, e, a, `{"profile":"apogee","class":"etudiant","archival_agreement":"IC-univ-a"}`)
	e.call("POST", half+"/units", []byte(unitDoc(1)), nd...)
	whole := []byte(strings.Repeat("x", 200))
	e.call("PUT", half+"/objects/p.jpg", whole[:100], chunkHeaders(a, whole, 0, 99)...)
	wantProblem(t, e.call("POST", half+"/close", nil, a...), 422,
		problemJSON("unprocessable", "Unprocessable Entity", 422, `object "p.jpg" is incomplete: 100 of 200 bytes`, `,"field":"objects/p.jpg"`))
	e.call("PUT", half+"/objects/p.jpg", whole[100:], chunkHeaders(a, whole, 100, 199)...)
	if r := e.call("POST", half+"/close", nil, a...); r.status != 202 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	id := half[strings.LastIndex(half, "/")+1:]
	wantProblem(t, e.call("POST", half+"/close", nil, a...), 409,
		problemJSON("conflict", "Conflict", 409, "transaction "+id+" is queued: it cannot be closed", ""))
	wantProblem(t, e.call("POST", half+"/units", []byte(unitDoc(2)), nd...), 409,
		problemJSON("conflict", "Conflict", 409, "transaction "+id+" is queued: it takes no more", `,"field":"units"`))
}

// A connection dropped in the middle of a chunk: the chunk does not count, the upload resumes
// at the bytes received before it.
func TestAPIDroppedChunk(t *testing.T) {
	e := newAPIEnv(t)
	a := bearer(e.token("app-a"))
	tx := openTx(t, e, a, `{"profile":"apogee","class":"etudiant"}`)
	whole := bytes.Repeat([]byte("abcdefghij"), 20)
	obj := tx + "/objects/scan.pdf"
	if r := e.call("PUT", obj, whole[:100], chunkHeaders(a, whole, 0, 99)...); r.status != 200 {
		t.Fatalf("first chunk: %d %s", r.status, r.body)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n", obj)
	h := chunkHeaders(a, whole, 100, 199)
	for i := 0; i+1 < len(h); i += 2 {
		fmt.Fprintf(&head, "%s: %s\r\n", h[i], h[i+1])
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()+string(whole[100:150])); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	// The server sees the body end early once the connection is gone; wait for its log line.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(e.log.String(), `"method":"PUT"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the dropped chunk:\n%s", e.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if log := e.log.String(); !strings.Contains(log, `"status":400`) || strings.Contains(log, "API request failed") {
		t.Errorf("the dropped chunk's log:\n%s", log)
	}
	if r := e.call("HEAD", obj, nil, a...); r.header.Get("Upload-Offset") != "100" {
		t.Fatalf("after the drop, Upload-Offset %q", r.header.Get("Upload-Offset"))
	}
	if r := e.call("PUT", obj, whole[100:], chunkHeaders(a, whole, 100, 199)...); r.status != 200 || r.header.Get("Upload-Complete") != "?1" {
		t.Fatalf("resumed chunk: %d %s", r.status, r.body)
	}
}

func TestAPIEmptyObject(t *testing.T) {
	e := newAPIEnv(t)
	a := bearer(e.token("app-a"))
	tx := openTx(t, e, a, `{"profile":"apogee","class":"etudiant"}`)
	r := e.call("PUT", tx+"/objects/empty.txt", []byte{}, with(a, "Content-Type", "application/octet-stream",
		"Content-Range", "bytes */0", "Content-Digest", digest(nil), "Repr-Digest", digest(nil))...)
	if r.status != 200 || r.header.Get("Upload-Complete") != "?1" || r.header.Get("Upload-Length") != "0" {
		t.Fatalf("empty object: %d %v %s", r.status, r.header, r.body)
	}
}
