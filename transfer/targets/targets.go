// Package targets opens a transfer.Target from its URL, with the decorators the options ask for:
//
//	dir:///srv/depot            a local folder
//	s3://bucket/prefix?…        an S3 drop zone
//	vitam+https://host:port?…   VITAM ingest-external
//
// Each backend parses its own URL (dir.ParseURL, s3.ParseURL, vitam.ParseURL) and takes its own
// Options (Options.S3, Options.VITAM); this package only dispatches on the scheme and adds the
// decorators. A URL carrying credentials in any part (user info, or a URL
// with user info nested in a parameter such as endpoint= or admin=) is refused whatever its
// scheme: credentials come from the environment or files, and a target's URL goes into logs,
// reports, state.db and the hash-chained ledger, where a secret could never be scrubbed.
//
// It lives apart from package transfer so that the backends can import transfer's types.
package targets

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/versement/versement/internal/redact"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/retry"
	"github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/vitam"
)

// Options tune how Open builds a target: the decorators' settings here, each backend's own in
// its field. The zero value is usable.
type Options struct {
	// DryRun: dir and s3 are wrapped in the dry-run decorator, which sends nothing and says what
	// it would do; vitam sends with X-Context-Id BLANK_TEST (VITAM checks the SIP, stores
	// nothing; vitam.Options.BlankTest).
	DryRun bool
	// Retries bounds the retry decorator: 0 means retry.DefaultPolicy, < 0 disables it.
	// RetryBackoff is its first backoff (default retry.DefaultPolicy's).
	Retries      int
	RetryBackoff time.Duration
	Logger       *slog.Logger

	S3    s3.Options    // multipart uploads
	VITAM vitam.Options // polling, application id
}

// Log returns the logger to use.
func (o Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Check says whether Open would accept raw's syntax, without opening anything: no folder is
// created, no configuration, credential or certificate is read, nothing is sent. For checking a
// jobs file, and for the preflight of a run that must create nothing when it fails. The messages
// are Open's: each backend parses its own URL (dir.ParseURL, s3.ParseURL, vitam.ParseURL).
func Check(raw string) error {
	scheme, err := precheck(raw)
	if err != nil {
		return err
	}
	switch scheme {
	case "dir":
		err = dir.Check(raw)
	case "s3":
		err = s3.Check(raw)
	case "vitam+https":
		err = vitam.Check(raw)
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
func Open(ctx context.Context, raw string, opts Options) (transfer.Target, error) {
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
		t, err = s3.Open(ctx, raw, opts.S3)
	case "vitam+https":
		vo := opts.VITAM
		vo.BlankTest = vo.BlankTest || opts.DryRun
		t, err = vitam.Open(ctx, raw, vo)
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
