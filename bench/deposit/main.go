// Command deposit is a depositing application for benchmarks: it reads the etudiant dossiers of a
// demo Apogée base and deposits them through versement's deposit API (docs/api.md), N dossiers a
// transaction, P transactions in flight, each one opened, filled with its units (NDJSON) and
// objects (one PUT each), closed and polled until done. It prints one line of key=value: dossiers,
// bytes sent, wall time, dossiers/s, and the time spent in each phase (summed over transactions).
//
//	deposit --source apogee.db --api https://127.0.0.1:8443/api/v1 --establishment bench \
//	  --cert app.pem --key app-key.pem --ca ca.pem [--per-tx 1000] [--parallel 2]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
)

// batch is one transaction's worth of dossiers: their documents, one a line, and their objects.
type batch struct {
	units    []byte
	dossiers int
	objects  []object
}

type object struct {
	name string
	data []byte
}

// phases sums the time spent in each step over all transactions (nanoseconds).
type phases struct {
	create, units, objects, close, wait atomic.Int64
}

type client struct {
	http    *http.Client
	base    string // …/api/v1/establishments/ID
	poll    time.Duration
	objPar  int
	sent    atomic.Int64
	phases  phases
	verbose bool
}

func main() {
	source := flag.String("source", "", "demo SQLite base (versement demo-db --profile apogee)")
	api := flag.String("api", "", "the API's base URL, https://HOST:PORT/api/v1")
	est := flag.String("establishment", "", "establishment id")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	caFile := flag.String("ca", "", "CA of the server's certificate (PEM)")
	perTx := flag.Int("per-tx", 1000, "dossiers per transaction")
	parallel := flag.Int("parallel", 2, "transactions in flight")
	objPar := flag.Int("object-parallel", 1, "object PUTs in flight per transaction (the server takes one at a time per transaction: more contend for its lock)")
	poll := flag.Duration("poll", 100*time.Millisecond, "status polling interval after close (the server's Retry-After says 5 s; a benchmark polls faster)")
	verbose := flag.Bool("v", false, "log each transaction's phases to stderr")
	flag.Parse()
	if *source == "" || *api == "" || *est == "" || *certFile == "" || *keyFile == "" || *caFile == "" {
		fmt.Fprintln(os.Stderr, "deposit: --source, --api, --establishment, --cert, --key and --ca are required")
		os.Exit(2)
	}
	if *perTx < 1 || *parallel < 1 || *objPar < 1 {
		fmt.Fprintln(os.Stderr, "deposit: --per-tx, --parallel and --object-parallel must be at least 1")
		os.Exit(2)
	}
	hc, err := httpClient(*certFile, *keyFile, *caFile, *parallel**objPar+*parallel)
	if err != nil {
		fail(err)
	}
	c := &client{http: hc, base: *api + "/establishments/" + url.PathEscape(*est), poll: *poll, objPar: *objPar, verbose: *verbose}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	start := time.Now()
	batches := make(chan batch, 1)
	var readErr error
	var dossiers int
	go func() {
		defer close(batches)
		dossiers, readErr = read(ctx, *source, *perTx, batches)
	}()
	var wg sync.WaitGroup
	var once sync.Once
	var depErr error
	for range *parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := c.deposit(ctx, b); err != nil {
					once.Do(func() { depErr = err; cancel() })
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if depErr != nil {
		fail(depErr)
	}
	if readErr != nil {
		fail(readErr)
	}
	s := func(d *atomic.Int64) string { return fmt.Sprintf("%.2f", time.Duration(d.Load()).Seconds()) }
	fmt.Printf("dossiers=%d bytes=%d wall_s=%.2f dossiers_per_s=%.0f per_tx=%d parallel=%d create_s=%s units_s=%s objects_s=%s close_s=%s wait_s=%s\n",
		dossiers, c.sent.Load(), wall.Seconds(), float64(dossiers)/wall.Seconds(), *perTx, *parallel,
		s(&c.phases.create), s(&c.phases.units), s(&c.phases.objects), s(&c.phases.close), s(&c.phases.wait))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "deposit:", err)
	os.Exit(1)
}

func httpClient(certFile, keyFile, caFile string, conns int) (*http.Client, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: conns,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}, nil
}

// read extracts the dossiers of class etudiant, perTx a batch, naming each LOB
// KEY-TABLE.COLUMN.ROW (unique within a transaction), and reads the LOBs' bytes.
func read(ctx context.Context, source string, perTx int, out chan<- batch) (int, error) {
	p, err := profiles.Builtin("apogee")
	if err != nil {
		return 0, err
	}
	src, err := extract.Open(ctx, "sqlite:"+source)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var (
		b     batch
		doc   bytes.Buffer
		units bytes.Buffer
		n     int
	)
	flush := func() bool {
		if b.dossiers == 0 {
			return true
		}
		b.units = bytes.Clone(units.Bytes())
		units.Reset()
		select {
		case out <- b:
		case <-ctx.Done():
			return false
		}
		b = batch{}
		return true
	}
	for d, err := range src.Dossiers(ctx, p.Class("etudiant").ExtractSpec()) {
		if err != nil {
			return n, err
		}
		key := fmt.Sprint(d.Key)
		name := func(r extract.LOBRef) string {
			return fmt.Sprintf("%s-%s.%s.%d", key, r.Table, r.Column, r.Row+1)
		}
		for r := range d.LOBs() {
			rc, err := r.LOB.Open(ctx)
			if err != nil {
				return n, err
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return n, err
			}
			b.objects = append(b.objects, object{name: name(r), data: data})
		}
		doc.Reset()
		if err := d.WriteJSON(&doc, name); err != nil {
			return n, err
		}
		// The document's own newlines lie between tokens (JSON strings hold none raw): without
		// them it is one NDJSON line.
		units.Write(bytes.ReplaceAll(bytes.TrimSpace(doc.Bytes()), []byte("\n"), nil))
		units.WriteByte('\n')
		b.dossiers++
		n++
		if b.dossiers == perTx && !flush() {
			return n, ctx.Err()
		}
	}
	if !flush() {
		return n, ctx.Err()
	}
	return n, nil
}

// deposit runs one transaction from opening to done.
func (c *client) deposit(ctx context.Context, b batch) error {
	t0 := time.Now()
	var tx deposit.Transaction
	if err := c.call(ctx, "POST", "/transactions", []byte(`{"profile":"apogee","class":"etudiant"}`),
		map[string]string{"Content-Type": "application/json"}, http.StatusCreated, &tx); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	t1 := time.Now()
	c.phases.create.Add(int64(t1.Sub(t0)))
	path := "/transactions/" + url.PathEscape(tx.ID)
	if err := c.call(ctx, "POST", path+"/units", b.units, map[string]string{"Content-Type": "application/x-ndjson"}, http.StatusOK, nil); err != nil {
		return fmt.Errorf("transaction %s: units: %w", tx.ID, err)
	}
	t2 := time.Now()
	c.phases.units.Add(int64(t2.Sub(t1)))
	if err := c.putObjects(ctx, path, b.objects); err != nil {
		return fmt.Errorf("transaction %s: %w", tx.ID, err)
	}
	t3 := time.Now()
	c.phases.objects.Add(int64(t3.Sub(t2)))
	if err := c.call(ctx, "POST", path+"/close", nil, nil, http.StatusAccepted, &tx); err != nil {
		return fmt.Errorf("transaction %s: close: %w", tx.ID, err)
	}
	t4 := time.Now()
	c.phases.close.Add(int64(t4.Sub(t3)))
	for tx.State != deposit.StateDone {
		if tx.State == deposit.StateFailed {
			e, _ := json.Marshal(tx.Error)
			return fmt.Errorf("transaction %s failed: %s", tx.ID, e)
		}
		select {
		case <-time.After(c.poll):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := c.call(ctx, "GET", path, nil, nil, http.StatusOK, &tx); err != nil {
			return fmt.Errorf("transaction %s: status: %w", tx.ID, err)
		}
	}
	t5 := time.Now()
	c.phases.wait.Add(int64(t5.Sub(t4)))
	if c.verbose {
		fmt.Fprintf(os.Stderr, "tx %s: %d dossiers, %d objects, %d SIPs: create %v units %v objects %v close %v wait %v\n",
			tx.ID, b.dossiers, len(b.objects), len(tx.SIPs), t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond),
			t3.Sub(t2).Round(time.Millisecond), t4.Sub(t3).Round(time.Millisecond), t5.Sub(t4).Round(time.Millisecond))
	}
	return nil
}

// putObjects uploads each object in one chunk, objPar at a time.
func (c *client) putObjects(ctx context.Context, path string, objects []object) error {
	work := make(chan object)
	errs := make(chan error, c.objPar)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range c.objPar {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := c.put(ctx, path, o); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, o := range objects {
		select {
		case work <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when there was none
}

func (c *client) put(ctx context.Context, path string, o object) error {
	sum := sha256.Sum256(o.data)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	rng := fmt.Sprintf("bytes 0-%d/%d", len(o.data)-1, len(o.data))
	if len(o.data) == 0 {
		rng = "bytes */0"
	}
	h := map[string]string{
		"Content-Type":   "application/octet-stream",
		"Content-Range":  rng,
		"Content-Digest": digest, // one chunk: the chunk is the whole object
		"Repr-Digest":    digest,
	}
	if err := c.call(ctx, "PUT", path+"/objects/"+url.PathEscape(o.name), o.data, h, http.StatusOK, nil); err != nil {
		return fmt.Errorf("object %s: %w", o.name, err)
	}
	return nil
}

// call makes one request and decodes the answer into v (when not nil); another status than want
// is an error carrying the problem document.
func (c *client) call(ctx context.Context, method, path string, body []byte, header map[string]string, want int, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body)) // explicit, also for an empty PUT (411 without)
	for k, val := range header {
		req.Header.Set(k, val)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.sent.Add(int64(len(body)))
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(rb))
	}
	if v != nil {
		if err := json.Unmarshal(rb, v); err != nil {
			return errors.Join(fmt.Errorf("%s %s: answer", method, path), err)
		}
	}
	return nil
}
