package deposit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
)

// TestDepositToS3: units and objects deposited, closed and processed to an S3 drop zone
// (versitygw): the SIP is there once with its digest, and the ledger verifies against the bucket.
func TestDepositToS3(t *testing.T) {
	ctx := context.Background()
	srv := testsvc.StartS3(t, testsvc.S3Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")
	u := "s3://depot/sips?endpoint=" + srv.Endpoint + "&path-style=true"
	tg, err := ts3.Open(ctx, u, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("depot")}); err != nil {
		t.Fatal(err)
	}

	runOut, _ := demoRun(t)
	chosen, units := sipWithLOB(t, runOut)
	r, closeFn := openSIP(t, filepath.Join(runOut, chosen))
	defer closeFn()
	state := t.TempDir()
	var queued []string
	s := newService(t, t.TempDir(), state, u, &queued)
	tx := openTx(t, s)
	depositUnits(t, s, tx.ID, r, units)
	if _, err := s.Close(ctx, tx.ID, "client"); err != nil {
		t.Fatal(err)
	}
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.Get(ctx, tx.ID)
	if tx.State != StateDone || len(tx.SIPs) != 1 {
		t.Fatalf("after Process: %+v", tx)
	}
	o, err := tg.Stat(ctx, tx.SIPs[0].Name)
	if err != nil || o.Size != tx.SIPs[0].Bytes {
		t.Fatalf("at the target: %+v %v, want %d bytes", o, err, tx.SIPs[0].Bytes)
	}
	a, err := ledger.VerifyWith(ctx, filepath.Join(state, "ledger.jsonl"), ledger.VerifyOptions{Target: tg})
	if err != nil || !a.OK() {
		t.Fatalf("ledger against the bucket: %+v %v", a, err)
	}
}
