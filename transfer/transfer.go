package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/versement/versement/internal/redact"
)

// Target is one destination for SIPs. Implementations: dir (a local folder), s3 (an S3 drop zone),
// vitam (VITAM ingest-external). Decorators (retry, dry run) wrap any of them.
type Target interface {
	// Put sends one SIP and returns the destination's receipt. Put is idempotent: a SIP already
	// there under the same name with the same SHA-256 is not sent again (Receipt.AlreadyThere);
	// one there with another checksum is an error wrapping ErrConflict, and nothing is overwritten.
	Put(ctx context.Context, sip SIP) (Receipt, error)
	// Stat describes the SIP stored under name, or returns an error wrapping ErrNotExist.
	Stat(ctx context.Context, name string) (Object, error)
	// List calls fn for every SIP stored at the target, in name order where the target allows.
	List(ctx context.Context, fn func(Object) error) error
	// String is the target's URL without secrets: what logs and the ledger show.
	String() string
	Close() error
}

// Resumer is implemented by targets where a Put can end before the archive's verdict (VITAM: the
// operation was accepted but polling stopped). Resume waits for that verdict again instead of
// sending the SIP a second time.
type Resumer interface {
	Resume(ctx context.Context, sip SIP, operation string) (Receipt, error)
}

// Indexed is implemented by targets that keep each SIP under its name and answer for it: Put is
// idempotent by name (the same bytes there: nothing is sent, Receipt.AlreadyThere; other bytes:
// an error wrapping ErrConflict, nothing overwritten), Stat finds a SIP by name (ErrNotExist when
// it is not there) and List lists them. dir and s3 are; VITAM is not: it archives what it is sent
// under identifiers of its own, its ingest API cannot be asked by name, so every Put is an ingest
// and Stat and List answer ErrNotSupported; exactly-once there rests on the ledger. Find it with
// As: the decorators do not claim it, they let As reach the target they wrap.
type Indexed interface {
	Target
	// IndexedByName marks the capability; it does nothing.
	IndexedByName()
}

// Prober is implemented by targets that can tell, before a run sends anything, whether a SIP could
// be stored there: a folder that is writable, a bucket that exists and lets the credentials in. A
// run's preflight calls it so that a read-only target fails before the plan, not 27 s later. Probe
// leaves nothing behind. Find it with As: the decorators do not forward it (a preflight is not
// retried).
type Prober interface {
	Probe(ctx context.Context) error
}

// As finds, in t and the targets it decorates (through their Unwrap() Target method), the first
// that implements T: a capability lookup that does not depend on every decorator forwarding every
// optional interface. A decorator implements a capability itself only when it must act on it
// (retry and dryrun are Resumers exactly when the target they wrap is, forwarding Resume to it);
// otherwise (Prober, Indexed) it does not, and As finds the wrapped target's. Callers look
// capabilities up with As, never with a type assertion on a possibly wrapped target.
func As[T any](t Target) (T, bool) {
	for t != nil {
		if v, ok := t.(T); ok {
			return v, true
		}
		u, ok := t.(interface{ Unwrap() Target })
		if !ok {
			break
		}
		t = u.Unwrap()
	}
	var zero T
	return zero, false
}

// SIP is one finished package on local disk, with what was computed when it was written.
type SIP struct {
	Name           string     // name at the target (file name or object key below the prefix), e.g. "apogee-etudiant-final-00001.zip"
	Path           string     // the zip on local disk
	Size           int64      // bytes; 0 means "stat the file"
	SHA256         string     // lowercase hex of the whole zip; empty means "compute it" (the S3 target does so in the read that hashes the parts; others read once more)
	ManifestDigest Digest     // digest of manifest.xml inside the zip (VITAM's X-Manifest-Digest-*)
	MessageID      string     // the manifest's MessageIdentifier
	Origin         Origin     // where its dossiers come from: recorded in the ledger, stored as object metadata and tags where the target can
	Retention      *Retention // optional S3 Object Lock retention
	LegalHold      bool       // optional S3 Object Lock legal hold
	// Handover says the file at Path is the caller's own, already synced, written to by no one
	// and removed once Put succeeds (the pipeline's spool): a target on the same file system may
	// keep that very file (a hard link) instead of a copy, so that its bytes are written once. A
	// file a user gave (versement transfer) is never handed over: editing it would edit the
	// archive.
	Handover bool
}

// Origin says which profile, class and retention tier a SIP's dossiers belong to. The ledger
// records it (profile, class, tier: what a rerun needs to be exactly-once); S3 stores it as
// object metadata and tags, for lifecycle rules.
type Origin struct {
	Profile string // the profile's name, e.g. "apogee"
	Class   string // the dossiers' class, e.g. "etudiant"; may be empty
	Tier    string // "intermediate" or "final"
}

// Digest is an algorithm name as SEDA/VITAM spell it ("SHA-256", "SHA-512") and a lowercase hex value.
type Digest struct {
	Algo  string `json:"algo"`
	Value string `json:"value"`
}

func (d Digest) String() string {
	if d.Value == "" {
		return ""
	}
	return d.Algo + ":" + d.Value
}

// Retention is an S3 Object Lock retention: Mode is "COMPLIANCE" or "GOVERNANCE". An Until
// already past asks for no retention (there is nothing left to protect, and S3 refuses one).
type Retention struct {
	Mode  string
	Until time.Time
}

// Receipt is what the destination acknowledged.
type Receipt struct {
	Target       string    `json:"target"`               // URL without secrets
	Name         string    `json:"name"`                 // SIP name at the target
	Location     string    `json:"location,omitempty"`   // path, s3://bucket/key, or VITAM operation URL
	Size         int64     `json:"size"`                 // bytes sent (or found)
	SHA256       string    `json:"sha256"`               // hex, as verified at the target where it can
	ETag         string    `json:"etag,omitempty"`       // S3
	VersionID    string    `json:"version_id,omitempty"` // S3 with versioning
	Checksum     string    `json:"checksum,omitempty"`   // S3 x-amz-checksum-sha256 as the server reports it (base64, "-N" for multipart)
	Operation    string    `json:"operation,omitempty"`  // VITAM operation id (X-Request-Id)
	ReplyCode    string    `json:"reply_code,omitempty"` // VITAM ATR ReplyCode: OK, WARNING, KO, FATAL ("Test OK" in BLANK_TEST)
	ATR          []byte    `json:"-"`                    // VITAM ArchiveTransferReply as received
	AlreadyThere bool      `json:"already_there"`        // nothing was sent: the same SIP was already at the target
	DryRun       bool      `json:"dry_run,omitempty"`    // nothing was sent: dry run
	Time         time.Time `json:"time"`
}

// Object is a SIP as a target stores it.
type Object struct {
	Name      string
	Size      int64
	SHA256    string // hex, empty when the target does not know it
	Checksum  string // S3: x-amz-checksum-sha256 as the server computed it (base64, "-N" for multipart)
	ModTime   time.Time
	VersionID string
}

// CheckName refuses an object name that could reach outside a target's root once joined to it
// (absolute, "..", backslashes, NUL). Names come from the command line and from ledgers, which an
// auditor may be handed by someone else.
func CheckName(name string) error {
	if strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") || strings.Contains("/"+name+"/", "/../") {
		return fmt.Errorf("SIP name %q: must be a relative name without \"..\" or backslashes", name)
	}
	return nil
}

// Prepare fills in Size and SHA256 from the file when the caller did not give them, and checks the
// given SHA256's syntax. It reads the file only when SHA256 is empty, and stops when ctx ends.
func (s *SIP) Prepare(ctx context.Context) error {
	if err := s.Check(); err != nil {
		return err
	}
	if s.SHA256 == "" {
		sum, err := fileSHA256(ctx, s.Path)
		if err != nil {
			return Permanent(fmt.Errorf("SIP %s: %w", s.Name, err))
		}
		s.SHA256 = sum
	}
	return s.Check()
}

// Check is Prepare without the hashing: it checks the name, fills in Size from the file (or checks
// the given one) and checks SHA256's syntax when it is given. A target that computes the SHA-256
// in a read it does anyway (S3: the same read that hashes the parts) calls Check, not Prepare.
func (s *SIP) Check() error {
	if s.Name == "" {
		return fmt.Errorf("SIP %s: no name", s.Path)
	}
	if err := CheckName(s.Name); err != nil {
		return Permanent(err)
	}
	fi, err := os.Stat(s.Path)
	if err != nil {
		return Permanent(fmt.Errorf("SIP %s: %w", s.Name, err))
	}
	if s.Size == 0 {
		s.Size = fi.Size()
	} else if s.Size != fi.Size() {
		return Permanent(fmt.Errorf("SIP %s: %s is %d bytes, the caller said %d", s.Name, s.Path, fi.Size(), s.Size))
	}
	if s.SHA256 == "" {
		return nil
	}
	if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(s.SHA256) != s.SHA256 {
		return Permanent(fmt.Errorf("SIP %s: SHA-256 %q is not 64 lowercase hex digits", s.Name, s.SHA256))
	}
	return nil
}

// FileSHA256 returns the lowercase hex SHA-256 of a file.
func FileSHA256(path string) (string, error) { return fileSHA256(context.Background(), path) }

// FileSHA256Context is FileSHA256 stopping when ctx ends.
func FileSHA256Context(ctx context.Context, path string) (string, error) {
	return fileSHA256(ctx, path)
}

// fileSHA256 is FileSHA256 stopping when ctx ends: a SIP can be many gigabytes.
func fileSHA256(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ContextReader(ctx, f)); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Redact returns raw with its secrets hidden (internal/redact's policy) and its query parameters
// in key order, so that one target always has one spelling: what logs, reports and the ledger
// show, and what the ledger matches entries on.
func Redact(raw string) string {
	s := redact.URL(raw)
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	// Encoded in key order, with ':', '/' and '@' left readable.
	u.RawQuery = strings.NewReplacer("%3A", ":", "%2F", "/", "%40", "@").Replace(u.Query().Encode())
	return u.String()
}

// Sleep waits d, or less when ctx ends first (then it returns ctx's error): a backoff or a poll
// interval must not hold up a cancelled run.
func Sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// ContextReader returns a reader that fails with ctx's error once ctx ends, so that a long copy
// or hash of a SIP stops at the next read.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
