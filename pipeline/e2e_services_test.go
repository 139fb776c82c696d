package pipeline

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
)

// TestEndToEndPostgreSQL is TestEndToEndSQLite on a real PostgreSQL server: counts against SQL in
// PostgreSQL's dialect, valid SIPs, each dossier once per tier, nothing new the second time.
func TestEndToEndPostgreSQL(t *testing.T) {
	ctx := context.Background()
	testsvc.Xmllint(t)
	dsn := testsvc.PostgresDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Generate(ctx, db, "postgres", demo.Options{Profile: demo.Apogee, Dossiers: 300, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSEMENT_TEST_PIPELINE_DSN", dsn)
	want := apogeeCountsOnPG(t, db, e2eAsOf)

	state, out := t.TempDir(), t.TempDir()
	rep := runJob(t, "env:VERSEMENT_TEST_PIPELINE_DSN", state, "dir://"+out)
	keys := checkSIPs(t, out)
	for _, tier := range []retention.Tier{retention.Intermediate, retention.Final} {
		if rep.Tiers[tier] != want[tier] || int64(len(keys[tier])) != want[tier] || want[tier] == 0 {
			t.Errorf("%s: run counts %d, the SIPs hold %d, SQL counts %d", tier, rep.Tiers[tier], len(keys[tier]), want[tier])
		}
	}
	if rep2 := runJob(t, "env:VERSEMENT_TEST_PIPELINE_DSN", state, "dir://"+out); len(rep2.SIPs) != 0 || rep2.Archived != 0 {
		t.Errorf("second run: %d SIPs, %d archived", len(rep2.SIPs), rep2.Archived)
	}
}

// TestEndToEndS3 sends the SIPs to a real S3 server (versitygw): every SIP is there with its
// checksum (ledger.Verify against the bucket), and the second run sends nothing.
func TestEndToEndS3(t *testing.T) {
	ctx := context.Background()
	tg, u := s3Bucket(t, "depot", false)
	state := t.TempDir()
	rep := runJob(t, "sqlite:"+demoDB(t), state, u)
	if len(rep.SIPs) < 4 {
		t.Fatalf("%d SIPs", len(rep.SIPs))
	}
	n := 0
	if err := tg.List(ctx, func(o transfer.Object) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != len(rep.SIPs) {
		t.Errorf("%d objects in the bucket, %d SIPs sent", n, len(rep.SIPs))
	}
	for _, sip := range rep.SIPs {
		if sip.Receipt.ETag == "" || sip.Receipt.SHA256 != sip.Digest {
			t.Errorf("receipt of %s: %+v", sip.Name, sip.Receipt)
		}
	}
	lr, err := ledger.Verify(ctx, DefaultLedger(state), tg)
	if err != nil || !lr.OK() {
		t.Fatalf("ledger verify against the bucket: %v %+v", err, lr)
	}
	if rep2 := runJob(t, "sqlite:"+demoDB(t), state, u); len(rep2.SIPs) != 0 {
		t.Errorf("second run sent %d SIPs", len(rep2.SIPs))
	}

	// A ledger entry lost after it was committed is recorded again from the state once the bucket
	// shows the SIP with the state's SHA-256; nothing is sent again.
	lost := tearLastEntry(t, DefaultLedger(state))
	rep3 := runJob(t, "sqlite:"+demoDB(t), state, u)
	if len(rep3.SIPs) != 0 || len(rep3.LedgerRerecorded) != 1 || rep3.LedgerRerecorded[0] != lost.SIP {
		t.Fatalf("after a lost entry: %d SIPs sent, re-recorded %v, want %s", len(rep3.SIPs), rep3.LedgerRerecorded, lost.SIP)
	}
	ents := readLedger(t, DefaultLedger(state))
	if e := ents[len(ents)-1]; e.SIP != lost.SIP || e.SHA256 != lost.SHA256 || e.Status != ledger.StatusStored || !strings.HasSuffix(e.Note, "; found at the target with its SHA-256") {
		t.Errorf("re-recorded entry %+v", e)
	}
	if lr, err := ledger.Verify(ctx, DefaultLedger(state), tg); err != nil || !lr.OK() {
		t.Errorf("ledger verify against the bucket after the re-recording: %v %+v", err, lr)
	}

	// Lost from the ledger and from the bucket: its dossiers are archived again, in the same SIP.
	lost = tearLastEntry(t, DefaultLedger(state))
	if _, err := tg.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("depot"), Key: aws.String(tg.Key(lost.SIP))}); err != nil {
		t.Fatal(err)
	}
	rep4 := runJob(t, "sqlite:"+demoDB(t), state, u)
	if len(rep4.LedgerLost) != 1 || rep4.LedgerLost[0] != lost.SIP || len(rep4.SIPs) != 1 || rep4.SIPs[0].Name != lost.SIP || rep4.SIPs[0].Digest != lost.SHA256 {
		t.Fatalf("after a lost entry and object: lost %v, sent %+v; want %s sent again", rep4.LedgerLost, rep4.SIPs, lost.SIP)
	}
	if lr, err := ledger.Verify(ctx, DefaultLedger(state), tg); err != nil || !lr.OK() {
		t.Errorf("ledger verify against the bucket after archiving again: %v %+v", err, lr)
	}
}

// TestEndToEndS3ObjectLock: with ObjectLock, each SIP is locked at the bucket until the latest date
// its dossiers' rules protect them, and the lock holds against a delete of that version.
func TestEndToEndS3ObjectLock(t *testing.T) {
	ctx := context.Background()
	tg, u := s3Bucket(t, "vault", true)
	rep, err := Execute(ctx, JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + demoDB(t), Target: u,
		State: t.TempDir(), AsOf: e2eAsOf, MaxDossiers: e2eBatch, ObjectLock: "COMPLIANCE"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SIPs) < 2 {
		t.Fatalf("%d SIPs", len(rep.SIPs))
	}
	for _, sip := range rep.SIPs {
		// Every demo dossier has a 50-year access restriction, so every SIP is locked past the as-of date.
		if !sip.RetainUntil.After(e2eAsOf) {
			t.Errorf("%s: retain until %s, not after the as-of date %s", sip.Name, sip.RetainUntil, e2eAsOf)
			continue
		}
		key := aws.String(tg.Key(sip.Name))
		ret, err := tg.Client().GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("vault"), Key: key})
		if err != nil || ret.Retention == nil || ret.Retention.Mode != s3types.ObjectLockRetentionModeCompliance ||
			ret.Retention.RetainUntilDate == nil || !ret.Retention.RetainUntilDate.Equal(sip.RetainUntil.Time(time.UTC)) {
			t.Errorf("%s: retention at the bucket %+v (%v), want COMPLIANCE until %s", sip.Name, ret.Retention, err, sip.RetainUntil)
			continue
		}
		if _, err := tg.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vault"), Key: key, VersionId: aws.String(sip.Receipt.VersionID)}); err == nil {
			t.Errorf("%s: a locked SIP version was deleted", sip.Name)
		}
	}
}

// s3Bucket starts a versitygw for the test, points the AWS credential chain at it (and at nothing
// else on this machine), creates the bucket and returns a target on it with its URL.
func s3Bucket(t *testing.T, bucket string, objectLock bool) (*ts3.Target, string) {
	t.Helper()
	ctx := context.Background()
	s := testsvc.StartS3(t, testsvc.S3Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")
	u := "s3://" + bucket + "/sips?endpoint=" + s.Endpoint + "&path-style=true"
	tg, err := ts3.Open(ctx, u, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := tg.Client().CreateBucket(ctx, in); err != nil {
		t.Fatal(err)
	}
	return tg, u
}

// An S3 target whose bucket does not exist fails the preflight (transfer.Prober) before anything
// is read or created: the error names the bucket, and the state folder is not created.
func TestPreflightS3NoBucket(t *testing.T) {
	_, u := s3Bucket(t, "depot", false)
	missing := strings.Replace(u, "s3://depot/", "s3://nope/", 1)
	state := filepath.Join(t.TempDir(), "state")
	rep, err := Execute(context.Background(), JobSpec{Profile: builtin(t, "apogee"), Source: "sqlite:" + demoDB(t), Target: missing,
		State: state, AsOf: e2eAsOf, MaxDossiers: e2eBatch})
	if want := "S3 target " + missing + `: no bucket "nope"`; err == nil || err.Error() != want || rep != nil {
		t.Fatalf("got %v (report %v)\nwant %s", err, rep, want)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("the state folder was created: %v", err)
	}
}
