package seda

import "github.com/versement/versement/civil"

// Version is a SEDA 2.x version: "2.1", "2.2" or "2.3".
type Version string

// The SEDA versions versement writes and reads.
const (
	V21 Version = "2.1"
	V22 Version = "2.2"
	V23 Version = "2.3"
)

// Namespace is the XML namespace of the version's messages.
func (v Version) Namespace() string { return "fr:gouv:culture:archivesdefrance:seda:v" + string(v) }

// HasHoldRule reports whether the version's ManagementGroup has HoldRule (2.2 and later).
func (v Version) HasHoldRule() bool { return v == V22 || v == V23 }

// Final actions of StorageRule and AppraisalRule, as the XSD spells them.
const (
	AppraisalKeep    = "Keep"
	AppraisalDestroy = "Destroy"

	StorageRestrictAccess = "RestrictAccess"
	StorageTransfer       = "Transfer"
	StorageCopy           = "Copy"
)

// RuleRef is one (Rule, StartDate?) pair of a rule category. A zero StartDate is left out.
type RuleRef struct {
	Rule      string
	StartDate civil.Date
}

// RuleGroup is what every rule category holds: its rules, then either PreventInheritance or the
// inherited rule ids to exclude.
type RuleGroup struct {
	Rules              []RuleRef
	PreventInheritance bool
	RefNonRuleID       []string
}

// StorageRule is the DUC (durée d'utilité courante).
type StorageRule struct {
	RuleGroup
	FinalAction string // StorageRestrictAccess, StorageTransfer or StorageCopy
}

// AppraisalRule is the DUA (durée d'utilité administrative) and what happens at its end.
type AppraisalRule struct {
	RuleGroup
	FinalAction string // AppraisalKeep or AppraisalDestroy
}

// ClassificationRule is national-defence classification; unused for university records but part of
// the ManagementGroup.
type ClassificationRule struct {
	RuleGroup
	Audience                     string
	Level                        string
	Owner                        string
	ReassessingDate              civil.Date
	NeedReassessingAuthorization *bool
}

// HoldRule is a legal hold (gel), SEDA 2.2 and later.
type HoldRule struct {
	Rule                 string
	StartDate            civil.Date
	EndDate              civil.Date // HoldEndDate
	Owner                string
	ReassessingDate      civil.Date
	Reason               string
	PreventRearrangement *bool
}

// Management is an ArchiveUnit's Management block (or the package-wide defaults in
// ManagementMetadata). Nil or empty categories are left out; categories are written in the XSD's order.
type Management struct {
	Storage           *StorageRule
	Appraisal         *AppraisalRule
	Access            *RuleGroup
	Dissemination     *RuleGroup
	Reuse             *RuleGroup
	Classification    *ClassificationRule
	NeedAuthorization *bool
	Hold              []HoldRule // only written from SEDA 2.2 on: the writer refuses it under 2.1
}

// IsZero reports whether m holds nothing to write.
func (m Management) IsZero() bool {
	return m.Storage == nil && m.Appraisal == nil && m.Access == nil && m.Dissemination == nil &&
		m.Reuse == nil && m.Classification == nil && m.NeedAuthorization == nil && len(m.Hold) == 0
}
