package eliminate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
)

// The steps of an execution, and which occurrence of each the child is killed at (the second
// SIP, where a step happens per SIP).
var crashStages = []struct {
	stage string
	n     int
}{
	{"planned", 1}, {"rewritten", 2}, {"sent", 2}, {"replaced", 2}, {"deleted", 3}, {"deletion-recorded", 1}, {"attested", 1},
}

// TestExecuteCrashResume kills an execution (SIGKILL, in a child process) at each of its steps,
// runs it again, and checks it ends as an uninterrupted one: the same SIPs at the target with
// the same dossiers, the same attestation, a ledger that verifies and records each old SIP's
// deletion once. On a folder, and on S3 (versitygw).
func TestExecuteCrashResume(t *testing.T) {
	targets := map[string]func(t *testing.T, name string) string{"dir": func(t *testing.T, _ string) string { return dirTarget(t) }}
	if !testing.Short() {
		targets["s3"] = s3Buckets(t, false)
	}
	for kind, newTarget := range targets {
		t.Run(kind, func(t *testing.T) {
			ref := archived(t, newTarget(t, "reference"), nil)
			if _, err := ref.execute(t, nil); err != nil {
				t.Fatal(err)
			}
			want, wantNames := readArchive(t, ref.target)
			wantAtt := ref.attestation(t, false)
			for _, c := range crashStages {
				t.Run(c.stage, func(t *testing.T) {
					f := archived(t, newTarget(t, "crash"+c.stage), nil)
					before, _ := readArchive(t, f.target)
					spec, _ := json.Marshal(f)
					cmd := exec.Command(os.Args[0], "-test.run=^TestExecuteCrashChild$", "-test.count=1")
					cmd.Env = append(os.Environ(), "VERSEMENT_TEST_CRASH="+c.stage+":"+strconv.Itoa(c.n), "VERSEMENT_TEST_CRASH_FIXTURE="+string(spec))
					out, err := cmd.CombinedOutput()
					if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
						t.Fatalf("the child was not killed at %s: %v\n%s", c.stage, err, out)
					}
					res, err := f.execute(t, nil)
					if err != nil {
						t.Fatalf("rerun after a crash at %s: %v", c.stage, err)
					}
					if res.NothingToDo {
						t.Fatalf("rerun after a crash at %s did nothing", c.stage)
					}
					got, gotNames := readArchive(t, f.target)
					if !slices.Equal(gotNames, wantNames) || len(got) != len(want) {
						t.Fatalf("after a crash at %s: SIPs %v, want %v", c.stage, gotNames, wantNames)
					}
					for k, objs := range want {
						if fmt.Sprint(got[k]) != fmt.Sprint(objs) {
							t.Errorf("dossier %s differs from the uninterrupted execution's", k)
						}
					}
					a := f.attestation(t, false)
					if a.ID != wantAtt.ID || a.Destroyed != wantAtt.Destroyed || a.Spared != wantAtt.Spared || a.InSource != wantAtt.InSource {
						t.Errorf("attestation %s %d/%d/%d, uninterrupted %s %d/%d/%d", a.ID, a.Destroyed, a.Spared, a.InSource, wantAtt.ID, wantAtt.Destroyed, wantAtt.Spared, wantAtt.InSource)
					}
					f.checkExecuted(t, before, a)
					deleted := map[string]int{}
					executions := 0
					ledger.Read(pipeline.DefaultLedger(f.state), func(e ledger.Entry) {
						if e.Status == ledger.StatusDeleted {
							deleted[e.SIP]++
						}
						if e.Kind == ledger.KindElimination {
							executions++
						}
					})
					for s, n := range deleted {
						if n != 1 {
							t.Errorf("SIP %s: %d deletions recorded", s, n)
						}
					}
					if executions != 1 {
						t.Errorf("%d executions recorded", executions)
					}
				})
			}
		})
	}
}

// s3Buckets starts versitygw and returns a maker of targets, one new bucket each (with Object
// Lock enabled when lock is set).
func s3Buckets(t *testing.T, lock bool) func(t *testing.T, name string) string {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey, "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	return func(t *testing.T, name string) string {
		bucket := strings.ToLower(strings.ReplaceAll(name, "-", ""))
		u := "s3://" + bucket + "/sips?endpoint=" + s.Endpoint + "&path-style=true"
		tg, err := ts3.Open(context.Background(), u, ts3.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if lock {
			in.ObjectLockEnabledForBucket = aws.Bool(true)
		}
		if _, err := tg.Client().CreateBucket(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		return u
	}
}

// MarshalJSON lets the crash test hand a fixture to its child.
func (f *fixture) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"dir": f.dir, "state": f.state, "target": f.target, "db": f.db, "proposal": f.proposal})
}

// TestExecuteCrashChild is the child process of TestExecuteCrashResume: it kills itself with
// SIGKILL the Nth time the execution reaches the given step.
func TestExecuteCrashChild(t *testing.T) {
	spec := os.Getenv("VERSEMENT_TEST_CRASH")
	if spec == "" {
		t.Skip("child process of TestExecuteCrashResume")
	}
	stage, nstr, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(nstr)
	seen := 0
	crashHook = func(s string) {
		if s == stage {
			if seen++; seen == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(os.Getenv("VERSEMENT_TEST_CRASH_FIXTURE")), &m); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(filepath.Join(m["dir"], "univ.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: m["dir"], state: m["state"], target: m["target"], db: m["db"], proposal: m["proposal"], profile: p}
	_, err = f.execute(t, nil)
	t.Fatalf("not killed at %s: %v", spec, err)
}

// On a bucket under S3 Object Lock (versitygw, COMPLIANCE), an old SIP whose retention runs is
// not deleted: the execution says until when, the ledger records it locked and still verifies
// against the bucket, and a rerun before the date changes nothing.
func TestExecuteOnS3UnderObjectLock(t *testing.T) {
	f := archived(t, s3Buckets(t, true)(t, "locked"), nil)
	// The archive's own retention on every SIP, until tomorrow: what a drop zone's default
	// retention, or a producer's, puts there.
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	tg, err := ts3.Open(context.Background(), f.target, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	err = tg.List(context.Background(), func(o transfer.Object) error {
		_, err := tg.Client().PutObjectRetention(context.Background(), &s3.PutObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String(tg.Key(o.Name)),
			Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until)}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := readArchive(t, f.target)
	res, err := f.execute(t, func(o *ExecuteOptions) { o.ObjectLock = "COMPLIANCE" })
	if err != nil {
		t.Fatal(err)
	}
	a := f.attestation(t, false)
	if res.Locked == 0 || a.SparedBy["locked"] == 0 {
		t.Fatalf("under Object Lock: %+v, spared by %v", res, a.SparedBy)
	}
	for _, s := range a.SIPs {
		if s.Deleted || s.LockedUntil != civil.Of(until) {
			t.Errorf("SIP %s: deleted %v, locked until %s, want %s", s.Old, s.Deleted, s.LockedUntil, civil.Of(until))
		}
	}
	if a.Destroyed != 0 {
		t.Errorf("%d dossiers destroyed while their SIPs are locked", a.Destroyed)
	}
	// Every dossier is still at the target, in its old SIP (and, rewritten, in the new one).
	after, _ := readArchiveOf(t, f.target, true)
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("dossier %s is gone while its SIP is locked", k)
		}
	}
	if rep, err := ledger.Verify(context.Background(), pipeline.DefaultLedger(f.state), tg); err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %v %+v", err, rep.Problems)
	}
	if again, err := f.execute(t, func(o *ExecuteOptions) { o.ObjectLock = "COMPLIANCE" }); err != nil || !again.NothingToDo {
		t.Fatalf("rerun under lock: %+v %v", again, err)
	}
	t.Logf("%d dossiers in %d SIPs kept by the lock until %s", a.SparedBy["locked"], res.Locked, civil.Of(until))
}
