package accesslog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is the value of every entry's "kind" field.
const Kind = "access"

// Version of the entry format, written in every entry.
const Version = 1

// Operation is what was done.
type Operation string

// Operations.
const (
	OpSearch    Operation = "search"     // a search in the index: Criteria, and Found for what it returned
	OpView      Operation = "view"       // a dossier's fiche shown (on screen or printed)
	OpDownload  Operation = "download"   // a dossier's objects, or its DIP-like zip, downloaded
	OpAccessLog Operation = "access-log" // the list of a dossier's accesses read
)

var operations = []Operation{OpSearch, OpView, OpDownload, OpAccessLog}

// Result is how the operation ended.
type Result string

// Results.
const (
	ResultOK       Result = "ok"
	ResultRefused  Result = "refused"   // the user may not (Reason says why)
	ResultNotFound Result = "not-found" // no such dossier, or a search that found nothing
	// ResultFailed: allowed, but the dossier could not be read (its SIP unreachable, or its bytes
	// not those the manifest declares): nothing was shown. Reason says what failed.
	ResultFailed Result = "failed"
)

var results = []Result{ResultOK, ResultRefused, ResultNotFound, ResultFailed}

// How a user was authenticated (User.Via).
const (
	ViaOIDC  = "oidc"  // the establishment's OpenID Connect provider
	ViaProxy = "proxy" // a trusted reverse proxy's header (CAS, Shibboleth)
	ViaLocal = "local" // a local account (the demo mode)
	ViaCLI   = "cli"   // the command line: the operating system's user, or --as
)

var vias = []string{ViaOIDC, ViaProxy, ViaLocal, ViaCLI}

// User is who did it. It has roles.User's fields, so that accesslog.User(u) converts one.
type User struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups,omitempty"`
	Via    string   `json:"via"`
}

// Motive is why: a category from the roles file's list and the user's own words.
type Motive struct {
	Category string `json:"category,omitempty"`
	Text     string `json:"text,omitempty"`
}

// Dossier names one archived dossier.
type Dossier struct {
	Profile string `json:"profile"`
	Key     string `json:"key"`
}

// Entry is one line of the access log. Kind comes first, so that the file's first bytes say what
// it is; the chain fields follow; "hash" is last (see package chain).
type Entry struct {
	Kind string    `json:"kind"` // always Kind; Append sets it
	V    int       `json:"v"`
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"` // when, in UTC
	Prev string    `json:"prev"`

	User      User      `json:"user"`
	Client    string    `json:"client,omitempty"` // where from: the client's address, or "cli@HOST"
	Operation Operation `json:"op"`

	// The dossier viewed, downloaded or whose accesses were listed; for a search, the profile,
	// class and tier searched when it was limited to one.
	Profile string `json:"profile,omitempty"`
	Class   string `json:"class,omitempty"`
	Tier    string `json:"tier,omitempty"`
	Key     string `json:"key,omitempty"`

	// A search's criteria (field → value as typed: "name": "Dupont", "born": "1990") and every
	// dossier it returned: a data subject's "who read my record" includes who saw it in a list.
	Criteria map[string]string `json:"criteria,omitempty"`
	// Object is the file a download took (its name in the SIP), or "" for the whole dossier.
	Object string    `json:"object,omitempty"`
	Found  []Dossier `json:"found,omitempty"`

	Motive Motive `json:"motive,omitzero"`
	Result Result `json:"result"`
	// Reason says why it was refused, as a code (roles' Decision.Reason: "tier-not-allowed");
	// for not-found, what was not found, when it helps.
	Reason string `json:"reason,omitempty"`

	Hash string `json:"hash"`
}

// Touches reports whether the entry concerns the dossier profile/key: it was the one viewed,
// downloaded or listed, or a search returned it.
func (e Entry) Touches(profile, key string) bool {
	if e.Key == key && e.Profile == profile {
		return true
	}
	return slices.Contains(e.Found, Dossier{Profile: profile, Key: key})
}

// check says what makes e unfit to be logged: an entry that could not answer "who did what to
// which dossier, why, and with what result" is refused, so that the caller does not go on to show
// a dossier whose consultation left no usable trace.
func (e *Entry) check() error {
	var bad []string
	if !slices.Contains(operations, e.Operation) {
		bad = append(bad, fmt.Sprintf("operation %q is not one of %s", e.Operation, join(operations)))
	}
	if !slices.Contains(results, e.Result) {
		bad = append(bad, fmt.Sprintf("result %q is not one of %s", e.Result, join(results)))
	}
	if strings.TrimSpace(e.User.ID) == "" {
		bad = append(bad, "no user id")
	}
	if !slices.Contains(vias, e.User.Via) {
		bad = append(bad, fmt.Sprintf("user.via %q is not one of %s", e.User.Via, strings.Join(vias, ", ")))
	}
	switch e.Operation {
	case OpView, OpDownload, OpAccessLog:
		if e.Profile == "" || e.Key == "" {
			bad = append(bad, fmt.Sprintf("a %s names its dossier: profile and key", e.Operation))
		}
	case OpSearch:
		if len(e.Criteria) == 0 {
			bad = append(bad, "a search records its criteria")
		}
	}
	if e.Result == ResultRefused && e.Reason == "" {
		bad = append(bad, "a refusal says why (reason)")
	}
	if e.Result == ResultFailed && e.Reason == "" {
		bad = append(bad, "a failure says why (reason)")
	}
	if e.Result == ResultOK && (e.Operation == OpView || e.Operation == OpDownload) && e.Motive.Category == "" {
		bad = append(bad, fmt.Sprintf("a %s that was allowed has a motive", e.Operation))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func join[T ~string](v []T) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
