package seda

import (
	"regexp"
	"time"

	"github.com/versement/versement/civil"
)

// DigestAlgorithm names a digest as SEDA's MessageDigest@algorithm spells it.
type DigestAlgorithm string

// Digest algorithms VITAM accepts. The writer produces SHA-256 (default) or SHA-512; the verifier
// reads all five.
const (
	MD5    DigestAlgorithm = "MD5"
	SHA1   DigestAlgorithm = "SHA-1"
	SHA256 DigestAlgorithm = "SHA-256"
	SHA384 DigestAlgorithm = "SHA-384"
	SHA512 DigestAlgorithm = "SHA-512"
)

// CodeListVersions are the message's CodeListVersions; empty fields are left out (every child is
// optional since 2.1). HoldRule is written only from 2.2 on.
type CodeListVersions struct {
	Reply, MessageDigestAlgorithm, MimeType, Encoding, FileFormat, CompressionAlgorithm,
	DataObjectVersion, StorageRule, AppraisalRule, AccessRule, DisseminationRule, ReuseRule,
	ClassificationRule, HoldRule, AcquisitionInformation, AuthorizationReason, Relationship string
}

// Header is what the ArchiveTransfer says about itself and the whole package.
type Header struct {
	Version            Version   // V21, V22 or V23 (default V22)
	MessageIdentifier  string    // required; deterministic ids let a re-run recognise its SIPs
	Date               time.Time // required; also the timestamp of every zip entry, so output is reproducible
	Comment            string
	ArchivalAgreement  string // the VITAM ingest contract; VITAM refuses a SIP without it
	CodeListVersions   CodeListVersions
	ArchivalAgency     string // identifier, required
	TransferringAgency string // identifier, required

	// ManagementMetadata.
	ArchivalProfile             string
	LegalStatus                 string // "Public Archive", "Private Archive" or "Public and Private Archive"
	OriginatingAgencyIdentifier string
	SubmissionAgencyIdentifier  string
	Management                  Management // package-wide default rules

	DigestAlgorithm DigestAlgorithm // SHA256 (default) or SHA512
}

// Object describes one data object (one file under Content/).
type Object struct {
	// Group is the DataObjectGroup to put the object in: "" starts a new group; an earlier
	// ObjectWriter's Group() adds to that group, which must be the one written last (a group's
	// objects are written one after another).
	Group          GroupID
	Name           string // file name under Content/: [A-Za-z0-9._-] only, unique in the package
	Version        string // DataObjectVersion; default "BinaryMaster_1"
	MimeType       string
	FormatID       string // PRONOM PUID, e.g. fmt/817 (JSON), fmt/43 (JPEG)
	FormatLitteral string
	Encoding       string
	Filename       string    // FileInfo/Filename; default Name
	LastModified   time.Time // FileInfo/LastModified; zero leaves it out
}

// GroupID is the id of a DataObjectGroup the writer made.
type GroupID string

// Summary is what Close reports about the package it wrote.
type Summary struct {
	Version           Version
	MessageIdentifier string
	DigestAlgorithm   DigestAlgorithm // of the objects' MessageDigest
	// ManifestSHA512 is the lowercase hex SHA-512 of manifest.xml: send it as VITAM's
	// X-Manifest-Digest-Value with X-Manifest-Digest-Algo: SHA-512 (VITAM's own algorithm).
	ManifestSHA512 string
	ManifestSHA256 string // the same manifest's SHA-256, for ledgers that use SHA-256
	ManifestSize   int64
	Objects        int
	Groups         int
	Units          int
	PayloadBytes   int64  // sum of the objects' sizes (uncompressed)
	ZipSHA256      string // lowercase hex SHA-256 of the whole zip as written (S3 x-amz-checksum-sha256, ledger)
	ZipSize        int64
}

// Unit is an ArchiveUnit.
type Unit struct {
	ArchiveUnitProfile string
	Management         Management
	Content            Content
	Groups             []GroupID // DataObjectGroupReferenceId, one DataObjectReference each
}

// Content is the descriptive part of a unit. DescriptionLevel and Title are required (VITAM
// refuses units without them, although the XSD does not); the rest is left out when empty.
type Content struct {
	DescriptionLevel                    string // Fonds, Subfonds, Class, Collection, Series, Subseries, RecordGrp, SubGrp, File, Item, OtherLevel
	Title                               string
	FilePlanPosition                    []string
	OriginatingSystemID                 []string // e.g. the dossier's key in the source database
	ArchivalAgencyArchiveUnitIdentifier []string
	// OriginatingAgencyArchiveUnitIdentifier are the producer's identifiers of the unit. versement
	// writes the dossier's searchable identifiers there as "NAME:value" (COD_ETU:20000001), so that
	// a consultation index can be rebuilt from the manifests alone and VITAM's DSL finds the unit.
	OriginatingAgencyArchiveUnitIdentifier []string
	Description                            string
	Type                                   string
	DocumentType                           string
	Language                               []string // xsd:language, e.g. "fr"
	DescriptionLanguage                    string
	Status                                 string
	Tags                                   []string
	Keywords                               []Keyword
	OriginatingAgency                      string // identifier
	SubmissionAgency                       string // identifier
	// Agents are the persons the unit is about (SEDA 2.2+ Agent; the writer refuses them in 2.1).
	Agents      []Agent
	Source      string
	CreatedDate civil.Date
	StartDate   civil.Date
	EndDate     civil.Date
}

// Agent is a person a unit is about, as SEDA's AgentType names it (the fields versement fills).
type Agent struct {
	FirstName string
	BirthName string
	GivenName string // SEDA's GivenName is the name in use (nom d'usage), not the first name
	BirthDate civil.Date
}

// IsZero reports whether the agent says nothing.
func (a Agent) IsZero() bool {
	return a.FirstName == "" && a.BirthName == "" && a.GivenName == "" && a.BirthDate.IsZero()
}

// Keyword is a Keyword of a unit's Content.
type Keyword struct {
	Content   string
	Reference string
	Type      string // corpname, famname, geogname, name, occupation, persname, subject, genreform, function
}

var (
	levels   = map[string]bool{"Fonds": true, "Subfonds": true, "Class": true, "Collection": true, "Series": true, "Subseries": true, "RecordGrp": true, "SubGrp": true, "File": true, "Item": true, "OtherLevel": true}
	keyTypes = map[string]bool{"corpname": true, "famname": true, "geogname": true, "name": true, "occupation": true, "persname": true, "subject": true, "genreform": true, "function": true}
	language = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
)
