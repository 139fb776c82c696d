package platform

import (
	"fmt"
	"os"

	"github.com/versement/versement/internal/yamlx"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/profiles"
)

// Config is a validated platform file.
type Config struct {
	File      string // the path it was read from
	StateRoot string // state_root, absolute; "" when every establishment names its state
	Timezone  string // default zone of the jobs' cron specs

	establishments []*Establishment
	byID           map[string]*Establishment
	byClient       map[string]*Establishment // OIDC client id →
	byCN           map[string]*Establishment // certificate subject CN →
	byFingerprint  map[string]*Establishment // certificate SHA-256, lowercase hex →
}

// Establishment is one establishment of the platform: everything of it that versement reads,
// writes or sends is named here, and no two establishments share any of it.
type Establishment struct {
	ID   string // letters, digits and '-': it names folders, metric labels and URL paths
	Name string

	SEDA  SEDA
	VITAM VITAM
	// Targets maps a tier's destination (intermediate, final) to a target URL, dir:// paths made
	// absolute; the default of the establishment's jobs.
	Targets map[string]string
	// State is the state folder (state.db, index.db, spool/); Ledger the transfer ledger and
	// AccessLog the consultation log, by default inside State. All absolute.
	State, Ledger, AccessLog string
	APIClients               []APIClient
	// Jobs are the establishment's nightly jobs, their names qualified by the establishment's id
	// (univ-a.apogee-nightly), their state and ledger the establishment's unless they say.
	Jobs []*nightly.Job

	profiles []profileRef
}

// SEDA are the identifiers every SIP of the establishment carries in place of its profiles'.
type SEDA struct {
	OriginatingAgency  string
	SubmissionAgency   string // default OriginatingAgency
	ArchivalAgreement  string // the VITAM ingest contract
	ArchivalProfile    string // "" keeps the profile's
	TransferringAgency profiles.Agency
	ArchivalAgency     profiles.Agency // zero keeps the profile's (the archives service may be shared)
}

// VITAM is the establishment's place in VITAM.
type VITAM struct {
	Tenant    int
	HasTenant bool // Tenant was given
	// ConsultationContract and ArchivesContract are the access contracts a consultation names
	// (X-Access-Contract-Id): the producing service's and the archives service's.
	ConsultationContract, ArchivesContract string
}

// APIClient is a client of the deposit API acting for the establishment: an OIDC / OAuth2
// client id, or an mTLS client certificate named by its subject CN or its SHA-256 fingerprint.
type APIClient struct {
	ClientID  string
	SubjectCN string
	SHA256    string // lowercase hex, no colons
}

// profileRef is one entry of an establishment's profiles.
type profileRef struct {
	name     string // the profile's name, as jobs and Profile name it
	ref      string // a built-in name, or an absolute file path
	schedule string // an absolute schedule extension file; "" for the profile's own schedule
}

// --- the file as written ---------------------------------------------------------------------

type rawConfig struct {
	StateRoot      string             `yaml:"state_root"`
	Timezone       string             `yaml:"timezone"`
	Establishments []rawEstablishment `yaml:"establishments"`
}

type rawEstablishment struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	SEDA       rawSEDA           `yaml:"seda"`
	VITAM      rawVITAM          `yaml:"vitam"`
	Profiles   []rawProfile      `yaml:"profiles"`
	Targets    map[string]string `yaml:"targets"`
	State      string            `yaml:"state"`
	Ledger     string            `yaml:"ledger"`
	AccessLog  string            `yaml:"access_log"`
	APIClients []rawClient       `yaml:"api_clients"`
	Jobs       nightly.RawJobs   `yaml:"jobs"`
}

type rawSEDA struct {
	OriginatingAgency  string     `yaml:"originating_agency"`
	SubmissionAgency   string     `yaml:"submission_agency"`
	ArchivalAgreement  string     `yaml:"archival_agreement"`
	ArchivalProfile    string     `yaml:"archival_profile"`
	TransferringAgency *rawAgency `yaml:"transferring_agency"`
	ArchivalAgency     *rawAgency `yaml:"archival_agency"`
}

type rawAgency struct {
	Identifier string `yaml:"identifier"`
	Name       string `yaml:"name"`
}

type rawVITAM struct {
	Tenant          *int `yaml:"tenant"`
	AccessContracts struct {
		Consultation string `yaml:"consultation"`
		Archives     string `yaml:"archives"`
	} `yaml:"access_contracts"`
}

type rawProfile struct {
	Profile  string `yaml:"profile"`
	Schedule string `yaml:"schedule"`
}

type rawClient struct {
	ClientID    string `yaml:"client_id"`
	Certificate *struct {
		SubjectCN string `yaml:"subject_cn"`
		SHA256    string `yaml:"sha256"`
	} `yaml:"certificate"`
}

// Load reads and validates a platform file. Every error names the file, the line and the
// field, as in "platform.yaml:12: establishments[1].seda.originating_agency: …".
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("platform file: %w", err)
	}
	return Parse(path, b)
}

// Parse validates the content of a platform file; path is used in errors and to resolve
// relative paths.
func Parse(path string, b []byte) (*Config, error) {
	var raw rawConfig
	f, err := yamlx.Decode(path, b, "platform file", "a mapping with an establishments list", &raw)
	if err != nil {
		return nil, err
	}
	v := &validator{yamlx.Fields{Path: path, File: f}}
	return v.config(&raw)
}

// Establishment returns the establishment with this id.
func (c *Config) Establishment(id string) (*Establishment, bool) {
	e, ok := c.byID[id]
	return e, ok
}

// Establishments lists the establishments in the file's order.
func (c *Config) Establishments() []*Establishment {
	return append([]*Establishment(nil), c.establishments...)
}

// IDs lists the establishments' ids in the file's order.
func (c *Config) IDs() []string {
	out := make([]string, len(c.establishments))
	for i, e := range c.establishments {
		out[i] = e.ID
	}
	return out
}

// validator checks a decoded file against its YAML tree, for lines.
type validator struct{ yamlx.Fields }
