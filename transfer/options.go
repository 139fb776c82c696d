package transfer

import (
	"log/slog"
	"time"
)

// Options tune how targets.Open builds a target. The zero value is usable.
type Options struct {
	// DryRun: dir and s3 send nothing and say what they would do; vitam sends with
	// X-Context-Id BLANK_TEST (VITAM checks the SIP, stores nothing).
	DryRun bool
	// PollInterval between VITAM status requests (default 60 s: VITAM asks for no less than a
	// minute); PollTimeout bounds the wait for one operation (default 6 h).
	PollInterval time.Duration
	PollTimeout  time.Duration
	// ApplicationID is sent to VITAM as X-Application-Id (default "versement").
	ApplicationID string
	// PartSize and Concurrency of S3 multipart uploads (defaults 8 MiB and 4; parts are read from
	// the file as they are sent, so memory does not depend on either); SIPs smaller than
	// MultipartThreshold (default 64 MiB) go in one PutObject.
	PartSize           int64
	Concurrency        int
	MultipartThreshold int64
	// Retry bounds the retry decorator; zero means retry.DefaultPolicy. Retries < 0 disables it.
	Retries      int
	RetryBackoff time.Duration
	Logger       *slog.Logger
}

// Log returns the logger to use.
func (o Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}
