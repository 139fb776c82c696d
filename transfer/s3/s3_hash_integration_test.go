package s3_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer"
	ts3 "github.com/versement/versement/transfer/s3"
)

// The part checksums are computed in the read that computes the whole-file SHA-256 (before the
// upload when the SIP's SHA-256 is not given, alongside it when it is); the SDK does not hash
// again. A byte changed after that read must still be refused by the server (BadDigest against
// the part's SHA-256), before completion, with no object stored and no multipart upload left.
func TestMultipartFileChangedAfterHashingRefused(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	tg := open(t, s, "depot", false, ts3.Options{PartSize: 5 << 20, MultipartThreshold: 6 << 20})
	for _, known := range []bool{true, false} {
		sip := randomSIP(t, fmt.Sprintf("changed-%v.zip", known), 12<<20)
		if !known {
			sip.SHA256 = ""
		}
		restore := ts3.SetTestHookPartHashed(func(path string, part int) {
			if part != 1 {
				return
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			b := make([]byte, 1)
			f.ReadAt(b, 7<<20) // in part 2, already hashed
			b[0] ^= 1
			if _, err := f.WriteAt(b, 7<<20); err != nil {
				t.Error(err)
			}
		})
		ctx := context.Background()
		_, err := tg.Put(ctx, sip)
		restore()
		var perm *transfer.PermanentError
		if !errors.Is(err, transfer.ErrDigest) || !errors.As(err, &perm) || !strings.Contains(err.Error(), "BadDigest") {
			t.Fatalf("SHA-256 known %v: want a permanent BadDigest from the server, got %v", known, err)
		}
		t.Logf("refused as expected: %v", err)
		if n := countObjects(t, tg); n != 0 {
			t.Errorf("%d objects stored after a refused upload", n)
		}
		ups, err := tg.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("depot")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) != 0 {
			t.Errorf("%d multipart uploads left behind", len(ups.Uploads))
		}
	}
}

// A one-off transfer does not know the SIP's SHA-256: the target computes it (multipart: in the
// read that hashes the parts), records the real digest in the receipt and x-amz-meta-sha256, and a
// rerun, still without the digest, finds the SIP there and sends nothing. Another file under the
// same name is a conflict.
func TestPutWithoutKnownSHA256(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{TLS: true})
	tg := open(t, s, "depot", false, ts3.Options{PartSize: 5 << 20, MultipartThreshold: 6 << 20})
	ctx := context.Background()
	for _, size := range []int64{4096, 5<<20 + 1, 13 << 20} { // one PutObject; threshold not reached; 3 parts
		sip := randomSIP(t, "unknown.zip", size)
		sip.Name = strings.Replace(sip.Name, ".zip", "-"+strings.Repeat("x", int(size%7))+".zip", 1)
		want := sip.SHA256
		sip.SHA256 = ""
		r, err := tg.Put(ctx, sip)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if r.SHA256 != want || r.AlreadyThere || r.Size != size {
			t.Fatalf("%d bytes: receipt %+v, want sha256 %s", size, r, want)
		}
		obj, err := tg.Stat(ctx, sip.Name)
		if err != nil || obj.SHA256 != want {
			t.Fatalf("%d bytes: stat %+v %v, want sha256 %s", size, obj, err, want)
		}
		if got, _ := transfer.FileSHA256(s.Dir + "/depot/sips/" + sip.Name); got != want {
			t.Fatalf("%d bytes: stored bytes hash to %s, want %s", size, got, want)
		}
		r2, err := tg.Put(ctx, sip)
		if err != nil || !r2.AlreadyThere || r2.SHA256 != want {
			t.Fatalf("%d bytes: rerun %+v %v", size, r2, err)
		}
		other := randomSIP(t, sip.Name, size)
		other.SHA256 = ""
		if _, err := tg.Put(ctx, other); !errors.Is(err, transfer.ErrConflict) {
			t.Fatalf("%d bytes: another SIP under the same name: %v", size, err)
		}
	}
	if n := countObjects(t, tg); n != 3 {
		t.Errorf("%d objects, want 3", n)
	}
}
