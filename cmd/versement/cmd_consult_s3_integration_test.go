package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/sip"
	ts3 "github.com/versement/versement/transfer/s3"
)

// TestConsultS3: dossiers archived to an S3 drop zone (versitygw) are read back from there: the
// objects consult writes are those of the SIP in the bucket, and index rebuild recovers the index
// from the bucket alone.
func TestConsultS3(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey, "AWS_REGION": "us-east-1",
		"AWS_CA_BUNDLE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none")} {
		t.Setenv(k, v)
	}
	target := "s3://depot/sips?endpoint=" + s.Endpoint + "&path-style=true"
	ctx := context.Background()
	tg, err := ts3.Open(ctx, target, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("depot")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, state := filepath.Join(dir, "apogee.db"), filepath.Join(dir, "state")
	if out, code := run(t, "demo-db", "--profile", "apogee", "--dossiers", "200", "--out", db); code != 0 {
		t.Fatalf("demo-db: %d\n%s", code, out)
	}
	if out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", target, "--state", state, "--as-of", "2026-11-30"); code != 0 {
		t.Fatalf("run: %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(state, "roles.yaml"), roles.ExampleYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(ctx, filepath.Join(state, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.Search(ctx, index.Query{Year: 2015, Limit: 20})
	st.Close()
	if err != nil || len(ms) == 0 {
		t.Fatalf("no dossier registered in 2015: %v", err)
	}
	e := ms[0].Entry
	if !strings.HasPrefix(e.Target, "s3://depot/sips") || strings.Contains(e.Target, s.SecretKey) {
		t.Fatalf("the index records the target %q", e.Target)
	}
	objs := filepath.Join(dir, "objs")
	out, code := run(t, "consult", "--state", state, "--as", "archiviste", "--groups", "archives", "--motive-category", "controle-audit", "--motive", "contrôle du 04/12/2026",
		"--profile", "apogee", "--key", e.Key, "--objects", objs)
	if code != 0 || !strings.Contains(out, e.Title) {
		t.Fatalf("consult on S3: exit %d\n%s", code, out)
	}
	// The SIP as the bucket holds it, read whole here, against what consult wrote.
	b, err := tg.Open(ctx, e.SIP)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := sip.Open(ctx, b, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.Unit(ctx, e.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range u.Objects {
		rc, err := r.Object(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(objs, strings.TrimPrefix(o.URI, "Content/")))
		if !bytes.Equal(got, want) {
			t.Errorf("object %s: consult wrote %d bytes, the bucket's SIP holds %d", o.URI, len(got), len(want))
		}
	}

	rebuilt := filepath.Join(dir, "rebuilt.db")
	if out, code := run(t, "index", "rebuild", "--profile", "apogee", "--target", target, "--state", state, "--index", rebuilt); code != 0 || !strings.Contains(out, "indexed") {
		t.Fatalf("index rebuild from S3: exit %d\n%s", code, out)
	}
	rs, err := index.Open(ctx, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got, err := rs.Get(ctx, "apogee", e.Key)
	if err != nil || got.SIP != e.SIP || got.SIPDigest != e.SIPDigest || got.Target != e.Target || got.DUAEnd != e.DUAEnd {
		t.Errorf("rebuilt from S3: %+v (%v)\nthe run indexed %+v", got, err, e)
	}
}
