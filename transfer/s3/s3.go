// Package s3 is the transfer target for an S3 drop zone:
//
//	s3://bucket/prefix?endpoint=https://host:port&region=eu-west-3&path-style=true
//
// Credentials come from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, web identity, instance roles…), never from the URL; a private CA goes in
// AWS_CA_BUNDLE (or ca_bundle in the shared config). TLS verification is never turned off.
//
// Integrity, end to end: a SIP below the multipart threshold is sent with one PutObject carrying
// x-amz-checksum-sha256 = the SHA-256 computed when the SIP was written, so the server refuses
// anything else (BadDigest). A larger SIP goes through feature/s3/transfermanager with a SHA-256
// per part, each verified by the server; while the parts are read, the whole-file SHA-256 is
// computed in the same pass, and if the file does not hash to the SIP's SHA-256 the upload is
// aborted before CompleteMultipartUpload. After either upload, HeadObject with
// ChecksumMode=ENABLED must report the expected checksum (for multipart, the composite of the
// part checksums the server acknowledged). The whole-file SHA-256 is also stored as
// metadata (x-amz-meta-sha256), because S3 reports only the composite for multipart objects.
package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/versement/versement/transfer"
)

// Defaults for multipart uploads.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
	DefaultThreshold   = 64 << 20
	maxParts           = 10000
)

// Target stores SIPs as objects under bucket/prefix.
type Target struct {
	client      *s3.Client
	bucket      string
	prefix      string // "" or ends with "/"
	url         string // without secrets
	partSize    int64
	threshold   int64
	concurrency int
}

// Open builds the target from its URL.
func Open(ctx context.Context, raw string, opts transfer.Options) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("S3 target %q: want s3://bucket/prefix?endpoint=…&region=…&path-style=true", transfer.Redact(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("S3 target %s: credentials do not belong in the URL; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile", transfer.Redact(raw))
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "path-style":
		default:
			return nil, fmt.Errorf("S3 target %s: unknown parameter %q (known: endpoint, region, path-style)", transfer.Redact(raw), k)
		}
	}
	var loadOpts []func(*config.LoadOptions) error
	if r := q.Get("region"); r != "" {
		loadOpts = append(loadOpts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("S3 target %s: AWS configuration: %w", transfer.Redact(raw), err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers ignore it, but the signer needs one
	}
	pathStyle := false
	if ps := q.Get("path-style"); ps != "" {
		if pathStyle, err = strconv.ParseBool(ps); err != nil {
			return nil, fmt.Errorf("S3 target %s: path-style=%q: want true or false", transfer.Redact(raw), ps)
		}
	}
	endpoint := q.Get("endpoint")
	if endpoint != "" {
		eu, err := url.Parse(endpoint)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return nil, fmt.Errorf("S3 target %s: endpoint %q: want http(s)://host:port", transfer.Redact(raw), endpoint)
		}
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		// The body is protected by x-amz-checksum-sha256, which is signed and checked by the server;
		// signing the payload as well would hash every byte once more for nothing (over HTTP the
		// SDK does that by default).
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	t := &Target{
		client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/"), url: transfer.Redact(raw),
		partSize: opts.PartSize, threshold: opts.MultipartThreshold, concurrency: opts.Concurrency,
	}
	if t.prefix != "" {
		t.prefix += "/"
	}
	if t.partSize <= 0 {
		t.partSize = DefaultPartSize
	}
	if t.partSize < 5<<20 {
		return nil, fmt.Errorf("S3 target: part size %d is below S3's 5 MiB minimum", t.partSize)
	}
	if t.threshold <= 0 {
		t.threshold = DefaultThreshold
	}
	if t.concurrency <= 0 {
		t.concurrency = DefaultConcurrency
	}
	return t, nil
}

// Client is the underlying S3 client (for tests and tools).
func (t *Target) Client() *s3.Client { return t.client }

// Bucket and Key say where a SIP name lands.
func (t *Target) Bucket() string             { return t.bucket }
func (t *Target) Key(name string) string     { return t.prefix + name }
func (t *Target) String() string             { return t.url }
func (t *Target) Close() error               { return nil }
func (t *Target) location(key string) string { return "s3://" + t.bucket + "/" + key }

// Put uploads the SIP unless the same bytes are already there.
func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	key := t.Key(sip.Name)
	rcpt := transfer.Receipt{Target: t.url, Name: sip.Name, Location: t.location(key), Size: sip.Size, SHA256: sip.SHA256}
	if done, err := t.already(ctx, key, sip, &rcpt); err != nil || done {
		return rcpt, err
	}
	meta := map[string]string{"sha256": sip.SHA256}
	for k, v := range sip.Meta {
		meta[metaKey(k)] = headerSafe(v)
	}
	if sip.MessageID != "" {
		meta["message-id"] = headerSafe(sip.MessageID)
	}
	if sip.ManifestDigest.Value != "" {
		meta["manifest-digest"] = sip.ManifestDigest.String()
	}
	tagging := tags(sip.Meta)
	var lockMode types.ObjectLockMode
	var until *time.Time
	if r := sip.Retention; r != nil {
		switch strings.ToUpper(r.Mode) {
		case "COMPLIANCE":
			lockMode = types.ObjectLockModeCompliance
		case "GOVERNANCE":
			lockMode = types.ObjectLockModeGovernance
		default:
			return rcpt, transfer.Permanent(fmt.Errorf("retention mode %q: want COMPLIANCE or GOVERNANCE", r.Mode))
		}
		u := r.Until.UTC()
		until = &u
	}
	var hold types.ObjectLockLegalHoldStatus
	if sip.LegalHold {
		hold = types.ObjectLockLegalHoldStatusOn
	}

	f, err := os.Open(sip.Path)
	if err != nil {
		return rcpt, transfer.Permanent(err)
	}
	defer f.Close()

	var expect string // checksum HeadObject must report
	if sip.Size < t.threshold {
		raw, _ := hex.DecodeString(sip.SHA256)
		expect = base64.StdEncoding.EncodeToString(raw)
		out, err := t.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &t.bucket, Key: &key, Body: f, ContentLength: aws.Int64(sip.Size),
			ContentType:       aws.String("application/zip"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(expect),
			IfNoneMatch: aws.String("*"), Metadata: meta, Tagging: tagging,
			ObjectLockMode: lockMode, ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: hold,
		})
		if err != nil {
			return t.putFailed(ctx, key, sip, rcpt, err)
		}
		rcpt.ETag, rcpt.VersionID = aws.ToString(out.ETag), aws.ToString(out.VersionId)
	} else {
		if err := t.abortStale(ctx, key); err != nil {
			return rcpt, err
		}
		partSize := t.partSize
		if sip.Size/partSize >= maxParts { // what transfermanager would do, done here so the hasher agrees
			partSize = sip.Size/(maxParts-1) + 1
		}
		hr := newWholeHasher(f, sip.SHA256)
		tm := transfermanager.New(t.client, func(o *transfermanager.Options) {
			o.PartSizeBytes = partSize
			o.MultipartUploadThreshold = partSize // it buffers this much before deciding; we decided already
			o.Concurrency = t.concurrency
			o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
		})
		out, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: &t.bucket, Key: &key, Body: hr, ContentLength: aws.Int64(sip.Size),
			ContentType:       aws.String("application/zip"),
			ChecksumAlgorithm: tmtypes.ChecksumAlgorithmSha256,
			IfNoneMatch:       aws.String("*"), Metadata: meta, Tagging: tagging,
			ObjectLockMode: tmtypes.ObjectLockMode(lockMode), ObjectLockRetainUntilDate: until,
			ObjectLockLegalHoldStatus: tmtypes.ObjectLockLegalHoldStatus(hold),
		})
		if err != nil {
			if errors.Is(err, transfer.ErrDigest) {
				return rcpt, transfer.Permanent(fmt.Errorf("S3 upload of %s aborted: %w", sip.Name, hr.err))
			}
			return t.putFailed(ctx, key, sip, rcpt, err)
		}
		if expect, err = composite(out.CompletedParts); err != nil {
			return rcpt, transfer.Permanent(fmt.Errorf("S3 %s: %w", rcpt.Location, err))
		}
		rcpt.ETag, rcpt.VersionID = aws.ToString(out.ETag), aws.ToString(out.VersionID)
	}
	// Read back what the server stored, with its checksum.
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled, VersionId: nilIfEmpty(rcpt.VersionID)})
	if err != nil {
		return rcpt, fmt.Errorf("S3 %s: uploaded, but HeadObject failed: %w", rcpt.Location, err)
	}
	rcpt.Checksum = aws.ToString(head.ChecksumSHA256)
	if rcpt.Checksum != expect || aws.ToInt64(head.ContentLength) != sip.Size {
		return rcpt, transfer.Permanent(fmt.Errorf("S3 %s: %w after upload: server reports sha256 %q and %d bytes, expected %q and %d",
			rcpt.Location, transfer.ErrDigest, rcpt.Checksum, aws.ToInt64(head.ContentLength), expect, sip.Size))
	}
	rcpt.Time = time.Now().UTC()
	return rcpt, nil
}

// putFailed classifies an upload error. A 412 means someone stored the key meanwhile: look again.
func (t *Target) putFailed(ctx context.Context, key string, sip transfer.SIP, rcpt transfer.Receipt, err error) (transfer.Receipt, error) {
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "PreconditionFailed" || api.ErrorCode() == "ConditionalRequestConflict") {
		if done, err2 := t.already(ctx, key, sip, &rcpt); err2 != nil || done {
			return rcpt, err2
		}
	}
	return rcpt, classify(fmt.Errorf("S3 upload of %s to %s: %w", sip.Name, rcpt.Location, err))
}

// already looks for key: the same SIP there → done; another one → conflict.
func (t *Target) already(ctx context.Context, key string, sip transfer.SIP, rcpt *transfer.Receipt) (bool, error) {
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("S3 HeadObject %s: %w", rcpt.Location, err))
	}
	obj := objectFromHead(sip.Name, head)
	if obj.SHA256 != sip.SHA256 || obj.Size != sip.Size {
		return false, transfer.Permanent(fmt.Errorf("S3 %s: %w (there: sha256 %q, %d bytes; ours: sha256 %s, %d bytes); nothing was overwritten",
			rcpt.Location, transfer.ErrConflict, obj.SHA256, obj.Size, sip.SHA256, sip.Size))
	}
	rcpt.AlreadyThere = true
	rcpt.ETag, rcpt.VersionID, rcpt.Checksum = aws.ToString(head.ETag), aws.ToString(head.VersionId), aws.ToString(head.ChecksumSHA256)
	rcpt.Time = time.Now().UTC()
	return true, nil
}

// abortStale aborts multipart uploads of key left by an earlier, interrupted run, so they do not
// linger as hidden storage.
func (t *Target) abortStale(ctx context.Context, key string) error {
	out, err := t.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &t.bucket, Prefix: &key})
	if err != nil {
		return classify(fmt.Errorf("S3 ListMultipartUploads %s: %w", t.location(key), err))
	}
	for _, up := range out.Uploads {
		if aws.ToString(up.Key) != key {
			continue
		}
		if _, err := t.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &t.bucket, Key: &key, UploadId: up.UploadId}); err != nil && !notFound(err) {
			return classify(fmt.Errorf("S3 abort stale upload of %s: %w", t.location(key), err))
		}
	}
	return nil
}

// Stat reports the object's size and SHA-256: the server's own checksum for a single-part object,
// the x-amz-meta-sha256 recorded at upload for a multipart one (S3 keeps only the composite).
func (t *Target) Stat(ctx context.Context, name string) (transfer.Object, error) {
	key := t.Key(name)
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if notFound(err) {
		return transfer.Object{}, fmt.Errorf("%s: %w", t.location(key), transfer.ErrNotExist)
	}
	if err != nil {
		return transfer.Object{}, classify(fmt.Errorf("S3 HeadObject %s: %w", t.location(key), err))
	}
	return objectFromHead(name, head), nil
}

func objectFromHead(name string, h *s3.HeadObjectOutput) transfer.Object {
	o := transfer.Object{Name: name, Size: aws.ToInt64(h.ContentLength), VersionID: aws.ToString(h.VersionId), ModTime: aws.ToTime(h.LastModified),
		Checksum: aws.ToString(h.ChecksumSHA256)}
	if c := aws.ToString(h.ChecksumSHA256); c != "" && !strings.Contains(c, "-") {
		if b, err := base64.StdEncoding.DecodeString(c); err == nil {
			o.SHA256 = hex.EncodeToString(b)
		}
	}
	if o.SHA256 == "" {
		o.SHA256 = h.Metadata["sha256"]
	}
	return o
}

// List lists the objects under the prefix.
func (t *Target) List(ctx context.Context, fn func(transfer.Object) error) error {
	p := s3.NewListObjectsV2Paginator(t.client, &s3.ListObjectsV2Input{Bucket: &t.bucket, Prefix: aws.String(t.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return classify(fmt.Errorf("S3 list s3://%s/%s: %w", t.bucket, t.prefix, err))
		}
		for _, o := range page.Contents {
			if err := fn(transfer.Object{Name: strings.TrimPrefix(aws.ToString(o.Key), t.prefix), Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func notFound(err error) bool {
	if err == nil {
		return false
	}
	var nf *types.NotFound
	var nk *types.NoSuchKey
	var nu *types.NoSuchUpload
	if errors.As(err, &nf) || errors.As(err, &nk) || errors.As(err, &nu) {
		return true
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == 404
}

// classify marks 4xx answers (other than timeouts and throttling) permanent; the retry decorator
// decides the rest.
func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "TooManyRequests":
			return transfer.Transient(err)
		case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch":
			return transfer.Permanent(fmt.Errorf("%w: %w", transfer.ErrDigest, err))
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		if c := resp.HTTPStatusCode(); c >= 400 && c < 500 && c != 408 && c != 429 {
			return transfer.Permanent(err)
		}
	}
	return err
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// metaKey makes a metadata name HTTP-header-safe: lower case letters, digits and dashes.
func metaKey(k string) string {
	b := []byte(strings.ToLower(k))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// headerSafe percent-encodes what an HTTP header cannot carry (non-ASCII, control characters).
func headerSafe(v string) string {
	for _, r := range v {
		if r > unicode.MaxASCII || r < 0x20 || r == 0x7f {
			return url.QueryEscape(v)
		}
	}
	return v
}

// tags: profile, class and tier as object tags, so that lifecycle rules can select on them.
func tags(meta map[string]string) *string {
	q := url.Values{}
	for _, k := range []string{transfer.MetaProfile, transfer.MetaClass, transfer.MetaTier} {
		if v := meta[k]; v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return nil
	}
	return aws.String(q.Encode())
}

// wholeHasher hashes the SIP as transfermanager reads it (once, sequentially). At the end of the
// file, if the bytes do not hash to the SIP's recorded SHA-256, it fails the read, so that the
// multipart upload is aborted before it is completed.
type wholeHasher struct {
	r    io.Reader
	want string
	h    hash.Hash
	err  error
}

func newWholeHasher(r io.Reader, want string) *wholeHasher {
	return &wholeHasher{r: r, want: want, h: sha256.New()}
}

func (w *wholeHasher) Read(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.r.Read(p)
	w.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(w.h.Sum(nil)); got != w.want {
			w.err = fmt.Errorf("%w: the file hashes to sha256 %s, the SIP was recorded as %s (changed since it was written?)", transfer.ErrDigest, got, w.want)
			return n, w.err
		}
	}
	return n, err
}

// composite is S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256 digests,
// base64, then "-N". The part digests are those the SDK computed from the bytes wholeHasher
// checked, and the server verified each on receipt.
func composite(parts []tmtypes.CompletedPart) (string, error) {
	sort.Slice(parts, func(i, j int) bool { return aws.ToInt32(parts[i].PartNumber) < aws.ToInt32(parts[j].PartNumber) })
	c := sha256.New()
	for _, p := range parts {
		b, err := base64.StdEncoding.DecodeString(aws.ToString(p.ChecksumSHA256))
		if err != nil || len(b) != sha256.Size {
			return "", fmt.Errorf("part %d has no SHA-256 checksum", aws.ToInt32(p.PartNumber))
		}
		c.Write(b)
	}
	return base64.StdEncoding.EncodeToString(c.Sum(nil)) + "-" + strconv.Itoa(len(parts)), nil
}
