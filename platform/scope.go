package platform

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/versement/versement/job"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

type jobOptions = job.Options

// ByClient returns the establishment an OIDC / OAuth2 client id acts for.
func (c *Config) ByClient(clientID string) (*Establishment, bool) {
	e, ok := c.byClient[clientID]
	return e, ok && clientID != ""
}

// ByCertificate returns the establishment an mTLS client certificate acts for: by its SHA-256
// fingerprint first, then by its subject CN. The caller must have verified the certificate's
// chain against the platform's client CA (tls.RequireAndVerifyClientCert): a subject CN is only
// worth the CA that signed it.
func (c *Config) ByCertificate(cert *x509.Certificate) (*Establishment, bool) {
	if cert == nil {
		return nil, false
	}
	sum := sha256.Sum256(cert.Raw)
	if e, ok := c.byFingerprint[hex.EncodeToString(sum[:])]; ok {
		return e, true
	}
	if cn := cert.Subject.CommonName; cn != "" {
		if e, ok := c.byCN[cn]; ok {
			return e, true
		}
	}
	return nil, false
}

// Profiles lists the names of the establishment's profiles, in the file's order.
func (e *Establishment) Profiles() []string {
	out := make([]string, len(e.profiles))
	for i, p := range e.profiles {
		out[i] = p.name
	}
	return out
}

// profileFor finds the profile a job or a caller names: by the profile's name, or by the
// reference the platform file gives (a built-in name or a file path).
func (e *Establishment) profileFor(name string) *profileRef {
	for i := range e.profiles {
		if p := &e.profiles[i]; p.name == name || p.ref == name {
			return p
		}
	}
	return nil
}

// Profile loads the establishment's profile name (a profile's name, or its built-in name or
// file as the platform file gives it), with the establishment's schedule extension if it has
// one, and puts the establishment's SEDA identifiers in place of the profile's: every SIP built
// from it names this establishment's originating and submission agencies, transferring agency,
// ingest contract and archival profile only. Each call returns a new profile, which the caller
// may change.
func (e *Establishment) Profile(name string) (*profiles.Profile, error) {
	ref := e.profileFor(name)
	if ref == nil {
		return nil, fmt.Errorf("establishment %s has no profile %q (its profiles: %s)", e.ID, name, strings.Join(e.Profiles(), ", "))
	}
	p, err := loadProfile(ref.ref, ref.schedule)
	if err != nil {
		return nil, fmt.Errorf("establishment %s: %w", e.ID, err)
	}
	e.applySEDA(p)
	return p, nil
}

// loadProfile opens a profile and, given a schedule file, makes it the profile's retention
// schedule. profiles has no setter for a loaded profile's schedule, and the schedule is checked
// against the classes' rules when the profile is read: so the profile is written back with
// retention.schedule naming the file, and read again, which checks it as a profile file is.
func loadProfile(ref, schedule string) (*profiles.Profile, error) {
	p, err := profiles.Open(ref)
	if err != nil || schedule == "" {
		return p, err
	}
	p.Retention.Schedule = schedule
	y, err := p.YAML()
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return profiles.Parse(p.File, p.Dir, y)
}

func (e *Establishment) applySEDA(p *profiles.Profile) {
	s := e.SEDA
	p.SEDA.OriginatingAgency = s.OriginatingAgency
	p.SEDA.SubmissionAgency = s.SubmissionAgency
	p.SEDA.ArchivalAgreement = s.ArchivalAgreement
	p.SEDA.TransferringAgency = s.TransferringAgency
	if s.ArchivalProfile != "" {
		p.SEDA.ArchivalProfile = s.ArchivalProfile
	}
	if s.ArchivalAgency.Identifier != "" {
		p.SEDA.ArchivalAgency = s.ArchivalAgency
	}
}

// profiles loads each profile of the establishment once, so that a bad profile or schedule
// extension is refused when the platform file is read, at its line.
func (v *validator) profiles(at string, raws []rawProfile, e *Establishment) error {
	if len(raws) == 0 {
		return v.Errf(at, "none: want at least one profile, a built-in name (%s) or a profile file", strings.Join(profiles.BuiltinNames(), ", "))
	}
	seen := map[string]int{}
	for i, r := range raws {
		field := fmt.Sprintf("%s[%d]", at, i)
		ref := strings.TrimSpace(r.Profile)
		if ref == "" {
			return v.Errf(field+".profile", "missing: a built-in profile (%s) or a profile file", strings.Join(profiles.BuiltinNames(), ", "))
		}
		if isPath(ref) {
			ref = v.Abs(ref)
		}
		p, err := profiles.Open(ref)
		if err != nil {
			return v.Errf(field+".profile", "%v", err)
		}
		pr := profileRef{name: p.Name, ref: ref}
		if s := strings.TrimSpace(r.Schedule); s != "" {
			pr.schedule = v.Abs(s)
			if _, err := retention.LoadSchedule(pr.schedule); err != nil {
				return v.Errf(field+".schedule", "%v", err)
			}
			if _, err := loadProfile(ref, pr.schedule); err != nil {
				return v.Errf(field+".schedule", "%v", err)
			}
		}
		if first, dup := seen[p.Name]; dup {
			return v.Errf(field+".profile", "profile %s is already the establishment's (%s[%d], line %d)", p.Name, at, first, v.Line(fmt.Sprintf("%s[%d].profile", at, first)))
		}
		seen[p.Name] = i
		e.profiles = append(e.profiles, pr)
	}
	return nil
}

// isPath is profiles.Open's rule: a name with a path separator or a .yaml/.yml suffix is a file.
func isPath(s string) bool {
	return strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator) ||
		strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}
