package s3_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/targets"
)

// env points the SDK's standard credential chain at the test server, and nowhere else.
func env(t *testing.T, s *testsvc.S3) {
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if s.CAFile != "" {
		t.Setenv("AWS_CA_BUNDLE", s.CAFile)
	} else {
		t.Setenv("AWS_CA_BUNDLE", "")
	}
}

func open(t *testing.T, s *testsvc.S3, bucket string, lock bool, opts ts3.Options) *ts3.Target {
	t.Helper()
	env(t, s)
	ctx := context.Background()
	tg, err := ts3.Open(ctx, "s3://"+bucket+"/sips?endpoint="+s.Endpoint+"&path-style=true", opts)
	if err != nil {
		t.Fatal(err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if lock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := tg.Client().CreateBucket(ctx, in); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return tg
}

// randomSIP writes size random bytes (not committed anywhere) and returns the SIP with its SHA-256.
func randomSIP(t testing.TB, name string, size int64) transfer.SIP {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return transfer.SIP{
		Name: name, Path: p, SHA256: hex.EncodeToString(h.Sum(nil)), MessageID: "MSG-" + name,
		ManifestDigest: transfer.Digest{Algo: "SHA-256", Value: strings.Repeat("ab", 32)},
		Origin:         transfer.Origin{Profile: "apogee", Class: "etudiant", Tier: "final"},
	}
}

func countObjects(t *testing.T, tg *ts3.Target) int {
	t.Helper()
	n := 0
	if err := tg.List(context.Background(), func(transfer.Object) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPutSmallAndLargeOverHTTPAndHTTPS(t *testing.T) {
	sizes := []int64{1 << 10, 110 << 20} // one PutObject; multipart (>100 MiB)
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			s := testsvc.StartS3(t, testsvc.S3Options{TLS: tlsOn})
			tg := open(t, s, "depot", false, ts3.Options{})
			ctx := context.Background()
			for _, size := range sizes {
				sip := randomSIP(t, "sip-"+name+"-"+time.Now().Format("150405.000000")+".zip", size)
				r, err := tg.Put(ctx, sip)
				if err != nil {
					t.Fatalf("put %d bytes: %v", size, err)
				}
				if r.AlreadyThere || r.SHA256 != sip.SHA256 || r.Size != size || r.ETag == "" || r.Checksum == "" {
					t.Fatalf("receipt %+v", r)
				}
				if parts := (size + ts3.DefaultPartSize - 1) / ts3.DefaultPartSize; size > ts3.DefaultThreshold && !strings.HasSuffix(r.Checksum, fmt.Sprintf("-%d", parts)) {
					t.Errorf("multipart checksum %q, want a composite of %d parts", r.Checksum, parts)
				}
				obj, err := tg.Stat(ctx, sip.Name)
				if err != nil || obj.SHA256 != sip.SHA256 || obj.Size != size {
					t.Fatalf("stat: %+v %v", obj, err)
				}
				// The bytes on the server's disk are the SIP's.
				got, err := transfer.FileSHA256(filepath.Join(s.Dir, "depot", "sips", sip.Name))
				if err != nil || got != sip.SHA256 {
					t.Fatalf("stored file sha256 %s %v, want %s", got, err, sip.SHA256)
				}
				head, err := tg.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("depot"), Key: aws.String("sips/" + sip.Name)})
				if err != nil {
					t.Fatal(err)
				}
				for k, want := range map[string]string{"profile": "apogee", "tier": "final", "message-id": sip.MessageID, "sha256": sip.SHA256, "manifest-digest": "SHA-256:" + sip.ManifestDigest.Value} {
					if head.Metadata[k] != want {
						t.Errorf("metadata %s = %q, want %q", k, head.Metadata[k], want)
					}
				}
				tagOut, err := tg.Client().GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("depot"), Key: aws.String("sips/" + sip.Name)})
				if err != nil {
					t.Fatal(err)
				}
				if len(tagOut.TagSet) != 3 {
					t.Errorf("tags %v, want profile, class, tier", tagOut.TagSet)
				}
				// Idempotent: a second Put sends nothing.
				r2, err := tg.Put(ctx, sip)
				if err != nil || !r2.AlreadyThere {
					t.Fatalf("second put: %+v %v", r2, err)
				}
			}
			if n := countObjects(t, tg); n != len(sizes) {
				t.Errorf("%d objects, want %d", n, len(sizes))
			}
		})
	}
}

func TestCorruptUploadRejectedByServer(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{})
	sip := randomSIP(t, "corrupt.zip", 4096)
	// The SIP's recorded SHA-256 no longer matches its bytes: as if a bit flipped after it was
	// written. The server must refuse the upload (BadDigest) and nothing must be stored.
	b, _ := os.ReadFile(sip.Path)
	b[100] ^= 1
	if err := os.WriteFile(sip.Path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tg.Put(context.Background(), sip)
	if err == nil {
		t.Fatal("a corrupted SIP was accepted")
	}
	var perm *transfer.PermanentError
	if !errors.Is(err, transfer.ErrDigest) || !errors.As(err, &perm) {
		t.Fatalf("want a permanent checksum error, got %v", err)
	}
	if !strings.Contains(err.Error(), "BadDigest") {
		t.Errorf("error does not carry the server's verdict: %v", err)
	}
	if strings.Contains(err.Error(), s.SecretKey) {
		t.Errorf("secret in error: %v", err)
	}
	if n := countObjects(t, tg); n != 0 {
		t.Errorf("%d objects stored after a rejected upload", n)
	}
}

func TestCorruptMultipartAbortedBeforeCompletion(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{PartSize: 5 << 20, MultipartThreshold: 6 << 20})
	sip := randomSIP(t, "corrupt-mp.zip", 12<<20)
	sip.SHA256 = strings.Repeat("0", 64)
	_, err := tg.Put(context.Background(), sip)
	if !errors.Is(err, transfer.ErrDigest) {
		t.Fatalf("want a checksum error, got %v", err)
	}
	if n := countObjects(t, tg); n != 0 {
		t.Errorf("%d objects stored after an aborted upload", n)
	}
}

func TestSameNameDifferentContentIsAConflict(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{})
	ctx := context.Background()
	a := randomSIP(t, "same.zip", 2048)
	if _, err := tg.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := randomSIP(t, "same.zip", 2048)
	_, err := tg.Put(ctx, b)
	if !errors.Is(err, transfer.ErrConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	obj, err := tg.Stat(ctx, "same.zip")
	if err != nil || obj.SHA256 != a.SHA256 {
		t.Fatalf("the first SIP was overwritten: %+v %v", obj, err)
	}
}

func TestObjectLockPreventsDeletion(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "locked", true, ts3.Options{})
	ctx := context.Background()
	sip := randomSIP(t, "locked.zip", 4096)
	sip.Retention = &transfer.Retention{Mode: "COMPLIANCE", Until: time.Now().Add(24 * time.Hour)}
	sip.LegalHold = true
	r, err := tg.Put(ctx, sip)
	if err != nil {
		t.Fatal(err)
	}
	key := aws.String(tg.Key(sip.Name))
	ret, err := tg.Client().GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: key})
	if err != nil || ret.Retention == nil || ret.Retention.Mode != types.ObjectLockRetentionModeCompliance {
		t.Fatalf("retention: %+v %v", ret, err)
	}
	hold, err := tg.Client().GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("locked"), Key: key})
	if err != nil || hold.LegalHold == nil || hold.LegalHold.Status != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("legal hold: %+v %v", hold, err)
	}
	_, err = tg.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: key, VersionId: aws.String(r.VersionID)})
	if err == nil {
		t.Fatal("a locked SIP version was deleted")
	}
	obj, err := tg.Stat(ctx, sip.Name)
	if err != nil || obj.SHA256 != sip.SHA256 {
		t.Fatalf("after the refused delete: %+v %v", obj, err)
	}
}

// The server dies in the middle of a multipart upload; after a restart, the rerun stores the SIP
// once, with its checksum, and leaves no half-finished upload behind.
func TestServerKilledMidUploadRerunCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("large upload")
	}
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{PartSize: 5 << 20, MultipartThreshold: 6 << 20, Concurrency: 2})
	sip := randomSIP(t, "killed.zip", 60<<20)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { _, err := tg.Put(ctx, sip); done <- err }()
	// Kill once some parts are on the server's disk.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && !partsOnDisk(s.Dir) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Kill()
	if err := <-done; err == nil {
		t.Skip("the upload finished before the kill (machine too fast); nothing to prove")
	} else {
		t.Logf("interrupted upload failed as expected: %v", err)
	}
	s.Start()
	r, err := tg.Put(ctx, sip)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if r.AlreadyThere {
		t.Fatal("rerun found the SIP already complete: the kill came too late to prove anything")
	}
	if n := countObjects(t, tg); n != 1 {
		t.Errorf("%d objects after the rerun, want 1", n)
	}
	obj, err := tg.Stat(ctx, sip.Name)
	if err != nil || obj.SHA256 != sip.SHA256 || obj.Size != 60<<20 {
		t.Fatalf("after the rerun: %+v %v", obj, err)
	}
	ups, err := tg.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("depot")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d unfinished multipart uploads left behind", len(ups.Uploads))
	}
}

// partsOnDisk: versitygw keeps parts of unfinished uploads under .sgwtmp in the bucket folder.
func partsOnDisk(root string) bool {
	found := false
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Size() >= 5<<20 && strings.Contains(p, ".sgwtmp") {
			found = true
		}
		return nil
	})
	return found
}

// Through targets.Open, the retry decorator rides out a server that is down for a moment: one Put
// call, the server restarted during the backoff, one object stored.
func TestRetryRidesOutARestart(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{})
	rt, err := targets.Open(context.Background(), tg.String(), targets.Options{Retries: 5, RetryBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sip := randomSIP(t, "restart.zip", 1<<20)
	s.Kill()
	restarted := make(chan struct{})
	go func() { time.Sleep(300 * time.Millisecond); s.Start(); close(restarted) }()
	r, err := rt.Put(context.Background(), sip)
	<-restarted
	if err != nil {
		t.Fatalf("put across a restart: %v", err)
	}
	if r.AlreadyThere || countObjects(t, tg) != 1 {
		t.Fatalf("receipt %+v, %d objects", r, countObjects(t, tg))
	}
}

// Probe, the preflight: the bucket is there and the credentials may use it.
func TestProbe(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{})
	ctx := context.Background()
	if err := tg.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	missing, err := ts3.Open(ctx, "s3://nodepot/sips?endpoint="+s.Endpoint+"&path-style=true", ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Probe(ctx)
	want := `S3 target s3://nodepot/sips?endpoint=` + s.Endpoint + `&path-style=true: no bucket "nodepot"`
	var perm *transfer.PermanentError
	if err == nil || err.Error() != want || !errors.As(err, &perm) {
		t.Fatalf("got  %v\nwant %s (permanent)", err, want)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	denied, err := ts3.Open(ctx, tg.String(), ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = denied.Probe(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "S3 target "+tg.String()+": bucket depot: operation error S3: HeadBucket, https response error StatusCode: 403") ||
		!errors.As(err, &perm) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// BenchmarkPut uploads one SIP per iteration to versitygw (multipart above the threshold).
//
//	scripts/test ./transfer/s3/ -run XXX -bench Put -benchtime 3x
func BenchmarkPut(b *testing.B) {
	for _, size := range []int64{8 << 20, 128 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			s := testsvc.StartS3(b, testsvc.S3Options{})
			b.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
			b.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
			b.Setenv("AWS_REGION", "us-east-1")
			b.Setenv("AWS_CONFIG_FILE", filepath.Join(b.TempDir(), "none"))
			b.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(b.TempDir(), "none"))
			ctx := context.Background()
			tg, err := ts3.Open(ctx, "s3://bench?endpoint="+s.Endpoint+"&path-style=true", ts3.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tg.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			sip := randomSIP(b, "sip.zip", size)
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sip.Name = fmt.Sprintf("sip-%d.zip", i)
				if _, err := tg.Put(ctx, sip); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TLS verification stays on: without the server's CA in AWS_CA_BUNDLE, nothing is sent.
func TestHTTPSWithoutTheCAFails(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{TLS: true})
	tg := open(t, s, "depot", false, ts3.Options{})
	t.Setenv("AWS_CA_BUNDLE", "")
	untrusting, err := ts3.Open(context.Background(), tg.String(), ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusting.Put(context.Background(), randomSIP(t, "x.zip", 10))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("want a certificate error, got %v", err)
	}
	if n := countObjects(t, tg); n != 0 {
		t.Fatalf("%d objects stored", n)
	}
}

// verify --target on S3 compares the server's own checksum with the one recorded at upload.
func TestLedgerVerifyAgainstS3Multipart(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{PartSize: 5 << 20, MultipartThreshold: 6 << 20})
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	sip := randomSIP(t, "mp.zip", 11<<20)
	e, _, err := l.Send(ctx, tg, sip, ledger.Batch{})
	if err != nil || !strings.HasSuffix(e.Receipt.Checksum, "-3") {
		t.Fatalf("%+v %v", e, err)
	}
	l.Close()
	rep, err := ledger.Verify(ctx, p, tg)
	if err != nil || !rep.OK() || rep.Checked != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	// Someone replaces the object with other bytes but copies the sha256 metadata: the server's
	// composite checksum gives it away.
	other := randomSIP(t, "other.zip", 11<<20)
	f, _ := os.Open(other.Path)
	defer f.Close()
	tm := transfermanager.New(tg.Client(), func(o *transfermanager.Options) {
		o.PartSizeBytes, o.MultipartUploadThreshold = 5<<20, 5<<20
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
	})
	_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("depot"), Key: aws.String(tg.Key("mp.zip")), Body: f,
		ChecksumAlgorithm: tmtypes.ChecksumAlgorithmSha256, Metadata: map[string]string{"sha256": sip.SHA256}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = ledger.Verify(ctx, p, tg)
	if err != nil || rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "the server's checksum is") {
		t.Fatalf("%+v %v", rep, err)
	}
}

// Delete of a SIP under Object Lock says until when, and deletes nothing of it; once the lock's
// date has passed, every version goes.
func TestDeleteUnderObjectLock(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "locked-delete", true, ts3.Options{})
	ctx := context.Background()
	until := time.Now().Add(48 * time.Hour).UTC()
	sip := randomSIP(t, "apogee-etudiant-intermediate-00001.zip", 4096)
	sip.Retention = &transfer.Retention{Mode: "COMPLIANCE", Until: until}
	if _, err := tg.Put(ctx, sip); err != nil {
		t.Fatal(err)
	}
	err := tg.Delete(ctx, sip.Name)
	want := "SIP apogee-etudiant-intermediate-00001.zip: under S3 Object Lock (COMPLIANCE) until " + until.Format(time.DateOnly) + ": to destroy when the lock ends"
	var locked *transfer.LockedError
	if !errors.As(err, &locked) || err.Error() != want {
		t.Fatalf("Delete = %v, want %q", err, want)
	}
	if obj, err := tg.Stat(ctx, sip.Name); err != nil || obj.SHA256 != sip.SHA256 {
		t.Fatalf("after the refused delete: %+v %v", obj, err)
	}

	held := randomSIP(t, "apogee-etudiant-intermediate-00002.zip", 4096)
	held.LegalHold = true
	if _, err := tg.Put(ctx, held); err != nil {
		t.Fatal(err)
	}
	if err := tg.Delete(ctx, held.Name); !errors.As(err, &locked) || locked.Mode != "legal hold" {
		t.Fatalf("Delete under a legal hold = %v", err)
	}

	short := randomSIP(t, "apogee-etudiant-intermediate-00003.zip", 4096)
	short.Retention = &transfer.Retention{Mode: "GOVERNANCE", Until: time.Now().Add(2 * time.Second)}
	if _, err := tg.Put(ctx, short); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := tg.Delete(ctx, short.Name); err != nil {
		t.Fatalf("Delete after the lock's date: %v", err)
	}
	key := tg.Key(short.Name)
	vs, err := tg.Client().ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("locked-delete"), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions)+len(vs.DeleteMarkers) != 0 {
		t.Errorf("after Delete, %d versions and %d delete markers remain", len(vs.Versions), len(vs.DeleteMarkers))
	}
}
