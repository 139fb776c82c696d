package profiles

import (
	"fmt"
	"strconv"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/retention"
)

// Profile says how to archive one application's database: which dossiers it holds (classes), which
// retention schedule decides their fate, and how they are described in SEDA. The YAML field names
// are the ones in the tags; docs/profiles.md documents each.
type Profile struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description,omitempty"`
	Source      Source    `yaml:"source,omitempty"`
	SEDA        SEDA      `yaml:"seda"`
	Retention   Retention `yaml:"retention"`
	Batch       Batch     `yaml:"batch,omitempty"`
	// Format of each dossier's data object: json (the default). csv and xml are reserved names.
	Format  string  `yaml:"format,omitempty"`
	Classes []Class `yaml:"classes"`

	// File is where the profile was read from, as errors print it ("builtin/apogee.yaml" for the
	// built-in ones); Dir resolves the relative paths it holds ("" for the built-in ones).
	File string `yaml:"-"`
	Dir  string `yaml:"-"`

	lines    lineIndex // YAML path → line, for errors found after loading
	batch    batchLimits
	schedule *retention.Schedule
}

// Source holds defaults for the source database; the connection string itself never sits in a
// profile (it holds a password): it comes from the environment variable or file named here.
type Source struct {
	Dialect string `yaml:"dialect,omitempty"`  // sqlite, postgres or oracle
	DSNEnv  string `yaml:"dsn_env,omitempty"`  // environment variable holding the DSN
	DSNFile string `yaml:"dsn_file,omitempty"` // or a file holding it (relative to the profile)
}

// SEDA is the header of every ArchiveTransfer the profile produces.
type SEDA struct {
	Version            string `yaml:"version"` // 2.1, 2.2 or 2.3
	ArchivalAgreement  string `yaml:"archival_agreement,omitempty"`
	ArchivalAgency     Agency `yaml:"archival_agency"`
	TransferringAgency Agency `yaml:"transferring_agency"`
	// OriginatingAgency and SubmissionAgency are ManagementMetadata's OriginatingAgencyIdentifier and
	// SubmissionAgencyIdentifier.
	OriginatingAgency string `yaml:"originating_agency,omitempty"`
	SubmissionAgency  string `yaml:"submission_agency,omitempty"`
	ArchivalProfile   string `yaml:"archival_profile,omitempty"`
	LegalStatus       string `yaml:"legal_status,omitempty"` // Public Archive, Private Archive, Public and Private Archive
	Digest            string `yaml:"digest,omitempty"`       // SHA-256 (default) or SHA-512
}

// Agency is an ArchivalAgency or TransferringAgency.
type Agency struct {
	Identifier string `yaml:"identifier"`
	Name       string `yaml:"name,omitempty"`
}

// Retention names the schedule (tableau de gestion) whose rules the classes refer to.
type Retention struct {
	// Schedule is the name of a built-in schedule (apogee, harpege) or a YAML file, relative to the
	// profile's own folder.
	Schedule string `yaml:"schedule"`
}

// Batch bounds each SIP.
type Batch struct {
	MaxDossiers int    `yaml:"max_dossiers,omitempty"` // default 1000
	MaxBytes    string `yaml:"max_bytes,omitempty"`    // e.g. 2GiB, 500MB or a number of bytes; default 1GiB
}

type batchLimits struct {
	dossiers int
	bytes    int64
}

// Class is one kind of dossier: its tables, the rule that decides its retention, and its SEDA description.
type Class struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description,omitempty"`
	Rule        string  `yaml:"rule"` // the retention rule id, e.g. APP-APO-ETU
	Root        Root    `yaml:"root"`
	Children    []Child `yaml:"children,omitempty"`
	Content     Content `yaml:"content"`

	tpl   *classTemplates
	dates *contentDates
	// where the class sits in its profile, for messages: file, line index and field path.
	profile, file, path string
	lines               lineIndex
}

// origin is "file:line" of a field of the class ("root.table").
func (c *Class) origin(field string) string {
	if c.file == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", c.file, c.lines.line(c.path+"."+field))
}

// Root is the table whose rows are the dossiers.
type Root struct {
	Table   string   `yaml:"table"`
	Key     string   `yaml:"key"`
	Columns []string `yaml:"columns,omitempty"`
	Where   string   `yaml:"where,omitempty"`
	Meaning `yaml:",inline"`
}

// Meaning is what the data dictionary of each SIP says about a table and its columns, so that the
// data can be read without the application; it wins over the database's own comments.
type Meaning struct {
	Comment  string            `yaml:"comment,omitempty"`  // what the table holds
	Meanings map[string]string `yaml:"meanings,omitempty"` // column → what it means
}

// Child is a table whose rows belong to a dossier through the join column.
type Child struct {
	Table   string   `yaml:"table"`
	Join    string   `yaml:"join"` // the child's column holding the dossier key
	Columns []string `yaml:"columns,omitempty"`
	Where   string   `yaml:"where,omitempty"`
	Order   []string `yaml:"order,omitempty"`
	// Optional marks a table not every establishment's database has (theses, photos): absent, it
	// is a warning and the dossiers are archived without it.
	Optional bool `yaml:"optional,omitempty"`
	Meaning  `yaml:",inline"`
}

// Content maps a dossier to its SEDA ArchiveUnit Content. Title, Description and keyword values are
// Go text/template texts over the root row (columns by name: {{.COD_ETU}}); StartDate and EndDate
// are retention expressions over the dossier's rows.
type Content struct {
	Title       string    `yaml:"title"`
	Description string    `yaml:"description,omitempty"`
	StartDate   string    `yaml:"start_date,omitempty"`
	EndDate     string    `yaml:"end_date,omitempty"`
	Keywords    []Keyword `yaml:"keywords,omitempty"`
	// Identifiers and Person are what a consultation searches on. They are written in each unit
	// (OriginatingAgencyArchiveUnitIdentifier "NAME:value"; the person as an Agent from SEDA 2.2)
	// so that the consultation index can be rebuilt from the manifests alone.
	Identifiers []IdentifierSpec `yaml:"identifiers,omitempty"`
	Person      *PersonSpec      `yaml:"person,omitempty"`
}

// IdentifierSpec names one searchable identifier of a dossier and gives the template of its value.
type IdentifierSpec struct {
	Name  string `yaml:"name"`  // e.g. COD_ETU, INE: letters, digits, '_' and '-'
	Value string `yaml:"value"` // e.g. '{{.COD_ETU}}'
}

// PersonSpec gives the templates of the person a dossier is about. BirthDate must render as an
// ISO date (YYYY-MM-DD…), which a DATE column does.
type PersonSpec struct {
	FirstName string `yaml:"first_name,omitempty"`
	BirthName string `yaml:"birth_name,omitempty"`
	UsageName string `yaml:"usage_name,omitempty"`
	BirthDate string `yaml:"birth_date,omitempty"`
}

// Keyword is a SEDA Keyword: a type (persname, subject, …) and a template giving its content.
type Keyword struct {
	Type  string `yaml:"type,omitempty"`
	Value string `yaml:"value"`
}

// ExtractSpec converts the class to what extract's sources read.
func (c *Class) ExtractSpec() extract.Spec {
	ec := extract.Spec{
		Name:    c.Name,
		Profile: c.profile,
		Root:    extract.Table{Name: c.Root.Table, Key: c.Root.Key, Columns: c.Root.Columns, Where: c.Root.Where, Origin: c.origin("root.table")},
	}
	for i, ch := range c.Children {
		ec.Children = append(ec.Children, extract.Child{
			Table:      extract.Table{Name: ch.Table, Columns: ch.Columns, Where: ch.Where, Origin: c.origin(fmt.Sprintf("children[%d].table", i))},
			JoinColumn: ch.Join,
			OrderBy:    ch.Order,
			Optional:   ch.Optional,
		})
	}
	return ec
}

// Class returns the class named name, or nil.
func (p *Profile) Class(name string) *Class {
	for i := range p.Classes {
		if p.Classes[i].Name == name {
			return &p.Classes[i]
		}
	}
	return nil
}

// MaxDossiers is the most dossiers one SIP holds.
func (p *Profile) MaxDossiers() int { return p.batch.dossiers }

// MaxBytes is the most bytes of data objects one SIP holds (a single larger dossier still gets its own SIP).
func (p *Profile) MaxBytes() int64 { return p.batch.bytes }

// OverrideBatch replaces the batch limits where the values are positive (a scheduled job's own
// limits); zero keeps the profile's.
func (p *Profile) OverrideBatch(maxDossiers int, maxBytes int64) {
	if maxDossiers > 0 {
		p.batch.dossiers = maxDossiers
		p.Batch.MaxDossiers = maxDossiers
	}
	if maxBytes > 0 {
		p.batch.bytes = maxBytes
		p.Batch.MaxBytes = strconv.FormatInt(maxBytes, 10)
	}
}

// DigestAlgorithm is the SEDA digest algorithm name: SHA-256 or SHA-512.
func (p *Profile) DigestAlgorithm() string {
	if p.SEDA.Digest == "" {
		return "SHA-256"
	}
	return p.SEDA.Digest
}
