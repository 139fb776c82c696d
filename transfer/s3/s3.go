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
// anything else (BadDigest). A larger SIP is a multipart upload with a SHA-256 per part, each
// verified by the server. One read of the file computes the whole-file SHA-256 and every part's
// (hashParts); the parts are then sent straight from the file with those checksums, so the SDK
// hashes nothing again and a byte changed after that read is refused (BadDigest). If the file does
// not hash to the SIP's given SHA-256 the upload is aborted before CompleteMultipartUpload. Each
// byte is thus hashed twice by the client, not three times (a pass before, the SDK's per part, a
// check while reading). After either upload, HeadObject with
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
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/versement/versement/internal/redact"
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

// Options tune the uploads; the zero value is usable. Where SIPs go and how the server is reached
// is the URL's business (Config, ParseURL).
type Options struct {
	// PartSize and Concurrency of multipart uploads (defaults DefaultPartSize and
	// DefaultConcurrency; parts are read from the file as they are sent, so memory does not depend
	// on either); SIPs smaller than MultipartThreshold (default DefaultThreshold) go in one
	// PutObject.
	PartSize           int64
	Concurrency        int
	MultipartThreshold int64
}

// Config is what an s3:// URL says: s3://BUCKET/PREFIX?endpoint=…&region=…&path-style=true.
type Config struct {
	Bucket    string
	Prefix    string // without surrounding slashes
	Endpoint  string // http(s)://host:port; empty for AWS
	Region    string // empty: AWS_REGION, else us-east-1
	PathStyle bool
	url       string // the URL without secrets, parameters in key order
}

// String is the URL the configuration was read from, without secrets (for a Config built by
// hand: one written from its fields).
func (c Config) String() string {
	if c.url != "" {
		return c.url
	}
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.PathStyle {
		q.Set("path-style", "true")
	}
	u := url.URL{Scheme: "s3", Host: c.Bucket, RawQuery: q.Encode()}
	if c.Prefix != "" {
		u.Path = "/" + c.Prefix
	}
	return transfer.Redact(u.String())
}

// Open builds the target from its URL (ParseURL) and opts (New).
func Open(ctx context.Context, raw string, opts Options) (*Target, error) {
	c, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return New(ctx, c, opts)
}

// New builds the target. It fails at once, before any request, when no credentials are
// configured: they come from the AWS SDK's standard chain only.
//
// The SDK retries nothing: the retry decorator (transfer/retry) is the one retry layer, so that a
// failing request is tried --retries times with one backoff, not SDK tries × decorator tries with
// two. With a custom endpoint (an on-premises store), the SDK never asks the EC2 instance metadata
// service for credentials: it is AWS's, and outside AWS the request only times out.
func New(ctx context.Context, c Config, opts Options) (*Target, error) {
	var loadOpts []func(*config.LoadOptions) error
	if c.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(c.Region))
	}
	if c.Endpoint != "" {
		loadOpts = append(loadOpts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("S3 target %s: AWS configuration: %w", c, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers ignore it, but the signer needs one
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("S3 target %s: no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE", c)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if !credentialsConfigured() && c.Endpoint != "" {
			return nil, fmt.Errorf("S3 target %s: no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE", c)
		}
		return nil, fmt.Errorf("S3 target %s: credentials: %w", c, err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// One retry layer: the decorator's (AWS_MAX_ATTEMPTS, which would wrap this one, is
		// ignored too).
		o.Retryer, o.RetryMaxAttempts = aws.NopRetryer{}, 0
		// The body is protected by x-amz-checksum-sha256, which is signed and checked by the server;
		// signing the payload as well would hash every byte once more for nothing (over HTTP the
		// SDK does that by default).
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	t := &Target{
		client: client, bucket: c.Bucket, prefix: strings.Trim(c.Prefix, "/"), url: c.String(),
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

// Check checks an s3:// URL as Open does, without reading any configuration or credentials.
func Check(raw string) error {
	_, err := ParseURL(raw)
	return err
}

// ParseURL reads an s3:// URL, refusing credentials in any part of it (they come from the
// environment), unknown parameters and malformed values. It reads nothing else.
func ParseURL(raw string) (Config, error) {
	if where := redact.Credentials(raw); where != "" {
		return Config{}, fmt.Errorf("S3 target %s: credentials do not belong in the URL (%s holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE", transfer.Redact(raw), where)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("S3 target %q: want s3://bucket/prefix?endpoint=…&region=…&path-style=true", transfer.Redact(raw))
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "path-style":
		default:
			return Config{}, fmt.Errorf("S3 target %s: unknown parameter %q (known: endpoint, region, path-style)", transfer.Redact(raw), k)
		}
	}
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), Endpoint: q.Get("endpoint"), Region: q.Get("region"), url: transfer.Redact(raw)}
	if c.Endpoint != "" {
		eu, err := url.Parse(c.Endpoint)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return Config{}, fmt.Errorf("S3 target %s: endpoint %q: want http(s)://host:port", transfer.Redact(raw), redact.URL(c.Endpoint))
		}
	}
	if ps := q.Get("path-style"); ps != "" {
		if c.PathStyle, err = strconv.ParseBool(ps); err != nil {
			return Config{}, fmt.Errorf("S3 target %s: path-style=%q: want true or false", transfer.Redact(raw), ps)
		}
	}
	return c, nil
}

// credentialsConfigured says whether the environment names a source of credentials, whose own
// error is then the one to report.
func credentialsConfigured() bool {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// Client is the underlying S3 client (for tests and tools).
func (t *Target) Client() *s3.Client { return t.client }

// Bucket and Key say where a SIP name lands.
func (t *Target) Bucket() string         { return t.bucket }
func (t *Target) Key(name string) string { return t.prefix + name }
func (t *Target) String() string         { return t.url }

// IndexedByName: SIPs are kept under their names (transfer.Indexed).
func (t *Target) IndexedByName() {}

func (t *Target) Close() error               { return nil }
func (t *Target) location(key string) string { return "s3://" + t.bucket + "/" + key }

// Probe checks that the bucket exists and that the credentials may use it (HeadBucket), before a
// run sends anything.
func (t *Target) Probe(ctx context.Context) error {
	if _, err := t.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &t.bucket}); err != nil {
		if notFound(err) {
			return transfer.Permanent(fmt.Errorf("S3 target %s: no bucket %q", t.url, t.bucket))
		}
		return classify(fmt.Errorf("S3 target %s: bucket %s: %w", t.url, t.bucket, err))
	}
	return nil
}

// Put uploads the SIP unless the same bytes are already there.
func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	if err := sip.Check(); err != nil {
		return transfer.Receipt{}, err
	}
	key := t.Key(sip.Name)
	rcpt := transfer.Receipt{Target: t.url, Name: sip.Name, Location: t.location(key), Size: sip.Size}
	// Looked up by name first: only when something is there is the SIP's SHA-256 needed before
	// sending anything (already computes it then).
	if done, err := t.already(ctx, key, &sip, &rcpt); err != nil || done {
		return rcpt, err
	}
	f, err := os.Open(sip.Path)
	if err != nil {
		return rcpt, transfer.Permanent(err)
	}
	defer f.Close()

	multipart := sip.Size >= t.threshold
	partSize := t.partSize
	if sip.Size/partSize >= maxParts {
		partSize = sip.Size/(maxParts-1) + 1
	}
	var parts [][]byte // SHA-256 of each part, when hashed before the upload
	switch {
	case multipart && sip.SHA256 == "":
		// The whole-file SHA-256 goes into the metadata, which CreateMultipartUpload sends: it
		// must be known first. One read computes it and every part's, on two cores; the parts
		// then go out with these checksums (below), so nothing is hashed a third time.
		var whole string
		if whole, parts, err = hashParts(ctx, f, sip.Size, partSize, nil); err != nil {
			return rcpt, transfer.Permanent(fmt.Errorf("SIP %s: %w", sip.Name, err))
		}
		sip.SHA256 = whole
	case sip.SHA256 == "":
		// One part: the checksum header must be known before the first byte is sent.
		if err := sip.Prepare(ctx); err != nil {
			return rcpt, err
		}
	}
	rcpt.SHA256 = sip.SHA256

	meta := map[string]string{"sha256": sip.SHA256}
	for k, v := range origin(sip.Origin) {
		meta[k] = headerSafe(v)
	}
	if sip.MessageID != "" {
		meta["message-id"] = headerSafe(sip.MessageID)
	}
	if sip.ManifestDigest.Value != "" {
		meta["manifest-digest"] = sip.ManifestDigest.String()
	}
	tagging := tags(sip.Origin)
	var lockMode types.ObjectLockMode
	var until *time.Time
	if r := sip.Retention; r != nil {
		var mode types.ObjectLockMode
		switch strings.ToUpper(r.Mode) {
		case "COMPLIANCE":
			mode = types.ObjectLockModeCompliance
		case "GOVERNANCE":
			mode = types.ObjectLockModeGovernance
		default:
			return rcpt, transfer.Permanent(fmt.Errorf("retention mode %q: want COMPLIANCE or GOVERNANCE", r.Mode))
		}
		// A date already past protects nothing, and S3 refuses it ("the retain until date must
		// be in the future"): a SIP whose every DUA has ended, or a run as of a past date.
		if u := r.Until.UTC(); u.After(time.Now()) {
			lockMode, until = mode, &u
		}
	}
	var hold types.ObjectLockLegalHoldStatus
	if sip.LegalHold {
		hold = types.ObjectLockLegalHoldStatusOn
	}

	var expect string // checksum HeadObject must report
	if !multipart {
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
		created, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: &t.bucket, Key: &key, ContentType: aws.String("application/zip"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, Metadata: meta, Tagging: tagging,
			ObjectLockMode: lockMode, ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: hold,
		})
		if err != nil {
			return t.putFailed(ctx, key, sip, rcpt, err)
		}
		etag, version, sums, err := t.uploadParts(ctx, f, key, created.UploadId, sip.Size, partSize, parts, sip.SHA256)
		if err != nil {
			// Not left behind as hidden storage; a later run would abort it anyway (abortStale).
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			t.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &t.bucket, Key: &key, UploadId: created.UploadId}) //nolint:errcheck // the upload's error is the one to report
			// The SDK retries nothing (versement's decorator does), and a part cancelled on our
			// side may still land on the server after the abort: sweep the key's uploads again.
			for try := 0; try < 3 && t.abortStale(actx, key) != nil; try++ {
				time.Sleep(100 * time.Millisecond)
			}
			cancel()
			if errors.Is(err, transfer.ErrDigest) { // ours, not the server's (classify handles BadDigest)
				return rcpt, transfer.Permanent(fmt.Errorf("S3 upload of %s aborted: %w", sip.Name, err))
			}
			return t.putFailed(ctx, key, sip, rcpt, err)
		}
		expect = composite(sums)
		rcpt.ETag, rcpt.VersionID = etag, version
	}
	// Read back what the server stored, with its checksum.
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled, VersionId: nilIfEmpty(rcpt.VersionID)})
	if err != nil {
		return rcpt, classify(fmt.Errorf("S3 %s: uploaded, but HeadObject failed: %w", rcpt.Location, err))
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
		if done, err2 := t.already(ctx, key, &sip, &rcpt); err2 != nil || done {
			return rcpt, err2
		}
	}
	return rcpt, classify(fmt.Errorf("S3 upload of %s to %s: %w", sip.Name, rcpt.Location, err))
}

// already looks for key: the same SIP there → done; another one → conflict.
// Only then is the SIP's SHA-256 computed here, when the caller did not give it.
func (t *Target) already(ctx context.Context, key string, sip *transfer.SIP, rcpt *transfer.Receipt) (bool, error) {
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("S3 HeadObject %s: %w", rcpt.Location, err))
	}
	if err := sip.Prepare(ctx); err != nil {
		return false, err
	}
	rcpt.SHA256 = sip.SHA256
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

// classify says which failures retrying can cure, for the retry decorator, which knows nothing of
// S3: throttling, timeouts and 5xx are transient; BadDigest and the like are digest errors; other
// 4xx answers are permanent. Failures without an answer are transient when they are the
// network's (connection refused or reset, timeouts: transfer.Network), and left unmarked (not
// retried) otherwise. This is the one list of S3 error codes in versement.
func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
			"Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded":
			return transfer.Transient(err)
		case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch":
			return transfer.Permanent(fmt.Errorf("%w: %w", transfer.ErrDigest, err))
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		switch c := resp.HTTPStatusCode(); {
		case c >= 500 || c == 408 || c == 429:
			return transfer.Transient(err)
		case c >= 400:
			return transfer.Permanent(err)
		}
	}
	return transfer.Network(err)
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// origin is a SIP's Origin as metadata (and tag) names and values; empty values are left out.
func origin(o transfer.Origin) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"profile": o.Profile, "class": o.Class, "tier": o.Tier} {
		if v != "" {
			m[k] = v
		}
	}
	return m
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
func tags(o transfer.Origin) *string {
	q := url.Values{}
	for k, v := range origin(o) {
		q.Set(k, v)
	}
	if len(q) == 0 {
		return nil
	}
	return aws.String(q.Encode())
}

// testHookPartHashed, when set (tests), runs once a part's SHA-256 is computed, before that part is
// handed to the upload: a test changes the file there.
var testHookPartHashed func(path string, part int)

// hashParts reads size bytes of f once and returns their SHA-256 (hex) and the SHA-256 of each
// partSize slice; onPart, if not nil, gets each part's as soon as it is computed. The two hashes
// run on two goroutines fed from the same buffers (4 MiB in all), so the pass takes about one
// SHA-256's time on two cores.
func hashParts(ctx context.Context, f *os.File, size, partSize int64, onPart func(int, []byte)) (string, [][]byte, error) {
	const nbuf, bufSize = 4, 1 << 20
	type chunk struct {
		buf  []byte
		n    int
		left atomic.Int32
	}
	free := make(chan *chunk, nbuf)
	for range nbuf {
		free <- &chunk{buf: make([]byte, bufSize)}
	}
	release := func(c *chunk) {
		if c.left.Add(-1) == 0 {
			free <- c
		}
	}
	wholeCh, partCh := make(chan *chunk, nbuf), make(chan *chunk, nbuf)
	whole := sha256.New()
	parts := make([][]byte, 0, (size+partSize-1)/partSize)
	var wg sync.WaitGroup
	done := func(sum []byte) {
		parts = append(parts, sum)
		if testHookPartHashed != nil {
			testHookPartHashed(f.Name(), len(parts)-1)
		}
		if onPart != nil {
			onPart(len(parts)-1, sum)
		}
	}
	wg.Go(func() {
		for c := range wholeCh {
			whole.Write(c.buf[:c.n])
			release(c)
		}
	})
	wg.Go(func() {
		ph, inPart := sha256.New(), int64(0)
		for c := range partCh {
			b := c.buf[:c.n]
			for len(b) > 0 {
				k := min(int64(len(b)), partSize-inPart)
				ph.Write(b[:k])
				b, inPart = b[k:], inPart+k
				if inPart == partSize {
					done(ph.Sum(nil))
					inPart = 0
					ph.Reset()
				}
			}
			release(c)
		}
		if inPart > 0 {
			done(ph.Sum(nil))
		}
	})
	r := transfer.ContextReader(ctx, io.NewSectionReader(f, 0, size))
	var err error
	for read := int64(0); read < size; {
		c := <-free
		c.n, err = io.ReadFull(r, c.buf[:min(int64(bufSize), size-read)])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: %s is shorter than its %d bytes (changed while read?)", transfer.ErrDigest, f.Name(), size)
			} else {
				err = fmt.Errorf("read %s: %w", f.Name(), err)
			}
			break
		}
		read += int64(c.n)
		c.left.Store(2)
		wholeCh <- c
		partCh <- c
	}
	close(wholeCh)
	close(partCh)
	wg.Wait()
	if err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(whole.Sum(nil)), parts, nil
}

// uploadParts sends the parts of f, t.concurrency at a time, each straight from the file (no part
// buffers) with its SHA-256, which the server verifies, and completes the upload (If-None-Match: *
// against a concurrent writer). sums holds the parts' SHA-256 when they were computed before;
// otherwise (nil) they are computed here in one read that also hashes the whole file, each part
// sent as soon as its SHA-256 is known, and the whole must hash to want before completion. Any
// failure returns before CompleteMultipartUpload. It returns the part digests sent.
func (t *Target) uploadParts(ctx context.Context, f *os.File, key string, uploadID *string, size, partSize int64, sums [][]byte, want string) (etag, version string, _ [][]byte, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := int((size + partSize - 1) / partSize)
	ready := make(chan int, n) // at most 10000 ints: the hashing never waits for the network
	hashed := make(chan struct{})
	if sums != nil {
		for i := range n {
			ready <- i
		}
		close(ready)
		close(hashed)
	} else {
		sums = make([][]byte, n)
		go func() {
			defer close(hashed)
			defer close(ready)
			whole, _, err := hashParts(ctx, f, size, partSize, func(i int, sum []byte) { sums[i] = sum; ready <- i })
			switch {
			case err != nil:
				cancel(err)
			case whole != want:
				cancel(fmt.Errorf("%w: the file hashes to sha256 %s, the SIP was recorded as %s (changed since it was written?)", transfer.ErrDigest, whole, want))
			}
		}()
	}
	done := make([]types.CompletedPart, n)
	var wg sync.WaitGroup
	for range min(t.concurrency, n) {
		wg.Go(func() {
			for i := range ready {
				if ctx.Err() != nil {
					continue // drain: the hashing must not block
				}
				off := int64(i) * partSize
				n := min(partSize, size-off)
				sum := base64.StdEncoding.EncodeToString(sums[i])
				out, err := t.client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: &t.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(int32(i + 1)),
					Body: io.NewSectionReader(f, off, n), ContentLength: aws.Int64(n),
					ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(sum),
				})
				if err != nil {
					cancel(fmt.Errorf("part %d: %w", i+1, err))
					continue
				}
				if c := aws.ToString(out.ChecksumSHA256); c != "" && c != sum {
					cancel(fmt.Errorf("part %d: %w: the server acknowledged sha256 %s, sent %s", i+1, transfer.ErrDigest, c, sum))
					continue
				}
				done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumSHA256: aws.String(sum)}
			}
		})
	}
	wg.Wait()
	<-hashed
	if err := context.Cause(ctx); err != nil {
		return "", "", nil, err
	}
	out, err := t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &t.bucket, Key: &key, UploadId: uploadID, IfNoneMatch: aws.String("*"),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return "", "", nil, err
	}
	return aws.ToString(out.ETag), aws.ToString(out.VersionId), sums, nil
}

// composite is S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256 digests,
// base64, then "-N". The part digests are those computed with the whole file's in hashParts, and
// the server verified each on receipt.
func composite(parts [][]byte) string {
	c := sha256.New()
	for _, p := range parts {
		c.Write(p)
	}
	return base64.StdEncoding.EncodeToString(c.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}
