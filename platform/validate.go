package platform

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/versement/versement/nightly"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/targets"
	"github.com/versement/versement/transfer/vitam"
)

var (
	// An id names folders, metric labels and URL paths: nothing a shell, a URL or a file system
	// would read differently.
	establishmentID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	// identifier is what VITAM accepts as an agency or contract identifier, without spaces.
	identifier  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	fingerprint = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

const maxIDLen = 63

// owner is who claimed a folder, a target, an identifier, a secret or a client first.
type owner struct {
	est   int    // index of the establishment
	id    string // its id
	field string // the field that claimed it
	what  string // what it is to that establishment: "state folder", "ledger", …
	shown string // the value as the user wrote it (resolved)
}

// claims is what the establishments checked so far hold; what a later one claims must be
// nobody else's.
type claims struct {
	places []place           // folders, files and target locations
	ids    map[string]owner  // agency and contract identifiers
	keys   map[string]owner  // API clients, source secrets (prefixed by kind)
	byID   map[string]string // lowercased establishment id → the field that defined it
}

// place is a location in a namespace that nests by '/': "dir:/srv/a" (a folder or file), or
// "s3:ENDPOINT/bucket/prefix".
type place struct {
	key string
	owner
}

func within(a, b string) bool { return a == b || strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") }

func (v *validator) config(raw *rawConfig) (*Config, error) {
	c := &Config{File: v.Path, Timezone: nightly.DefaultTimezone, byID: map[string]*Establishment{},
		byClient: map[string]*Establishment{}, byCN: map[string]*Establishment{}, byFingerprint: map[string]*Establishment{}}
	if raw.Timezone != "" {
		if _, err := time.LoadLocation(raw.Timezone); err != nil {
			return nil, v.Errf("timezone", "unknown time zone %q (want an IANA name such as Europe/Paris)", raw.Timezone)
		}
		c.Timezone = raw.Timezone
	}
	if raw.StateRoot != "" {
		c.StateRoot = v.Abs(raw.StateRoot)
	}
	if len(raw.Establishments) == 0 {
		return nil, v.Errf("establishments", "none: want a list of establishments, each with an id, a name, its seda identifiers and its profiles")
	}
	cl := &claims{ids: map[string]owner{}, keys: map[string]owner{}, byID: map[string]string{}}
	for i := range raw.Establishments {
		e, err := v.establishment(c, cl, i, &raw.Establishments[i])
		if err != nil {
			return nil, err
		}
		c.establishments = append(c.establishments, e)
		c.byID[e.ID] = e
		for _, k := range e.APIClients {
			switch {
			case k.ClientID != "":
				c.byClient[k.ClientID] = e
			case k.SubjectCN != "":
				c.byCN[k.SubjectCN] = e
			default:
				c.byFingerprint[k.SHA256] = e
			}
		}
	}
	return c, nil
}

func (v *validator) establishment(c *Config, cl *claims, i int, r *rawEstablishment) (*Establishment, error) {
	at := fmt.Sprintf("establishments[%d]", i)
	switch {
	case r.ID == "":
		return nil, v.Errf(at+".id", "missing: every establishment needs an id (letters, digits and '-', e.g. univ-a)")
	case len(r.ID) > maxIDLen || !establishmentID.MatchString(r.ID):
		// The id becomes a folder, a Prometheus label and a URL path segment.
		return nil, v.Errf(at+".id", "%q: use letters, digits and '-' only, starting with a letter or digit, at most %d characters", r.ID, maxIDLen)
	}
	if first, dup := cl.byID[strings.ToLower(r.ID)]; dup {
		// Case-insensitive: two folders univ-a and UNIV-A are one on some file systems.
		return nil, v.Errf(at+".id", "establishment %q is already defined at line %d", r.ID, v.Line(first))
	}
	cl.byID[strings.ToLower(r.ID)] = at + ".id"
	e := &Establishment{ID: r.ID, Name: strings.TrimSpace(r.Name)}
	if e.Name == "" {
		return nil, v.Errf(at+".name", "missing: the establishment's name, as its documents print it")
	}
	me := func(field, what, shown string) owner {
		return owner{est: i, id: e.ID, field: field, what: what, shown: shown}
	}

	if err := v.seda(cl, at+".seda", &r.SEDA, e, me); err != nil {
		return nil, err
	}
	if err := v.vitam(cl, at+".vitam", &r.VITAM, e, me); err != nil {
		return nil, err
	}

	// Folders and files: the state folder, and the ledger and access log inside it unless given.
	switch {
	case r.State != "":
		e.State = v.Abs(r.State)
	case c.StateRoot != "":
		e.State = filepath.Join(c.StateRoot, e.ID)
	default:
		return nil, v.Errf(at+".state", "missing: give the establishment's state folder, or state_root at the top of the file (state then defaults to STATE_ROOT/%s)", e.ID)
	}
	e.Ledger = filepath.Join(e.State, "ledger.jsonl")
	if r.Ledger != "" {
		e.Ledger = v.Abs(r.Ledger)
	}
	e.AccessLog = filepath.Join(e.State, "access-log.jsonl")
	if r.AccessLog != "" {
		e.AccessLog = v.Abs(r.AccessLog)
	}
	for _, p := range []struct{ field, what, path string }{
		{at + ".state", "state folder", e.State}, {at + ".ledger", "ledger", e.Ledger}, {at + ".access_log", "access log", e.AccessLog},
	} {
		if err := v.claimPlace(cl, "dir:"+p.path, me(p.field, p.what, p.path)); err != nil {
			return nil, err
		}
	}

	var err error
	if e.Targets, err = v.targets(cl, at+".targets", r.Targets, e, me); err != nil {
		return nil, err
	}
	if err := v.profiles(at+".profiles", r.Profiles, e); err != nil {
		return nil, err
	}
	if err := v.clients(cl, at+".api_clients", r.APIClients, e, me); err != nil {
		return nil, err
	}
	if err := v.jobs(cl, c, at+".jobs", r.Jobs, e, me); err != nil {
		return nil, err
	}
	return e, nil
}

func (v *validator) seda(cl *claims, at string, r *rawSEDA, e *Establishment, me func(string, string, string) owner) error {
	s := SEDA{OriginatingAgency: strings.TrimSpace(r.OriginatingAgency), SubmissionAgency: strings.TrimSpace(r.SubmissionAgency),
		ArchivalAgreement: strings.TrimSpace(r.ArchivalAgreement), ArchivalProfile: strings.TrimSpace(r.ArchivalProfile)}
	if s.OriginatingAgency == "" {
		return v.Errf(at+".originating_agency", "missing: the agency whose dossiers these are, named in every SIP (OriginatingAgencyIdentifier), e.g. UNIVA-SCOL")
	}
	if s.ArchivalAgreement == "" {
		return v.Errf(at+".archival_agreement", "missing: the VITAM ingest contract every SIP of the establishment names (ArchivalAgreement), e.g. IC-UNIVA-000001")
	}
	if s.SubmissionAgency == "" {
		s.SubmissionAgency = s.OriginatingAgency
	}
	s.TransferringAgency = profiles.Agency{Identifier: s.OriginatingAgency, Name: e.Name}
	if t := r.TransferringAgency; t != nil {
		if strings.TrimSpace(t.Identifier) == "" {
			return v.Errf(at+".transferring_agency.identifier", "missing: the transferring agency's identifier (or leave transferring_agency out: the originating agency)")
		}
		s.TransferringAgency = profiles.Agency{Identifier: strings.TrimSpace(t.Identifier), Name: strings.TrimSpace(t.Name)}
	}
	if a := r.ArchivalAgency; a != nil {
		if strings.TrimSpace(a.Identifier) == "" {
			return v.Errf(at+".archival_agency.identifier", "missing: the archives service's identifier (or leave archival_agency out: the profile's)")
		}
		s.ArchivalAgency = profiles.Agency{Identifier: strings.TrimSpace(a.Identifier), Name: strings.TrimSpace(a.Name)}
	}
	for _, f := range []struct{ field, what, id string }{
		{"originating_agency", "originating agency", s.OriginatingAgency},
		{"submission_agency", "submission agency", s.SubmissionAgency},
		{"archival_agreement", "ingest contract", s.ArchivalAgreement},
		{"transferring_agency.identifier", "transferring agency", s.TransferringAgency.Identifier},
		{"archival_profile", "archival profile", s.ArchivalProfile},
		{"archival_agency.identifier", "archival agency", s.ArchivalAgency.Identifier},
	} {
		if f.id == "" {
			continue
		}
		field := at + "." + f.field
		if !identifier.MatchString(f.id) || len(f.id) > 64 {
			return v.Errf(field, "%q: an identifier is letters, digits, '.', '_', ':' and '-', at most 64 characters, no spaces", f.id)
		}
		// The archives service and an archival profile may serve every establishment; the
		// identifiers that say whose dossiers these are may not.
		if f.field == "archival_profile" || f.field == "archival_agency.identifier" {
			continue
		}
		if err := v.claimID(cl, f.id, me(field, f.what, f.id)); err != nil {
			return err
		}
	}
	e.SEDA = s
	return nil
}

func (v *validator) vitam(cl *claims, at string, r *rawVITAM, e *Establishment, me func(string, string, string) owner) error {
	if r.Tenant != nil {
		if *r.Tenant < 0 {
			return v.Errf(at+".tenant", "%d: want VITAM's tenant number (0 or more)", *r.Tenant)
		}
		e.VITAM.Tenant, e.VITAM.HasTenant = *r.Tenant, true
	}
	// Derived from the establishment, not the profile: access contracts are per originating
	// agency, and the establishment is what has one.
	e.VITAM.ConsultationContract = "AC-" + strings.ToUpper(e.ID) + "-CONSULTATION"
	e.VITAM.ArchivesContract = "AC-" + strings.ToUpper(e.ID) + "-ARCHIVES"
	for _, f := range []struct {
		field, what, given string
		to                 *string
	}{
		{"access_contracts.consultation", "consultation access contract", r.AccessContracts.Consultation, &e.VITAM.ConsultationContract},
		{"access_contracts.archives", "archives access contract", r.AccessContracts.Archives, &e.VITAM.ArchivesContract},
	} {
		field := at + "." + f.field
		if g := strings.TrimSpace(f.given); g != "" {
			if !identifier.MatchString(g) || len(g) > 64 {
				return v.Errf(field, "%q: an identifier is letters, digits, '.', '_', ':' and '-', at most 64 characters, no spaces", g)
			}
			*f.to = g
		}
		if err := v.claimID(cl, *f.to, me(field, f.what, *f.to)); err != nil {
			return err
		}
	}
	return nil
}

// targets checks a targets map (the establishment's or a job's): known tiers, URLs a run
// accepts, dir:// folders made absolute, and no folder or bucket prefix of another
// establishment's. A VITAM target is shared by design (one VITAM, tenants and contracts per
// establishment): its tenant must be the establishment's.
func (v *validator) targets(cl *claims, at string, raw map[string]string, e *Establishment, me func(string, string, string) owner) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	for _, k := range keys {
		field := at + "." + k
		u := strings.TrimSpace(raw[k])
		if k != "intermediate" && k != "final" {
			return nil, v.Errf(field, "unknown tier %q: want intermediate or final", k)
		}
		if u == "" {
			return nil, v.Errf(field, "empty: want a target URL, or leave the tier out")
		}
		if err := targets.Check(u); err != nil {
			return nil, v.Errf(field, "%v", err)
		}
		key, resolved, err := v.targetPlace(u)
		if err != nil {
			return nil, v.Errf(field, "%v", err)
		}
		out[k] = resolved
		if key == "" { // VITAM
			c, _ := vitam.ParseURL(u) // checked above
			if e.VITAM.HasTenant && c.Tenant != e.VITAM.Tenant {
				return nil, v.Errf(field, "tenant=%d is not the establishment's VITAM tenant (vitam.tenant: %d)", c.Tenant, e.VITAM.Tenant)
			}
			continue
		}
		if err := v.claimPlace(cl, key, me(field, k+" target", resolved)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// targetPlace gives where a target URL puts SIPs, as a place key ("" for VITAM), and the URL
// with a relative dir:// folder resolved from the platform file's folder.
func (v *validator) targetPlace(raw string) (key, resolved string, err error) {
	switch strings.ToLower(strings.SplitN(raw, ":", 2)[0]) {
	case "dir":
		c, err := dir.ParseURL(raw)
		if err != nil {
			return "", "", err
		}
		root := v.Abs(c.Root)
		resolved = "dir://" + root
		if u, err := url.Parse(raw); err == nil && u.RawQuery != "" {
			resolved += "?" + u.RawQuery
		}
		return "dir:" + root, resolved, nil
	case "s3":
		c, err := s3.ParseURL(raw)
		if err != nil {
			return "", "", err
		}
		key = "s3:" + strings.ToLower(strings.TrimSuffix(c.Endpoint, "/")) + "/" + c.Bucket
		if c.Prefix != "" {
			key += "/" + c.Prefix
		}
		return key, raw, nil
	}
	return "", raw, nil
}

// claimPlace refuses a place that is, holds or lies inside another establishment's.
func (v *validator) claimPlace(cl *claims, key string, o owner) error {
	for _, p := range cl.places {
		if p.est == o.est {
			continue
		}
		var how string
		switch {
		case key == p.key:
			how = fmt.Sprintf("%s is also establishment %s's %s", o.shown, p.id, p.what)
		case within(key, p.key):
			how = fmt.Sprintf("%s is inside establishment %s's %s %s", o.shown, p.id, p.what, p.shown)
		case within(p.key, key):
			how = fmt.Sprintf("%s holds establishment %s's %s %s", o.shown, p.id, p.what, p.shown)
		default:
			continue
		}
		return v.Errf(o.field, "%s (%s, line %d): establishments share no folder, file or target", how, p.field, v.Line(p.field))
	}
	cl.places = append(cl.places, place{key: key, owner: o})
	return nil
}

// claimID refuses an agency or contract identifier another establishment uses.
func (v *validator) claimID(cl *claims, id string, o owner) error {
	if p, ok := cl.ids[id]; ok && p.est != o.est {
		return v.Errf(o.field, "%s is already establishment %s's %s (%s, line %d): each establishment's SIPs and contracts name its own identifiers",
			id, p.id, p.what, p.field, v.Line(p.field))
	}
	if _, ok := cl.ids[id]; !ok {
		cl.ids[id] = o
	}
	return nil
}

// claimKey refuses an API client or a source secret another establishment (or, for a client,
// this one) already has.
func (v *validator) claimKey(cl *claims, key string, o owner, sameToo bool, why string) error {
	if p, ok := cl.keys[key]; ok && (p.est != o.est || sameToo) {
		whose := "establishment " + p.id + "'s"
		if p.est == o.est {
			whose = "already this establishment's"
			return v.Errf(o.field, "%s is %s %s (%s, line %d)", o.shown, whose, p.what, p.field, v.Line(p.field))
		}
		return v.Errf(o.field, "%s is also %s %s (%s, line %d): %s", o.shown, whose, p.what, p.field, v.Line(p.field), why)
	}
	if _, ok := cl.keys[key]; !ok {
		cl.keys[key] = o
	}
	return nil
}

func (v *validator) clients(cl *claims, at string, raws []rawClient, e *Establishment, me func(string, string, string) owner) error {
	const why = "a client acts for one establishment only"
	for i, r := range raws {
		field := fmt.Sprintf("%s[%d]", at, i)
		id := strings.TrimSpace(r.ClientID)
		if (id == "") == (r.Certificate == nil) {
			return v.Errf(field, "want exactly one of client_id (an OIDC / OAuth2 client) or certificate (an mTLS client certificate: subject_cn or sha256)")
		}
		var k APIClient
		var key string
		switch {
		case id != "":
			k.ClientID, key, field = id, "client:"+id, field+".client_id"
		default:
			cn, fp := strings.TrimSpace(r.Certificate.SubjectCN), strings.TrimSpace(r.Certificate.SHA256)
			field += ".certificate"
			if (cn == "") == (fp == "") {
				return v.Errf(field, "want exactly one of subject_cn (the certificate's subject common name) or sha256 (its fingerprint)")
			}
			if cn != "" {
				k.SubjectCN, key, field = cn, "cn:"+cn, field+".subject_cn"
				break
			}
			norm := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(fp))
			if !fingerprint.MatchString(norm) {
				return v.Errf(field+".sha256", "%q: want the certificate's SHA-256 fingerprint, 64 hexadecimal digits (colons allowed)", fp)
			}
			k.SHA256, key, field = norm, "sha256:"+norm, field+".sha256"
		}
		shown := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(key, "client:"), "cn:"), "sha256:")
		if err := v.claimKey(cl, key, me(field, "API client", shown), true, why); err != nil {
			return err
		}
		e.APIClients = append(e.APIClients, k)
	}
	return nil
}

func (v *validator) jobs(cl *claims, c *Config, at string, raws nightly.RawJobs, e *Establishment, me func(string, string, string) owner) error {
	if len(raws) == 0 {
		return nil
	}
	jobs, err := nightly.ParseJobs(nightly.JobsAt{Path: v.Path, File: v.File, Field: at, Timezone: c.Timezone,
		Defaults: e.jobDefaults}, raws)
	if err != nil {
		return err
	}
	for i, j := range jobs {
		jat := fmt.Sprintf("%s[%d]", at, i)
		o := &j.Options
		ref := e.profileFor(o.Profile)
		if ref == nil {
			return v.Errf(jat+".profile", "%q is not a profile of establishment %s (its profiles: %s)", o.Profile, e.ID, strings.Join(e.Profiles(), ", "))
		}
		o.Profile = ref.ref
		// The job's targets, files and folders are the establishment's: none may be another's.
		if o.Targets, err = v.targets(cl, jat+".targets", o.Targets, e, me); err != nil {
			return err
		}
		for _, f := range []struct{ field, path string }{
			{"state", o.State}, {"ledger", o.Ledger}, {"elimination", o.Elimination}, {"undetermined", o.Undetermined}, {"bordereaux", o.Bordereaux},
		} {
			if f.path == "" {
				continue
			}
			if err := v.claimPlace(cl, "dir:"+f.path, me(jat+"."+f.field, "job "+j.Name+"'s "+f.field, f.path)); err != nil {
				return err
			}
		}
		if src := j.Source.Spec(); src != "" {
			if err := v.claimKey(cl, "source:"+src, me(jat+".source", "source", j.Source.String()), false,
				"each establishment reads its databases with its own secrets"); err != nil {
				return err
			}
		}
		j.Name = e.ID + "." + j.Name
		j.Establishment = e.ID
		j.Dir = filepath.Join(e.State, "schedule")
		j.Scope = e
		e.Jobs = append(e.Jobs, j)
	}
	return nil
}

// jobDefaults gives a job what it leaves empty: the establishment's targets, state and ledger,
// so that its runs feed the establishment's index and ledger.
func (e *Establishment) jobDefaults(o *jobOptions) {
	if len(o.Targets) == 0 && len(e.Targets) > 0 {
		o.Targets = map[string]string{}
		for k, u := range e.Targets {
			o.Targets[k] = u
		}
	}
	if o.State == "" {
		o.State = e.State
	}
	if o.Ledger == "" {
		o.Ledger = e.Ledger
	}
}
