package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/urfave/cli/v2"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/platform"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/targets"
)

const workerArgsEnv = "VERSEMENT_WORKER_ARGS"

// TestWorkerHelperProcess is `versement worker` (or any command) in a process of its own, so
// that a test can SIGKILL it: the real binary's code, the real pipeline runner.
func TestWorkerHelperProcess(t *testing.T) {
	a := os.Getenv(workerArgsEnv)
	if a == "" {
		t.Skip("helper process for the worker tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(a), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"versement", "--log-format", "text"}, args...)
	main() // exits
}

type workerProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func startWorker(t *testing.T, env []string, args ...string) *workerProc {
	t.Helper()
	a, _ := json.Marshal(args)
	p := &workerProc{out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestWorkerHelperProcess$")
	p.cmd.Env = append(append(os.Environ(), env...), workerArgsEnv+"="+string(a))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker pid %d output:\n%s", p.cmd.Process.Pid, p.out)
		}
	})
	return p
}

// holdingProxy forwards to the S3 server, except the nth PUT of a SIP (a .zip), which it holds
// without forwarding until the client goes away: a send in flight, for as long as the test needs.
type holdingProxy struct {
	rp     *httputil.ReverseProxy
	n      int32
	puts   atomic.Int32
	held   chan struct{}
	once   sync.Once
	holdOK atomic.Bool // holding is on until the first hold is over
}

func (h *holdingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".zip") && h.holdOK.Load() && h.puts.Add(1) == h.n {
		h.once.Do(func() { close(h.held) })
		_, _ = io.Copy(io.Discard, r.Body) // the client sends its whole SIP, and waits for an answer
		<-r.Context().Done()
		h.holdOK.Store(false)
		return
	}
	h.rp.ServeHTTP(w, r)
}

// The proof: two worker processes on one PostgreSQL queue and one S3 server (versitygw),
// sharing their state folder. The worker that holds the nightly run is SIGKILLed while it sends a
// SIP; the other takes the job over (river's rescue), and the run completes: every SIP is at the
// target once, with the bytes an uninterrupted run makes, and the ledger verifies against the bucket.
func TestWorkersTakeOverAJobWhoseWorkerWasKilledMidSend(t *testing.T) {
	pg := testsvc.PostgresDB(t)
	s := testsvc.StartS3(t, testsvc.S3Options{})
	ctx := context.Background()
	dir := t.TempDir()
	awsEnv := map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey, "AWS_REGION": "us-east-1",
		"AWS_CA_BUNDLE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}
	for k, v := range awsEnv {
		t.Setenv(k, v)
	}
	direct := "s3://depot/univ-a?endpoint=" + s.Endpoint + "&path-style=true"
	tg, err := ts3.Open(ctx, direct, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("depot")}); err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(s.Endpoint)
	proxy := &holdingProxy{rp: httputil.NewSingleHostReverseProxy(up), n: 2, held: make(chan struct{})}
	proxy.holdOK.Store(true)
	psrv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = psrv.Serve(ln) }()
	defer psrv.Close()
	// The workers send through the proxy; the SIGV4 signature covers the Host they address.
	target := "s3://depot/univ-a?endpoint=http://" + ln.Addr().String() + "&path-style=true"

	db := filepath.Join(dir, "apogee.db")
	if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: "apogee", Dossiers: 1500, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	jobsFile := filepath.Join(dir, "jobs.yaml")
	writeWorkerJobs(t, jobsFile, target)
	if err := os.WriteFile(filepath.Join(dir, "queue-dsn"), []byte(pg+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"VERSEMENT_TEST_WORKER_SOURCE=sqlite:" + db}
	t.Setenv("VERSEMENT_TEST_WORKER_SOURCE", "sqlite:"+db)
	state := filepath.Join(dir, "state")
	queue := []string{"--queue", "postgres", "--queue-dsn-file", filepath.Join(dir, "queue-dsn"), "--jobs", jobsFile, "--state-dir", state}

	// Migrate, and enqueue tonight's run as the leader's periodic job would.
	if out, code := run(t, append([]string{"worker", "--migrate"}, queue...)...); code != 0 {
		t.Fatalf("worker --migrate: exit %d\n%s", code, out)
	}
	if out, code := run(t, append([]string{"worker", "--failed"}, queue...)...); code != 0 || !strings.Contains(out, "no failed jobs") {
		t.Fatalf("worker --failed: exit %d\n%s", code, out)
	}
	if out, code := run(t, append([]string{"worker", "--enqueue", "apogee"}, queue...)...); code != 0 {
		t.Fatalf("worker --enqueue: exit %d\n%s", code, out)
	}
	// The job may not run longer than 25 s (the run takes one or two), so that a job running for
	// 26 s is dead: rescued at the leader's next pass (river's rescuer runs every 30 s).
	opts := append([]string{"worker", "--listen", "", "--workers", "1", "--job-timeout", "25s", "--rescue-after", "26s"}, queue...)
	w := map[int]*workerProc{}
	for range 2 {
		p := startWorker(t, env, opts...)
		w[p.cmd.Process.Pid] = p
	}

	select {
	case <-proxy.held:
	case <-time.After(2 * time.Minute):
		t.Fatal("no worker sent a second SIP within 2 minutes")
	}
	// The worker running the job holds its lock, which names it.
	b, err := os.ReadFile(filepath.Join(state, "apogee.lock"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	victim := w[pid]
	if victim == nil {
		t.Fatalf("the job's lock is held by pid %q, not one of the workers", b)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	killedAt := time.Now()
	if n := strings.Count(victim.out.String(), `msg="SIP sent"`); n != 1 {
		t.Fatalf("the killed worker had sent %d SIPs, want 1 (the second held in flight)", n)
	}
	delete(w, pid)
	var other *workerProc
	for _, p := range w {
		other = p
	}
	waitFor(t, 3*time.Minute, "the other worker to complete the rescued job", func() bool {
		return strings.Contains(other.out.String(), "msg=\"job done\"")
	})
	t.Logf("job completed by the other worker %v after the SIGKILL", time.Since(killedAt).Round(time.Second))
	if out := other.out.String(); !strings.Contains(out, "attempt=2") {
		t.Errorf("the other worker did not run the job as its second attempt:\n%s", out)
	}

	// Every SIP is in the bucket once, and as an uninterrupted run makes it.
	got := bucketSIPs(t, ctx, tg)
	ref := filepath.Join(dir, "ref")
	if out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", "dir://"+ref, "--state", filepath.Join(dir, "ref-state"),
		"--as-of", "2026-11-30", "--batch-dossiers", "40"); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	want := dirSIPs(t, ref)
	if len(want) < 5 {
		t.Fatalf("the reference run made %d SIPs: the test proves little", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the bucket after the kill and the rescue:\n%s\nan uninterrupted run:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ledgers, _ := filepath.Glob(filepath.Join(state, "jobs", "apogee", "ledger.jsonl"))
	if len(ledgers) != 1 {
		t.Fatalf("ledger: %v", ledgers)
	}
	// The ledger names the target as the workers addressed it: the proxy, forwarding everything now.
	via, err := ts3.Open(ctx, target, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer via.Close()
	rep, err := ledger.Verify(ctx, ledgers[0], via)
	if err != nil || !rep.OK() || rep.Checked != len(want) || rep.Extra != 0 {
		t.Errorf("ledger against the bucket: %+v, %v (want %d SIPs checked)", rep, err, len(want))
	}
	if out, code := run(t, append([]string{"worker", "--failed"}, queue...)...); code != 0 {
		t.Errorf("worker --failed after the rescue: exit %d\n%s", code, out)
	}

	// SIGTERM: the surviving worker stops gracefully, exit 0.
	if err := other.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-other.done:
		if err != nil {
			t.Errorf("worker after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Error("the worker did not stop within a minute of SIGTERM")
	}
	if !strings.Contains(other.out.String(), "worker stopped") {
		t.Errorf("no graceful stop in the log:\n%s", other.out)
	}
}

// The embedded default, through the command: a SQLite queue in the state folder, a run enqueued
// and worked by a worker process with the real pipeline, then a graceful stop at SIGTERM.
func TestWorkerSQLiteRunThenSIGTERM(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: "apogee", Dossiers: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_WORKER_SOURCE", "sqlite:"+db)
	jobsFile := filepath.Join(dir, "jobs.yaml")
	writeWorkerJobs(t, jobsFile, "dir://"+filepath.Join(dir, "archives"))
	state := filepath.Join(dir, "state")
	base := []string{"--jobs", jobsFile, "--state-dir", state}
	for range 2 { // enqueued twice: one run
		if out, code := run(t, append([]string{"worker", "--enqueue", "apogee"}, base...)...); code != 0 {
			t.Fatalf("worker --enqueue: exit %d\n%s", code, out)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "queue.db")); err != nil {
		t.Fatalf("the default queue: %v", err)
	}
	addr := freeAddr(t)
	p := startWorker(t, nil, append([]string{"worker", "--listen", addr}, base...)...)
	waitFor(t, time.Minute, "the run", func() bool { return strings.Contains(p.out.String(), `msg="job done"`) })
	for path, code := range map[string]int{"/livez": 200, "/readyz": 200} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != code {
			t.Errorf("GET %s: %v %v", path, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	if n := strings.Count(p.out.String(), `msg="job started"`); n != 1 {
		t.Errorf("%d jobs started for a run enqueued twice", n)
	}
	sips := dirSIPs(t, filepath.Join(dir, "archives"))
	if len(sips) < 3 {
		t.Errorf("the run archived %d SIPs", len(sips))
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("worker after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop within a minute of SIGTERM")
	}
	if out, code := run(t, append([]string{"worker", "--failed"}, base...)...); code != 0 || !strings.Contains(out, "no failed jobs") {
		t.Errorf("worker --failed: exit %d\n%s", code, out)
	}
}

// A platform's jobs through the worker: each establishment's runs use its state and ledger, and
// two jobs of one establishment, enqueued together for a worker with two slots, take turns (the
// second waits without using up its attempts) instead of fighting over the establishment's ledger.
func TestWorkerPlatformJobsOfOneEstablishmentTakeTurns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: "apogee", Dossiers: 400, Seed: 8}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_WORKER_SOURCE", "sqlite:"+db)
	pf := filepath.Join(dir, "platform.yaml")
	y := `state_root: state
timezone: Europe/Paris
establishments:
  - id: univ-a
    name: Université A
    seda: {originating_agency: UNIVA-SCOL, archival_agreement: IC-UNIVA-000001}
    profiles: [{profile: apogee}]
    targets: {intermediate: dir://./archives/univ-a/intermediate, final: dir://./archives/univ-a/final}
    jobs:
      - {name: apogee-nightly, cron: "30 2 * * *", profile: apogee, source: {env: VERSEMENT_TEST_WORKER_SOURCE}, as_of: "2026-11-30", batch: {max_dossiers: 40}}
      - {name: apogee-final, cron: "30 3 * * *", profile: apogee, source: {env: VERSEMENT_TEST_WORKER_SOURCE}, as_of: "2026-11-30", tiers: [final], batch: {max_dossiers: 40}}
`
	if err := os.WriteFile(pf, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := platform.LoadNightly(pf)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"--platform", pf, "--state-dir", filepath.Join(dir, "state")}
	for _, j := range cfg.Jobs {
		if out, code := run(t, append([]string{"worker", "--enqueue", j.Name}, base...)...); code != 0 {
			t.Fatalf("worker --enqueue %s: exit %d\n%s", j.Name, code, out)
		}
	}
	p := startWorker(t, nil, append([]string{"worker", "--listen", "", "--workers", "2", "--busy-retry", "300ms"}, base...)...)
	waitFor(t, 2*time.Minute, "both runs", func() bool { return strings.Count(p.out.String(), `msg="job done"`) == 2 })
	out := p.out.String()
	if !strings.Contains(out, `msg="job postponed: what it needs is busy"`) || !strings.Contains(out, "establishment=univ-a") {
		t.Errorf("the second job of univ-a did not wait for the first:\n%s", out)
	}
	// The runs followed one another: started, finished, started, finished.
	var seq []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(l, `msg="run started"`):
			seq = append(seq, "start")
		case strings.Contains(l, `msg="run finished"`):
			seq = append(seq, "end")
		}
	}
	if strings.Join(seq, ",") != "start,end,start,end" {
		t.Errorf("runs of one establishment overlapped: %v", seq)
	}
	if strings.Contains(out, "attempt=2") {
		t.Errorf("waiting used up an attempt:\n%s", out)
	}
	if sips := dirSIPs(t, filepath.Join(dir, "archives", "univ-a")); len(sips) < 3 {
		t.Errorf("univ-a's archives: %d SIPs", len(sips))
	}
	ledgers, _ := filepath.Glob(filepath.Join(dir, "state", "univ-a", "ledger.jsonl"))
	if len(ledgers) != 1 {
		t.Errorf("univ-a's ledger: %v", ledgers)
	}
}

// SIGTERM in the middle of a run: the worker gives it --stop-grace, then stops it at a safe point
// and exits 0; the job goes back to the queue, and the next worker finishes it: the archive ends as
// one uninterrupted run's, its ledger verifying against it.
func TestWorkerSIGTERMMidRunStopsAtASafePointAndResumes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if _, err := demo.CreateSQLite(ctx, db, demo.Options{Profile: "apogee", Dossiers: 4000, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_WORKER_SOURCE", "sqlite:"+db)
	archives := filepath.Join(dir, "archives")
	jobsFile := filepath.Join(dir, "jobs.yaml")
	writeWorkerJobs(t, jobsFile, "dir://"+archives)
	state := filepath.Join(dir, "state")
	base := []string{"--jobs", jobsFile, "--state-dir", state}
	if out, code := run(t, append([]string{"worker", "--enqueue", "apogee"}, base...)...); code != 0 {
		t.Fatalf("worker --enqueue: exit %d\n%s", code, out)
	}
	opts := append([]string{"worker", "--listen", "", "--stop-grace", "200ms"}, base...)
	p := startWorker(t, nil, opts...)
	waitFor(t, time.Minute, "the first SIPs", func() bool { return strings.Count(p.out.String(), `msg="SIP sent"`) >= 3 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("worker after SIGTERM: %v\n%s", err, p.out)
		}
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop within a minute of SIGTERM")
	}
	out := p.out.String()
	if !strings.Contains(out, "running jobs cancelled at a safe point") || strings.Contains(out, `msg="job done"`) {
		t.Fatalf("the run was not cut short by the stop (it proves nothing):\n%s", out)
	}
	cut := len(dirSIPs(t, archives))

	p2 := startWorker(t, nil, opts...)
	waitFor(t, 2*time.Minute, "the resumed run", func() bool { return strings.Contains(p2.out.String(), `msg="job done"`) })
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done
	got := dirSIPs(t, archives)

	ref := filepath.Join(dir, "ref")
	if out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", "dir://"+ref, "--state", filepath.Join(dir, "ref-state"),
		"--as-of", "2026-11-30", "--batch-dossiers", "40"); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	want := dirSIPs(t, ref)
	if cut >= len(want) {
		t.Fatalf("the stopped run had already archived everything (%d SIPs)", cut)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the stop and the resume, %d SIPs; an uninterrupted run makes %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	tg, err := targets.Open(ctx, "dir://"+archives, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	rep, err := ledger.Verify(ctx, filepath.Join(state, "jobs", "apogee", "ledger.jsonl"), tg)
	if err != nil || !rep.OK() || rep.Checked != len(want) {
		t.Errorf("ledger: %+v %v", rep, err)
	}
}

// A connection string is never taken from a flag, nor echoed in the refusal.
func TestWorkerRefusesADSNOnTheCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{"worker", "--queue", "postgres://versement:s3cr3t@db/platform"},
		{"worker", "--queue", "postgres"},
		{"worker", "--queue", "postgres", "--queue-dsn-env", "VERSEMENT_TEST_UNSET_DSN"},
		{"worker", "--queue", "sqlite:/tmp/q.db", "--queue-dsn-env", "X"},
		{"worker", "--queue", "redis:x"},
	} {
		out, code := run(t, args...)
		if code != exitError || strings.Contains(out, "s3cr3t") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

func writeWorkerJobs(t *testing.T, path, target string) {
	t.Helper()
	y := fmt.Sprintf(`timezone: Europe/Paris
jobs:
  - name: apogee
    cron: "30 3 * * *"
    profile: apogee
    source: {env: VERSEMENT_TEST_WORKER_SOURCE}
    as_of: "2026-11-30"
    batch: {max_dossiers: 40}
    targets:
      intermediate: %[1]q
      final: %[1]q
`, target)
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bucketSIPs lists the SIPs in the bucket as "name sha256", sorted.
func bucketSIPs(t *testing.T, ctx context.Context, tg *ts3.Target) []string {
	t.Helper()
	res, err := tg.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("depot"), Prefix: aws.String("univ-a/")})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range res.Contents {
		obj, err := tg.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("depot"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %x", strings.TrimPrefix(*o.Key, "univ-a/"), h.Sum(nil)))
	}
	sort.Strings(out)
	return out
}

// dirSIPs lists the SIPs of a dir:// target the same way.
func dirSIPs(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".zip") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, fmt.Sprintf("%s %x", filepath.ToSlash(rel), sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// k8sObject is what TestPlatformManifests reads of a manifest.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		AccessModes []string `yaml:"accessModes"`
		Template    struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	Containers                    []struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
		Env  []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		VolumeMounts   []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// The platform's manifests are what operators apply: every container runs a command and flags
// that exist with values they accept, every file its arguments and environment name is mounted
// (a secret's key, the ConfigMap's platform file), the platform file is valid, and the workers'
// probes and grace fit their flags.
func TestPlatformManifests(t *testing.T) {
	newApp() // the commands' flags as the app sets them up (global flags included)
	files, err := filepath.Glob("../../deploy/kubernetes/platform/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("manifests: %v %v", files, err)
	}
	objs := map[string]map[string]k8sObject{} // kind → name →
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseBytes(b, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range af.Docs {
			var o k8sObject
			if err := yaml.NodeToValue(d.Body, &o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: a document without kind or name", f)
			}
			if objs[o.Kind] == nil {
				objs[o.Kind] = map[string]k8sObject{}
			}
			objs[o.Kind][o.Metadata.Name] = o
		}
	}
	cm, ok := objs["ConfigMap"]["versement-platform"]
	if !ok {
		t.Fatal("no ConfigMap versement-platform")
	}
	pf, err := platform.Parse("/etc/versement/platform.yaml", []byte(cm.Data["platform.yaml"]))
	if err != nil {
		t.Fatalf("the ConfigMap's platform file: %v", err)
	}
	secret := objs["Secret"]["versement-platform"]
	for _, j := range pf.Nightly().Jobs {
		if key, ok := strings.CutPrefix(j.Source.File, "/run/secrets/versement/"); !ok || secret.StringData[key] == "" {
			t.Errorf("job %s reads its source from %q: not a key of the Secret versement-platform", j.Name, j.Source.File)
		}
	}
	if pvc := objs["PersistentVolumeClaim"]["versement-state"]; strings.Join(pvc.Spec.AccessModes, ",") != "ReadWriteMany" {
		t.Errorf("the state volume is %v: the workers on several nodes need ReadWriteMany", pvc.Spec.AccessModes)
	}
	for _, name := range []string{"versement-postgres", "versement-s3", "versement-serve"} {
		if _, ok := objs["Service"][name]; !ok {
			t.Errorf("no Service %s", name)
		}
	}

	pods := map[string]podSpec{}
	for _, kind := range []string{"Deployment", "Job"} {
		for name, o := range objs[kind] {
			pods[kind+"/"+name] = o.Spec.Template.Spec
		}
	}
	if _, ok := pods["Deployment/versement-worker"]; !ok {
		t.Fatal("no Deployment versement-worker")
	}
	if _, ok := pods["Deployment/versement-serve"]; !ok {
		t.Fatal("no Deployment versement-serve")
	}
	for where, p := range pods {
		for _, c := range p.Containers {
			set := checkManifestArgs(t, where, c.Args)
			// Every file an argument or the environment names is in a volume of the pod.
			var paths []string
			if set != nil {
				set.VisitAll(func(f *flag.Flag) {
					if v := f.Value.String(); strings.HasPrefix(v, "/") && (strings.HasSuffix(f.Name, "-file") || f.Name == "platform" || f.Name == "cert" || f.Name == "key") {
						paths = append(paths, v)
					}
				})
			}
			for _, e := range c.Env {
				if strings.HasSuffix(e.Name, "_FILE") {
					paths = append(paths, e.Value)
				}
			}
			for _, path := range paths {
				if !mounted(p, c.VolumeMounts, objs, path) {
					t.Errorf("%s: %s is not a file of the pod's volumes", where, path)
				}
			}
			if where != "Deployment/versement-worker" || set == nil {
				continue
			}
			grace, _ := time.ParseDuration(set.Lookup("stop-grace").Value.String())
			if time.Duration(p.TerminationGracePeriodSeconds)*time.Second < grace+time.Minute {
				t.Errorf("the workers' terminationGracePeriodSeconds %d leaves less than a minute after --stop-grace %v", p.TerminationGracePeriodSeconds, grace)
			}
			_, port, _ := strings.Cut(set.Lookup("listen").Value.String(), ":")
			for probe, want := range map[string]string{"readiness": "/readyz", "liveness": "/livez"} {
				pr := c.ReadinessProbe
				if probe == "liveness" {
					pr = c.LivenessProbe
				}
				if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != want {
					t.Errorf("the workers' %s probe: want GET %s", probe, want)
					continue
				}
				ok := false
				for _, cp := range c.Ports {
					ok = ok || (cp.Name == pr.HTTPGet.Port && strconv.Itoa(cp.ContainerPort) == port)
				}
				if !ok {
					t.Errorf("the workers' %s probe port %q is not --listen's port %s", probe, pr.HTTPGet.Port, port)
				}
			}
		}
	}
}

// checkManifestArgs parses a container's args as the command they name would, failing the test
// on an unknown command or flag or a value the flag refuses; it returns the parsed flags.
func checkManifestArgs(t *testing.T, where string, args []string) *flag.FlagSet {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no args: want a versement command", where)
		return nil
	}
	var cmd *cli.Command
	for _, c := range commands {
		if c.HasName(args[0]) {
			cmd = c
		}
	}
	if cmd == nil {
		t.Errorf("%s: %q is not a versement command", where, args[0])
		return nil
	}
	set := flag.NewFlagSet(args[0], flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range cmd.Flags {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse(args[1:]); err != nil {
		t.Errorf("%s: versement %s: %v", where, args[0], err)
		return nil
	}
	if set.NArg() > argsAccepted(cmd) && argsAccepted(cmd) >= 0 {
		t.Errorf("%s: versement %s takes no argument %q", where, args[0], set.Arg(0))
	}
	for _, a := range args {
		if strings.Contains(a, "://") && strings.Contains(a, "@") {
			t.Errorf("%s: %q looks like a connection string with credentials: give it by a file", where, a)
		}
	}
	return set
}

// mounted says whether path is a file the pod's volumes give the container: under a mount of a
// Secret (one of its keys, or of the items it projects), a ConfigMap (one of its keys) or a volume.
func mounted(p podSpec, mounts []struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}, objs map[string]map[string]k8sObject, path string) bool {
	for _, m := range mounts {
		rel, ok := strings.CutPrefix(path, m.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range p.Volumes {
			if v.Name != m.Name {
				continue
			}
			switch {
			case v.Secret != nil:
				s := objs["Secret"][v.Secret.SecretName]
				if len(v.Secret.Items) == 0 {
					_, ok := s.StringData[rel]
					return ok
				}
				for _, it := range v.Secret.Items {
					if it.Path == rel && s.StringData[it.Key] != "" {
						return true
					}
				}
			case v.ConfigMap != nil:
				_, ok := objs["ConfigMap"][v.ConfigMap.Name].Data[rel]
				return ok
			default:
				return true // a volume the workers write: any path
			}
		}
	}
	return false
}
