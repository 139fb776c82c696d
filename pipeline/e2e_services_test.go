package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
	rows, err := db.QueryContext(ctx, `
		SELECT CASE
			WHEN m IS NULL THEN 'undetermined'
			WHEN $1::date < make_date(m + 1 + 3, 8, 31) THEN 'active'
			WHEN $1::date < make_date(m + 1 + 3 + 7, 8, 31) THEN 'intermediate'
			ELSE 'final' END, count(*)
		FROM (SELECT i."COD_IND", (SELECT max(a."COD_ANU"::int) FROM "INS_ADM_ANU" a
		                           WHERE a."COD_IND" = i."COD_IND" AND a."ETA_IAA" = 'E') AS m
		      FROM "INDIVIDU" i) s
		GROUP BY 1`, e2eAsOf.String())
	if err != nil {
		t.Fatal(err)
	}
	want := map[retention.Tier]int64{}
	for rows.Next() {
		var tier string
		var n int64
		if err := rows.Scan(&tier, &n); err != nil {
			t.Fatal(err)
		}
		want[retention.Tier(tier)] = n
	}
	rows.Close()

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
	s := testsvc.StartS3(t, testsvc.S3Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")
	u := "s3://depot/sips?endpoint=" + s.Endpoint + "&path-style=true"
	tg, err := ts3.Open(ctx, u, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("depot")}); err != nil {
		t.Fatal(err)
	}
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
}
