// Package roles says who may consult which archived dossiers, and who may read the access log,
// from a YAML file the establishment writes (see Example): roles named after services, each with
// the sign-on groups that hold it and what it may consult (profiles, classes, tiers), and the
// list of motive categories a consultation must give.
//
// The rules it enforces are the CNIL's for archived personal data (délibération 2005-213): an
// intermediate archive is reachable only by the service that needs it, named profile by profile;
// a final archive only through the archives service (the role marked archives_service), on an
// occasional and motivated access. Active dossiers are still in the production system and
// dossiers due for destruction are not kept: neither is consultable here.
//
// Without a roles file nobody may consult: a nil *Policy refuses everything. A caller that wants
// a demonstration decides it itself (Parse a policy of its own).
package roles

import (
	"slices"
	"strings"
)

// Tiers that can be consulted (retention's tier names).
const (
	TierIntermediate = "intermediate"
	TierFinal        = "final"
)

// Any, as a profile or a class, means every one.
const Any = "*"

// User is who asks, as the sign-on established it. Its fields are accesslog.User's, so that
// accesslog.User(u) converts one for the log.
type User struct {
	ID     string
	Name   string
	Groups []string
	Via    string // how they were authenticated: accesslog.ViaOIDC, ViaProxy, ViaLocal, ViaCLI
}

// Policy is a roles file, checked. Its methods are safe for concurrent use (it is never changed).
type Policy struct {
	File    string
	Roles   []Role
	Motives []Motive
}

// Role is one service's rights.
type Role struct {
	Name            string
	Groups          []string
	Consult         []Grant
	AccessLog       bool // may list a dossier's accesses
	ArchivesService bool // the archives service: the only role that may be granted final archives
	Line            int  // where it starts in the file
}

// Grant is one thing a role may consult: a profile ("*": any), its classes (empty: all) and tiers.
type Grant struct {
	Profile string
	Classes []string
	Tiers   []string
}

func (g Grant) covers(profile, class, tier string) (profileOK, classOK, tierOK bool) {
	profileOK = g.Profile == Any || g.Profile == profile
	classOK = len(g.Classes) == 0 || slices.Contains(g.Classes, Any) || slices.Contains(g.Classes, class)
	tierOK = slices.Contains(g.Tiers, tier)
	return
}

// Motive is a category of reason for a consultation.
type Motive struct {
	ID    string // what the access log records: "droit-acces"
	Label string // what a person reads, in French
}

// DefaultMotives are the categories when the roles file lists none, and the labels of those it
// lists by id alone.
var DefaultMotives = []Motive{
	{"droit-acces", "Droit d'accès de la personne (RGPD, art. 15)"},
	{"verification-diplome", "Vérification d'un diplôme ou d'un parcours"},
	{"demande-judiciaire", "Réquisition ou demande d'une autorité judiciaire"},
	{"recherche-derogation", "Recherche sous dérogation (Code du patrimoine, L213-3)"},
	{"controle-audit", "Contrôle ou audit"},
	{"autre", "Autre motif (à préciser)"},
}

// Decision is whether a user may do something, and why not.
type Decision struct {
	Allowed bool
	// Reason is a code for the access log and for programs (one of the Reason constants); ""
	// when allowed.
	Reason string
	// Role is the role that allows it; Roles are all the user's roles, for the message.
	Role  string
	Roles []string

	profile, class, tier string
}

// Why a Decision refuses.
const (
	ReasonNoPolicy          = "no-roles-file"          // no roles file: nobody may consult
	ReasonNoRole            = "no-role"                // none of the user's groups holds a role
	ReasonTierNotConsulted  = "tier-not-consultable"   // an active dossier, or one due for destruction
	ReasonProfileNotAllowed = "profile-not-allowed"    // no role of the user covers the profile
	ReasonClassNotAllowed   = "class-not-allowed"      // the profile, but not this class
	ReasonTierNotAllowed    = "tier-not-allowed"       // the profile and class, but not this tier
	ReasonLogNotAllowed     = "access-log-not-allowed" // no role of the user may read the access log
	ReasonNotArchives       = "not-archives-service"   // no role of the user is the archives service's
)

// rolesOf returns the user's roles, in file order.
func (p *Policy) rolesOf(u User) []*Role {
	var rs []*Role
	for i := range p.Roles {
		r := &p.Roles[i]
		for _, g := range r.Groups {
			if slices.Contains(u.Groups, g) {
				rs = append(rs, r)
				break
			}
		}
	}
	return rs
}

func names(rs []*Role) []string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.Name
	}
	return n
}

// MayConsult says whether u may search, view or download dossiers of profile, class and tier.
// For a search over a whole profile, pass class "" : a role limited to some classes still
// searches the profile, and each dossier shown is decided on its own class.
func (p *Policy) MayConsult(u User, profile, class, tier string) Decision {
	d := Decision{profile: profile, class: class, tier: tier}
	if p == nil {
		d.Reason = ReasonNoPolicy
		return d
	}
	if tier != TierIntermediate && tier != TierFinal {
		d.Reason = ReasonTierNotConsulted
		return d
	}
	rs := p.rolesOf(u)
	d.Roles = names(rs)
	if len(rs) == 0 {
		d.Reason = ReasonNoRole
		return d
	}
	best := ReasonProfileNotAllowed
	for _, r := range rs {
		for _, g := range r.Consult {
			pOK, cOK, tOK := g.covers(profile, class, tier)
			if class == "" {
				cOK = true
			}
			switch {
			case pOK && cOK && tOK:
				d.Allowed, d.Reason, d.Role = true, "", r.Name
				return d
			case pOK && cOK:
				best = ReasonTierNotAllowed
			case pOK && best == ReasonProfileNotAllowed:
				best = ReasonClassNotAllowed
			}
		}
	}
	d.Reason = best
	return d
}

// Scope is everything u may consult: the grants of all their roles, in file order (nil for a nil
// policy or a user without a role). A search filters the index with it, so that a list never
// shows a dossier its reader may not open; each dossier opened is still decided by MayConsult.
func (p *Policy) Scope(u User) []Grant {
	if p == nil {
		return nil
	}
	var gs []Grant
	for _, r := range p.rolesOf(u) {
		gs = append(gs, r.Consult...)
	}
	return gs
}

// Covers reports whether the grant covers a dossier of profile, class and tier.
func (g Grant) Covers(profile, class, tier string) bool {
	p, c, t := g.covers(profile, class, tier)
	return p && c && t
}

// MayReadLog says whether u may list the accesses to a dossier.
func (p *Policy) MayReadLog(u User) Decision {
	var d Decision
	if p == nil {
		d.Reason = ReasonNoPolicy
		return d
	}
	rs := p.rolesOf(u)
	d.Roles = names(rs)
	if len(rs) == 0 {
		d.Reason = ReasonNoRole
		return d
	}
	for _, r := range rs {
		if r.AccessLog {
			d.Allowed, d.Role = true, r.Name
			return d
		}
	}
	d.Reason = ReasonLogNotAllowed
	return d
}

// MayRecordVisa says whether u may record the archives' visa on a proposal of elimination: only
// a role of the archives service (archives_service: true) may, as only its head signs the visa
// (Code du patrimoine R212-14). That the person is not the one who proposed is the caller's check.
func (p *Policy) MayRecordVisa(u User) Decision {
	var d Decision
	if p == nil {
		d.Reason = ReasonNoPolicy
		return d
	}
	rs := p.rolesOf(u)
	d.Roles = names(rs)
	if len(rs) == 0 {
		d.Reason = ReasonNoRole
		return d
	}
	for _, r := range rs {
		if r.ArchivesService {
			d.Allowed, d.Role = true, r.Name
			return d
		}
	}
	d.Reason = ReasonNotArchives
	return d
}

// Motive returns the motive category id, if the policy knows it. A nil policy knows the
// defaults.
func (p *Policy) Motive(id string) (Motive, bool) {
	for _, m := range p.motives() {
		if m.ID == id {
			return m, true
		}
	}
	return Motive{}, false
}

func (p *Policy) motives() []Motive {
	if p == nil || len(p.Motives) == 0 {
		return DefaultMotives
	}
	return p.Motives
}

// MotiveIDs lists the categories' ids, in the file's order.
func (p *Policy) MotiveIDs() []string {
	ms := p.motives()
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// MinMotiveText is how many characters a motive's text has at least: enough for a few words
// ("demande du 3/12"), which is what makes an access "precisely motivated".
const MinMotiveText = 8

// Why CheckMotive refuses (MotiveError.Reason).
const (
	ReasonMotiveMissing  = "motive-missing"
	ReasonMotiveUnknown  = "motive-unknown"
	ReasonMotiveTooShort = "motive-too-short"
)

// CheckMotive checks a consultation's motive: a category the policy lists, and a text of at least
// MinMotiveText characters. Its error is a *MotiveError.
func (p *Policy) CheckMotive(category, text string) error {
	category = strings.TrimSpace(category)
	switch {
	case category == "":
		return &MotiveError{Reason: ReasonMotiveMissing, ids: p.MotiveIDs()}
	case !slices.Contains(p.MotiveIDs(), category):
		return &MotiveError{Reason: ReasonMotiveUnknown, Category: category, ids: p.MotiveIDs()}
	case len([]rune(strings.TrimSpace(text))) < MinMotiveText:
		return &MotiveError{Reason: ReasonMotiveTooShort, Category: category}
	}
	return nil
}

// MotiveError is a motive CheckMotive refuses.
type MotiveError struct {
	Reason   string // one of the ReasonMotive constants
	Category string // as given
	ids      []string
}
