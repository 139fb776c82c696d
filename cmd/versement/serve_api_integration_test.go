package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/platform"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// testCA signs the server's and the applications' certificates of a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test platform CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(crand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for cn: a server's for 127.0.0.1, or a client's.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := crand.Int(crand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(crand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// apiClient is an application depositing for one establishment, with its client certificate.
type apiClient struct {
	t    *testing.T
	http *http.Client
	base string
}

func newAPIClient(t *testing.T, ca *testCA, cn, addr string) *apiClient {
	certPEM, keyPEM := ca.issue(t, cn, false)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}
	return &apiClient{t: t, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: "https://" + addr + "/api/v1"}
}

func (c *apiClient) do(method, path string, body []byte, header map[string]string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func sha256Field(b []byte) string {
	s := sha256.Sum256(b)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

// depositDocuments reads n dossiers of the establishment's demo base as the documents an
// application deposits (the JSON a run writes), each LOB an object named after its dossier.
func depositDocuments(t *testing.T, db string, n int) (ndjson []byte, objects map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	src, err := extract.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	objects = map[string][]byte{}
	var out bytes.Buffer
	c := p.Class("etudiant")
	i := 0
	for d, err := range src.Dossiers(ctx, c.ExtractSpec()) {
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(d.Key)
		name := func(r extract.LOBRef) string { return fmt.Sprintf("%s-%s.%s.%d", key, r.Table, r.Column, r.Row+1) }
		for r := range d.LOBs() {
			rc, err := r.LOB.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			objects[name(r)] = b
		}
		if err := d.WriteJSON(&out, name); err != nil {
			t.Fatal(err)
		}
		if i++; i == n {
			break
		}
	}
	// WriteJSON ends each document with a newline: one document a line is NDJSON once the
	// document's own newlines (between tables and rows) are gone, which JSON allows.
	var nd bytes.Buffer
	for _, doc := range bytes.SplitAfter(out.Bytes(), []byte("\n]}\n")) {
		if len(bytes.TrimSpace(doc)) > 0 {
			nd.Write(bytes.ReplaceAll(bytes.TrimSpace(doc), []byte("\n"), nil))
			nd.WriteByte('\n')
		}
	}
	return nd.Bytes(), objects
}

// apiPlatform is the test platform (writeTestPlatform's three establishments, each with an
// application known by its certificate's CN, app.<id>) and what `serve --api` needs over TLS.
type apiPlatform struct {
	root, file, dir, addr string
	ca                    *testCA
}

func newAPIPlatform(t *testing.T) *apiPlatform {
	t.Helper()
	p := &apiPlatform{root: t.TempDir(), dir: t.TempDir(), ca: newTestCA(t)}
	p.file = writeTestPlatform(t, p.root, "@every 24h")
	y, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(y)
	for _, e := range testEstablishments {
		at := "    targets:\n      intermediate: dir://" + p.root + "/archives/" + e.id + "/"
		if !strings.Contains(text, at) {
			t.Fatalf("no targets of %s in the platform file", e.id)
		}
		text = strings.Replace(text, at, "    api_clients:\n      - certificate: {subject_cn: app."+e.id+"}\n"+at, 1)
	}
	if err := os.WriteFile(p.file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM := p.ca.issue(t, "versement", true)
	for name, b := range map[string][]byte{"ca.pem": p.ca.pem, "server.pem": certPEM, "server-key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(p.dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	ln.Close()
	return p
}

// serve starts `versement serve --api` on the platform in a process of its own, and waits until
// it listens.
func (p *apiPlatform) serve(t *testing.T, args ...string) *workerProc {
	t.Helper()
	env := []string{"VERSEMENT_API_CLIENT_CA_FILE=" + filepath.Join(p.dir, "ca.pem")}
	srv := startWorker(t, env, append([]string{"serve", "--api", "--platform", p.file, "--addr", p.addr,
		"--cert", filepath.Join(p.dir, "server.pem"), "--key", filepath.Join(p.dir, "server-key.pem")}, args...)...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			conn.Close()
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve does not listen on %s:\n%s", p.addr, srv.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The platform's deposit path from end to end, through the commands: `versement serve --api`
// on three establishments, their applications authenticated by client certificates, and a
// `versement worker --platform` on the same SQLite queue. univ-a's application deposits dossiers
// (units, and their photos in chunks); the worker builds and sends the SIPs as a run does: at
// univ-a's own target, naming univ-a's agencies and contract only, in univ-a's ledger, which
// verifies. univ-b's application gets 403 on univ-a's transaction, and univ-a's on univ-b's.
func TestServeAPIDepositThroughTheQueue(t *testing.T) {
	p := newAPIPlatform(t)
	// univ-c's deposits folder cannot be made (a file is in its way): its API fails, the
	// others' goes on.
	if err := os.MkdirAll(filepath.Join(p.root, "state", "univ-c"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.root, "state", "univ-c", "deposits"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	queue := "sqlite:" + filepath.Join(p.dir, "queue.db")
	srv := p.serve(t, "--queue", queue)
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	workerAddr := wl.Addr().String()
	wl.Close()
	startWorker(t, nil, "worker", "--platform", p.file, "--queue", queue, "--listen", workerAddr, "--state-dir", filepath.Join(p.root, "state"))
	root, pfile, ca, addr := p.root, p.file, p.ca, p.addr

	a := newAPIClient(t, ca, "app.univ-a", addr)
	b := newAPIClient(t, ca, "app.univ-b", addr)
	c := newAPIClient(t, ca, "app.univ-c", addr)
	if code, body := c.do("POST", "/establishments/univ-c/transactions", []byte(`{"profile":"apogee","class":"etudiant"}`), map[string]string{"Content-Type": "application/json"}); code != http.StatusInternalServerError ||
		strings.Contains(string(body), "deposits") {
		t.Fatalf("univ-c, whose deposits folder is broken: %d %s (want 500, the cause in the log only)", code, body)
	}
	if !strings.Contains(srv.out.String(), "deposits unavailable") {
		t.Errorf("serve does not log why univ-c's deposits are unavailable:\n%s", srv.out)
	}
	const est = "/establishments/univ-a"
	code, body := a.do("POST", est+"/transactions", []byte(`{"profile":"apogee","class":"etudiant","reference":"scol-2026-0001"}`), map[string]string{"Content-Type": "application/json"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var tx deposit.Transaction
	if err := json.Unmarshal(body, &tx); err != nil {
		t.Fatal(err)
	}
	units, objects := depositDocuments(t, filepath.Join(root, "univ-a.db"), 12)
	if len(objects) == 0 {
		t.Fatal("the demo dossiers have no photo: the upload is not exercised")
	}
	if code, body := a.do("POST", est+"/transactions/"+tx.ID+"/units", units, map[string]string{"Content-Type": "application/x-ndjson"}); code != http.StatusOK {
		t.Fatalf("units: %d %s", code, body)
	}
	for name, data := range objects {
		// Two chunks, the way a client resumes: the second from the offset the server gives.
		half := len(data) / 2
		put := func(from, to int) (int, []byte) {
			return a.do("PUT", est+"/transactions/"+tx.ID+"/objects/"+name, data[from:to], map[string]string{
				"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("bytes %d-%d/%d", from, to-1, len(data)),
				"Content-Digest": sha256Field(data[from:to]), "Repr-Digest": sha256Field(data)})
		}
		if code, body := put(0, half); code != http.StatusOK {
			t.Fatalf("object %s, first chunk: %d %s", name, code, body)
		}
		var o deposit.Object
		code, body := a.do("GET", est+"/transactions/"+tx.ID+"/objects/"+name, nil, nil)
		if err := json.Unmarshal(body, &o); err != nil || code != http.StatusOK || o.Received != int64(half) {
			t.Fatalf("object %s status: %d %s", name, code, body)
		}
		if code, body := put(int(o.Received), len(data)); code != http.StatusOK {
			t.Fatalf("object %s, second chunk: %d %s", name, code, body)
		}
	}
	// Another establishment's application sees nothing of univ-a's, and deposits nothing there.
	if code, _ := b.do("GET", est+"/transactions/"+tx.ID, nil, nil); code != http.StatusForbidden {
		t.Fatalf("univ-b's application reads univ-a's transaction: %d", code)
	}
	if code, _ := a.do("POST", "/establishments/univ-b/transactions", []byte(`{"profile":"harpege","class":"agent"}`), map[string]string{"Content-Type": "application/json"}); code != http.StatusForbidden {
		t.Fatalf("univ-a's application opens a transaction of univ-b: %d", code)
	}
	if code, body := a.do("POST", est+"/transactions/"+tx.ID+"/close", nil, nil); code != http.StatusAccepted {
		t.Fatalf("close: %d %s", code, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for tx.State != deposit.StateDone {
		if tx.State == deposit.StateFailed || time.Now().After(deadline) {
			t.Fatalf("transaction %s: %s %+v\nserve:\n%s", tx.ID, tx.State, tx.Error, srv.out)
		}
		time.Sleep(200 * time.Millisecond)
		code, body := a.do("GET", est+"/transactions/"+tx.ID, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("status: %d %s", code, body)
		}
		tx = deposit.Transaction{}
		if err := json.Unmarshal(body, &tx); err != nil {
			t.Fatal(err)
		}
	}
	var decided int64
	for _, n := range tx.Tiers {
		decided += n
	}
	if decided != 12 {
		t.Errorf("tiers of the 12 deposited dossiers: %v", tx.Tiers)
	}
	if len(tx.SIPs) == 0 {
		t.Fatalf("no SIP: tiers %v", tx.Tiers)
	}
	pf, err := platform.Load(pfile)
	if err != nil {
		t.Fatal(err)
	}
	ua, _ := pf.Establishment("univ-a")
	for _, s := range tx.SIPs {
		var path string
		for _, tier := range []string{"intermediate", "final"} {
			if p := filepath.Join(root, "archives", "univ-a", tier, s.Name); fileExists(p) {
				path = p
			}
		}
		if path == "" {
			t.Fatalf("SIP %s is not at univ-a's targets", s.Name)
		}
		checkSIPNamesOnly(t, path, testEstablishments[0])
	}
	for _, tier := range []string{"intermediate", "final"} {
		tg, err := targets.Open(context.Background(), ua.Targets[tier], targets.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ledger.Verify(context.Background(), ua.Ledger, tg)
		tg.Close()
		if err != nil || !rep.OK() {
			t.Fatalf("univ-a's ledger against its %s target: %v %+v", tier, err, rep.Problems)
		}
	}
	// The worker counts the job for its establishment, where ops graph a platform's queue.
	resp, err := http.Get("http://" + workerAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `versement_queue_jobs_total{establishment="univ-a",kind="deposit",outcome="done"} 1`; !strings.Contains(string(mb), want) {
		t.Errorf("the worker's /metrics lacks %s:\n%s", want, grepLines(string(mb), "versement_queue"))
	}
	// Every call that changed the transaction is in univ-a's deposits journal, which verify
	// checks as it checks a ledger; a journal edited afterwards does not hold.
	journal := filepath.Join(ua.State, "deposits", deposit.JournalFile)
	out, code := run(t, "verify", "--ledger", journal)
	if code != 0 || !strings.Contains(out, "deposits journal "+journal+": ") || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("verify --ledger of the journal: exit %d\n%s", code, out)
	}
	var events []string
	if _, err := deposit.VerifyJournal(context.Background(), filepath.Dir(journal), func(e deposit.Event) {
		if e.Tx == tx.ID {
			events = append(events, e.Event)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if want := 2 + len(objects) + 2; len(events) != want || events[0] != deposit.EventCreate || events[len(events)-1] != deposit.EventProcessed {
		t.Errorf("journal events of the transaction: %v, want create, units, %d objects, close, processed", events, len(objects))
	}
	jb, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(edited, bytes.Replace(jb, []byte(`"by":"cert:app.univ-a"`), []byte(`"by":"cert:app.univ-b"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, "verify", "--ledger", edited); code != exitFindings || !strings.Contains(out, "BROKEN") {
		t.Errorf("an edited journal: exit %d\n%s", code, out)
	}
	// Nothing of the deposit went to another establishment.
	for _, e := range testEstablishments[1:] {
		if m, _ := filepath.Glob(filepath.Join(root, "archives", e.id, "*", "*.zip")); len(m) > 0 {
			t.Errorf("%s received %v", e.id, m)
		}
	}
}

// chunkBytes is chunk i of a test object: bytes a seeded generator makes, so that a test holds
// one chunk at a time whatever the object's size.
func chunkBytes(seed uint64, i, size int) []byte {
	b := make([]byte, size)
	var key [32]byte
	key[0], key[1] = byte(seed), byte(i)
	rand.NewChaCha8(key).Read(b)
	return b
}

// The issue's resumable upload, through the commands: an object uploaded to `serve --api` in
// 64 MiB chunks, the server SIGKILLed mid-way and started again, is resumed from the offset the
// new server gives and completes with the client's whole digest; an object whose whole digest
// is wrong is refused with 422 at its last chunk, and nothing of it is kept. The size is
// VERSEMENT_TEST_UPLOAD_MIB (default 256; the issue's 2 GiB is 2048).
func TestServeAPIUploadResumesAcrossAServerKill(t *testing.T) {
	mib := 256
	if v := os.Getenv("VERSEMENT_TEST_UPLOAD_MIB"); v != "" {
		if _, err := fmt.Sscan(v, &mib); err != nil || mib < 128 || mib%64 != 0 {
			t.Fatalf("VERSEMENT_TEST_UPLOAD_MIB=%q: want a multiple of 64, at least 128", v)
		}
	}
	const chunk = 64 << 20
	n := mib << 20 / chunk
	whole := sha256.New()
	for i := 0; i < n; i++ {
		whole.Write(chunkBytes(1, i, chunk))
	}
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(whole.Sum(nil)) + ":"

	p := newAPIPlatform(t)
	srv := p.serve(t)
	a := newAPIClient(t, p.ca, "app.univ-a", p.addr)
	a.http.Timeout = 5 * time.Minute
	const est = "/establishments/univ-a"
	code, body := a.do("POST", est+"/transactions", []byte(`{"profile":"apogee","class":"etudiant"}`), map[string]string{"Content-Type": "application/json"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var tx deposit.Transaction
	if err := json.Unmarshal(body, &tx); err != nil {
		t.Fatal(err)
	}
	put := func(name string, i int, whole string) (int, []byte) {
		b := chunkBytes(1, i, chunk)
		return a.do("PUT", est+"/transactions/"+tx.ID+"/objects/"+name, b, map[string]string{
			"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("bytes %d-%d/%d", i*chunk, (i+1)*chunk-1, n*chunk),
			"Content-Digest": sha256Field(b), "Repr-Digest": whole})
	}
	for i := 0; i < n/2; i++ {
		if code, body := put("scan.tif", i, digest); code != http.StatusOK {
			t.Fatalf("chunk %d: %d %s", i, code, body)
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	a.http.CloseIdleConnections()
	p.serve(t)

	var o deposit.Object
	code, body = a.do("GET", est+"/transactions/"+tx.ID+"/objects/scan.tif", nil, nil)
	if err := json.Unmarshal(body, &o); err != nil || code != http.StatusOK {
		t.Fatalf("status after the restart: %d %s", code, body)
	}
	if o.Received != int64(n/2*chunk) || o.Complete {
		t.Fatalf("after the restart the server has %d bytes (complete %v), want %d", o.Received, o.Complete, n/2*chunk)
	}
	for i := int(o.Received / chunk); i < n; i++ {
		code, body = put("scan.tif", i, digest)
		if code != http.StatusOK {
			t.Fatalf("chunk %d after the restart: %d %s", i, code, body)
		}
	}
	if err := json.Unmarshal(body, &o); err != nil || !o.Complete || o.Received != int64(n*chunk) || "sha-256=:"+b64OfHex(t, o.SHA256)+":" != digest {
		t.Fatalf("last chunk: %s", body)
	}

	// A wrong whole digest: refused at the last chunk, and nothing of the object is kept.
	wrong := "sha-256=:" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ":"
	for i := 0; i < n; i++ {
		code, body = put("wrong.tif", i, wrong)
		if i < n-1 && code != http.StatusOK {
			t.Fatalf("wrong.tif chunk %d: %d %s", i, code, body)
		}
	}
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "SHA-256") {
		t.Fatalf("a wrong whole digest: %d %s", code, body)
	}
	code, body = a.do("GET", est+"/transactions/"+tx.ID+"/objects/wrong.tif", nil, nil)
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &o); err != nil || o.Received != 0 {
			t.Fatalf("after a wrong digest the server keeps: %s", body)
		}
	} else if code != http.StatusNotFound {
		t.Fatalf("status of the refused object: %d %s", code, body)
	}
	var kept int64
	filepath.Walk(filepath.Join(p.root, "state", "univ-a", "deposits"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(path, "wrong") {
			kept += fi.Size()
		}
		return nil
	})
	if kept > 4096 {
		t.Fatalf("%d bytes of the refused object are still on disk", kept)
	}
}

func b64OfHex(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("digest %q: %v", h, err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// serve --api with no way for an application to authenticate refuses to start, saying what to
// set, and creates nothing in the establishments' state.
func TestServeAPIRefusesWithoutAuthentication(t *testing.T) {
	p := newAPIPlatform(t)
	t.Setenv("VERSEMENT_API_ISSUER", "")
	t.Setenv("VERSEMENT_API_CLIENT_CA_FILE", "")
	out, code := run(t, "serve", "--api", "--platform", p.file, "--addr", p.addr)
	want := "serve: --api: no way for an application to authenticate: set VERSEMENT_API_ISSUER and VERSEMENT_API_AUDIENCE (OAuth2 client-credentials tokens), or VERSEMENT_API_CLIENT_CA_FILE (client certificates, with --cert and --key)"
	if code != exitError || !strings.Contains(out, want) {
		t.Fatalf("exit %d:\n%s\nwant %s", code, out, want)
	}
	if _, err := os.Stat(filepath.Join(p.root, "state", "univ-a", "deposits")); !os.IsNotExist(err) {
		t.Errorf("a server that did not start made univ-a's deposits folder (%v)", err)
	}
	if out, code := run(t, "serve", "--api", "--addr", p.addr); code != exitError || !strings.Contains(out, "--api needs --platform") {
		t.Errorf("--api without --platform: exit %d\n%s", code, out)
	}
}
