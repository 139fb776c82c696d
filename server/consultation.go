package server

import (
	"context"
	"errors"
	"html/template"
	"io"
	"time"

	"golang.org/x/text/language"
)

// User is who signed on, as the sign-on said it: the consultation decides from Groups what they
// may see, and writes ID in the access log.
type User struct {
	ID     string   // stable identifier: the OIDC claim named by OIDCConfig.UserClaim, the proxy's user header, or the demo user's name
	Name   string   // shown in the page header; ID when the sign-on gives no name
	Groups []string // from the OIDC groups claim, the proxy's groups header, or the demo configuration
	Via    string   // "oidc", "proxy" or "local"
}

// The ways a User signed on, in User.Via.
const (
	ViaOIDC  = "oidc"
	ViaProxy = "proxy"
	ViaLocal = "local"
)

// Motive is why a person consults: one of the categories of Consultation.Motives and a free text,
// both required on every search and consultation.
type Motive struct {
	Category string // a MotiveCategory.ID
	Text     string
}

// MotiveCategory is one choice of the motive's list, with its label in the page's language.
type MotiveCategory struct {
	ID, Label string
}

// SearchQuery is what the search form asks; empty fields are not criteria. The server checks
// that at least one of Text, Identifier and Year is given.
type SearchQuery struct {
	Text       string    // names, typos and accents tolerated by the consultation
	Identifier string    // COD_ETU, INE, matricule…
	Born       time.Time // zero when not given
	Year       int       // year of registration; 0 when not given
}

// SearchResult is a table of matches: one Hit a row, Columns its header, in French.
type SearchResult struct {
	Columns []string
	Hits    []Hit
	More    bool // there are more matches than Hits: the page asks for a narrower search
}

// Hit is one dossier found. Ref is opaque to the server and never carries personal data; it is
// only ever sent back to the Consultation, and never reaches a URL: the pages show a random
// handle bound to the session instead.
type Hit struct {
	Ref   string
	Cells []string // one a column
}

// Fiche is one dossier's page: Body is rendered as is inside the server's layout, so it must be
// HTML the Consultation built safely (html/template) without inline styles or scripts (the
// Content-Security-Policy forbids both). Downloads are the objects offered for download.
type Fiche struct {
	Title     string
	Body      template.HTML
	Downloads []Download
}

// Download is one downloadable item of a Fiche: ID is passed back to Consultation.Download and
// never shown in a URL (the page numbers the items instead).
type Download struct {
	ID    string
	Label string // e.g. "Photo (JPEG, 24 Kio)" or "Dossier complet (zip)"
}

// Object is the content of a download. The server closes Body. When reading Body fails (a digest
// that does not match the manifest, found at the end), the server cuts the connection, so that the
// browser reports a failed download rather than keeping a truncated file.
type Object struct {
	Name        string // file name offered to the browser; the server keeps only safe characters
	ContentType string
	Size        int64 // -1 when not known
	Body        io.ReadCloser
}

// Table is rows under a header, such as the access log of one dossier.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Consultation is what the web pages call to find and show dossiers: it decides who may see what
// and writes every search, view and refusal in the access log. The server only renders, signs
// on and protects. Errors: a Refusal (see Refuse) or any error wrapping ErrRefused gives a 403
// page, ErrNotFound a 404 page; any other error gives a 500 page without details to the user, and
// its text goes to the server log, so it must carry no personal data.
type Consultation interface {
	// Motives lists the motive categories, labelled in language tag.
	Motives(tag language.Tag) []MotiveCategory
	Search(ctx context.Context, u User, q SearchQuery, m Motive) (SearchResult, error)
	Fiche(ctx context.Context, u User, ref string, m Motive) (Fiche, error)
	// Download returns an item of the dossier's Fiche.Downloads; it must decide (and refuse)
	// before returning, as the server starts writing when it gets the Object.
	Download(ctx context.Context, u User, ref, item string, m Motive) (Object, error)
	// AccessLog lists every access to the dossier; that listing is itself a consultation.
	AccessLog(ctx context.Context, u User, ref string, m Motive) (Table, error)
}

// ErrRefused is the error of a consultation the user may not make: 403.
var ErrRefused = errors.New("refused")

// ErrNotFound is the error of a dossier that is not (or no longer) there: 404.
var ErrNotFound = errors.New("not found")

// Refusal is a refusal with the message the user reads on the 403 page (in French); it is
// ErrRefused for errors.Is.
type Refusal struct{ Message string }

func (r *Refusal) Error() string { return "refused: " + r.Message }

// Is makes errors.Is(refusal, ErrRefused) true.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Refuse is a refusal whose message the user reads.
func Refuse(message string) error { return &Refusal{Message: message} }
