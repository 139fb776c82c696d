// Package targets opens a transfer.Target from its URL, with the decorators the options ask for:
//
//	dir:///srv/depot            a local folder
//	s3://bucket/prefix?…        an S3 drop zone
//	vitam+https://host:port?…   VITAM ingest-external
//
// Each backend parses its own URL. A URL carrying credentials in any part (user info, or a URL
// with user info nested in a parameter such as endpoint= or admin=) is refused whatever its
// scheme: credentials come from the environment or files, and a target's URL goes into logs,
// reports, state.db and the hash-chained ledger, where a secret could never be scrubbed.
//
// It lives apart from package transfer so that the backends can import transfer's types.
package targets

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"

	"github.com/versement/versement/internal/redact"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/retry"
	"github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/vitam"
)

// Check says whether Open would accept raw's syntax, without opening anything: no folder is
// created, no configuration, credential or certificate is read, nothing is sent. For checking a
// jobs file, and for the preflight of a run that must create nothing when it fails. The messages
// are Open's.
func Check(raw string) error {
	scheme, err := precheck(raw)
	if err != nil {
		return err
	}
	switch scheme {
	case "dir":
		_, _, err = dir.Parse(raw)
	case "s3":
		err = s3.Check(raw)
	case "vitam+https":
		// The client certificate is not read here: an empty TLS configuration stands in for it.
		var t *vitam.Target
		if t, err = vitam.New(raw, transfer.Options{}, &tls.Config{}); err == nil {
			t.Close()
		}
	}
	return err
}

// precheck is what Open and Check share before the backend parses its URL: a URL, no
// credentials in it, a known scheme.
func precheck(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil && !strings.HasPrefix(raw, "s3://") && !strings.HasPrefix(raw, "dir://") {
		return "", fmt.Errorf("target %q: not a URL", transfer.Redact(raw))
	}
	scheme := strings.ToLower(strings.SplitN(raw, ":", 2)[0])
	if where := redact.Credentials(raw); where != "" && scheme != "s3" && scheme != "dir" { // those two say it their way
		return "", fmt.Errorf("target %s: credentials do not belong in the URL (%s holds some): they come from the environment or files", transfer.Redact(raw), where)
	}
	switch scheme {
	case "dir", "s3", "vitam+https":
		return scheme, nil
	case "vitam+http", "http":
		return "", fmt.Errorf("target %s: VITAM is reached over HTTPS with a client certificate only (vitam+https://)", transfer.Redact(raw))
	}
	return "", fmt.Errorf("target %q: unknown scheme %q (want dir://, s3:// or vitam+https://)", transfer.Redact(raw), u.Scheme)
}

// Open returns the target for raw, wrapped in retries (unless opts.Retries < 0) and, for dir and
// s3, in the dry-run decorator when opts.DryRun is set (VITAM's dry run is its BLANK_TEST context).
func Open(ctx context.Context, raw string, opts transfer.Options) (transfer.Target, error) {
	// The URL first, so that a mistake in it is what the user reads, not a missing certificate.
	if err := Check(raw); err != nil {
		return nil, err
	}
	scheme, err := precheck(raw)
	if err != nil {
		return nil, err
	}
	var t transfer.Target
	switch scheme {
	case "dir":
		t, err = dir.Open(raw)
	case "s3":
		t, err = s3.Open(ctx, raw, opts)
	case "vitam+https":
		t, err = vitam.Open(ctx, raw, opts)
	}
	if err != nil {
		return nil, err
	}
	if opts.DryRun && scheme != "vitam+https" {
		t = dryrun.Wrap(t)
	}
	if opts.Retries >= 0 {
		p := retry.DefaultPolicy
		if opts.Retries > 0 {
			p.Attempts = opts.Retries + 1
		}
		if opts.RetryBackoff > 0 {
			p.Base = opts.RetryBackoff
		}
		p.Log = opts.Log()
		t = retry.Wrap(t, p)
	}
	return t, nil
}
