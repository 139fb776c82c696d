package index

import (
	"context"
	"errors"
	"time"
)

// Identifier is one of a dossier's identifiers the profile names as searchable, e.g.
// {"COD_ETU", "20000001"} or {"INE", "0123456789A"}.
type Identifier struct{ Name, Value string }

// Person is whom a dossier is about. BirthDate is YYYY-MM-DD or "".
type Person struct {
	FirstName, BirthName, UsageName string
	BirthDate                       string
}

// Object is one file of the dossier inside its SIP: Name is its path in the zip (e.g.
// Content/D000001-2.json).
type Object struct {
	Name                    string
	Size                    int64
	Algorithm, Digest, MIME string
}

// Entry is what the index knows of one archived dossier. (Profile, Key) is unique: Key is the
// dossier's key (SEDA OriginatingSystemId). Dates are YYYY-MM-DD; the registration years of a
// dossier are the years StartDate..EndDate covers.
type Entry struct {
	Profile, Class, Tier, Key string
	Title                     string
	Identifiers               []Identifier
	Person                    Person
	StartDate, EndDate        string
	// The appraisal rule (DUAEnd is YYYY-MM-DD) and the access rule.
	Rule, FinalAction, RuleStart, DUAEnd string
	AccessRule, AccessStart, AccessEnd   string
	// SIP is the SIP's name at the target, SIPDigest its SHA-256, Target the target's URL
	// (without secrets).
	SIP, SIPDigest, Target string
	Objects                []Object
	// Operation and SystemID are VITAM's ingest operation id and the unit's SystemId from the ATR
	// (empty for other targets).
	Operation, SystemID string
	Archived            time.Time
}

// Store is a consultation index.
type Store interface {
	// Put records entries, replacing the entry of a dossier archived again (same Profile and
	// Key). A batch is one transaction: all of it or none.
	Put(ctx context.Context, entries ...Entry) error
	// Get returns one entry; an absent one is an error wrapping ErrNotFound.
	Get(ctx context.Context, profile, key string) (Entry, error)
	// Search returns the entries matching q, best first. A bad query is an error wrapping
	// ErrBadQuery (see Query.Normalize).
	Search(ctx context.Context, q Query) ([]Match, error)
	// Forget removes an entry (a dossier eliminated); an absent entry is not an error.
	Forget(ctx context.Context, profile, key string) error
	// Count is the number of entries.
	Count(ctx context.Context) (int64, error)
	Close() error
}

var (
	// ErrNotFound is wrapped by Get for an entry the index does not hold.
	ErrNotFound = errors.New("not in the index")
	// ErrBadQuery is wrapped by Search for a query it refuses.
	ErrBadQuery = errors.New("bad query")
)
