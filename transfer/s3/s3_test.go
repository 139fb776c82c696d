package s3_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	ts3 "github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/targets"
)

// noCredentials empties the SDK's credential chain: no keys, no profile, no files.
func noCredentials(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_EC2_METADATA_DISABLED", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "us-east-1")
}

// Every part of the URL is checked for credentials, and the message says where, never what.
func TestURLErrors(t *testing.T) {
	noCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testsk")
	for raw, want := range map[string]string{
		"s3://": `S3 target "s3:": want s3://bucket/prefix?endpoint=…&region=…&path-style=true`,
		"s3://AK:S3KR1T@bucket/p": "S3 target s3://AK:xxxxx@bucket/p: credentials do not belong in the URL (user info holds some): " +
			"set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://AK:S3/KR1T@bucket/p": "S3 target s3://AK:xxxxx@bucket/p: credentials do not belong in the URL (user info holds some): " +
			"set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://AK:S3@KR1T@bucket/p": "S3 target s3://AK:xxxxx@bucket/p: credentials do not belong in the URL (user info holds some): " +
			"set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://AK:S3#KR1T@bucket/p": "S3 target s3://AK:xxxxx@bucket/p: credentials do not belong in the URL (user info holds some): " +
			"set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://bucket?endpoint=http://AK:S3KR1T@host:9000&path-style=true": "S3 target s3://bucket?endpoint=http://AK:xxxxx@host:9000&path-style=true: " +
			"credentials do not belong in the URL (the endpoint= parameter holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://bucket?endpoint=http://AK:S3@KR1T@host": "S3 target s3://bucket?endpoint=http://AK:xxxxx@host: " +
			"credentials do not belong in the URL (the endpoint= parameter holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://bucket?endpoint=https://S3KR1T@host": "S3 target s3://bucket?endpoint=https://xxxxx@host: " +
			"credentials do not belong in the URL (the endpoint= parameter holds some): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
		"s3://bucket?endpoint=http://h&token=S3KR1T": `S3 target s3://bucket?endpoint=http://h&token=xxxxx: unknown parameter "token" (known: endpoint, region, path-style)`,
		"s3://bucket?endpoint=ftp://h":               `S3 target s3://bucket?endpoint=ftp://h: endpoint "ftp://h": want http(s)://host:port`,
		"s3://bucket?path-style=maybe":               `S3 target s3://bucket?path-style=maybe: path-style="maybe": want true or false`,
		"s3://bucket?endpoint=http://h&x=1":          `S3 target s3://bucket?endpoint=http://h&x=1: unknown parameter "x" (known: endpoint, region, path-style)`,
	} {
		_, err := ts3.Open(context.Background(), raw, ts3.Options{})
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "KR1T") {
			t.Errorf("secret in error: %v", err)
		}
	}
}

// With no credentials and a custom endpoint, the SDK's chain ends at the EC2 instance metadata
// service, which is AWS's: outside AWS the request times out, and the user reads a long SDK error.
// Open must not call it, and say what to set.
func TestNoCredentialsNeverAsksEC2Metadata(t *testing.T) {
	noCredentials(t)
	var imdsHits atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imdsHits.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer imds.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	raw := "s3://depot/sips?endpoint=http://127.0.0.1:1&path-style=true"
	start := time.Now()
	_, err := ts3.Open(context.Background(), raw, ts3.Options{})
	want := "S3 target s3://depot/sips?endpoint=http://127.0.0.1:1&path-style=true: no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if n := imdsHits.Load(); n != 0 {
		t.Fatalf("the EC2 metadata endpoint was called %d times", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v", d)
	}
	// Through targets.Open (what the commands call), the same message.
	if _, err := targets.Open(context.Background(), raw, targets.Options{}); err == nil || err.Error() != want {
		t.Fatalf("targets.Open: got %v", err)
	}
}

// One retry layer: a server answering 503 gets as many requests as the decorator's attempts,
// not SDK tries × decorator tries. The in-process server only counts; versitygw cannot be made to
// answer 503 on demand.
func TestOneRetryLayer(t *testing.T) {
	noCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testsk")
	t.Setenv("AWS_MAX_ATTEMPTS", "7") // ignored: it would stack SDK retries under the decorator's
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	raw := "s3://depot/sips?endpoint=" + srv.URL + "&path-style=true"

	direct, err := ts3.Open(context.Background(), raw, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = direct.Stat(context.Background(), "a.zip")
	var tr *transfer.TransientError
	if !errors.As(err, &tr) || hits.Load() != 1 {
		t.Fatalf("without the decorator: %d requests, err %v (want 1 request, a transient error)", hits.Load(), err)
	}

	hits.Store(0)
	tg, err := targets.Open(context.Background(), raw, targets.Options{Retries: 2, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Stat(context.Background(), "a.zip")
	if n := hits.Load(); n != 3 {
		t.Fatalf("%d requests for 3 attempts (err %v)", n, err)
	}
	want := tg.String() + ": gave up after 3 attempts: S3 HeadObject s3://depot/sips/a.zip: operation error S3: HeadObject, " +
		"https response error StatusCode: 503, RequestID: , HostID: , api error ServiceUnavailable: Service Unavailable"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// The s3 backend reads its own URL; a Config built by hand names the same target.
func TestParseURL(t *testing.T) {
	raw := "s3://depot/apogee/sips/?region=eu-west-3&path-style=true&endpoint=https://s3.example.org:9000"
	c, err := ts3.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := ts3.Config{Bucket: "depot", Prefix: "apogee/sips", Endpoint: "https://s3.example.org:9000", Region: "eu-west-3", PathStyle: true}
	if c.Bucket != want.Bucket || c.Prefix != want.Prefix || c.Endpoint != want.Endpoint || c.Region != want.Region || !c.PathStyle {
		t.Fatalf("%+v", c)
	}
	if c.String() != transfer.Redact(raw) {
		t.Errorf("String %s, want %s", c, transfer.Redact(raw))
	}
	if got := want.String(); got != "s3://depot/apogee/sips?endpoint=https://s3.example.org:9000&path-style=true&region=eu-west-3" {
		t.Errorf("a Config built by hand: %s", got)
	}
}
