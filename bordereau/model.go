// Package bordereau holds the documents an archivist signs and files: the bordereau d'élimination
// (the proposal of elimination, laid out as the SIAF model: a header block, one line per lot, a
// visa block, the dossiers as an annex) and the bordereau de versement (the transfer slip of a
// run). One model per document feeds every output: a printable HTML page, CSV for French
// spreadsheets and JSON for machines, in French or English (internal/lang).
//
// The builders take one dossier at a time and keep only the lots in memory (they are few: class ×
// rule × year); the elimination's per-dossier annex is spilled to a temporary file and read back
// by the renderers, so that a proposal of 60,000 dossiers costs no more memory than one of ten.
//
// Every lot has a stable identifier, "<proposal id>/L001", derived from the content: two builds of
// the same dossiers give the same identifiers, which a visa answers line by line (docs/bordereaux.md).
package bordereau

import (
	"github.com/versement/versement/civil"
	"strings"
)

// Agency is a service named on a bordereau: its identifier (the SEDA agency identifier) and name.
type Agency struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Rule is a retention rule as a bordereau cites it.
type Rule struct {
	ID          string `json:"id"`                     // the AppraisalRule id, e.g. "APP-APO-ETU"
	Title       string `json:"title,omitempty"`        // what the rule covers
	DUA         string `json:"dua"`                    // the DUA as the schedule writes it: "7y", "unlimited"
	FinalAction string `json:"final_action,omitempty"` // keep, destroy or sample
	Basis       string `json:"basis,omitempty"`        // the legal reference (regulatory text setting the DUA)
	Status      string `json:"status,omitempty"`       // verified or to-confirm
}

// Header is the block at the top of a bordereau d'élimination. The caller fills it from the
// profile and the run; the builder adds the identifier.
type Header struct {
	Profile       string     // the profile's name, part of the identifier
	Establishment string     // the établissement (university)
	Date          civil.Date // the as-of date of the proposal
	Originating   Agency     // service producteur
	Transferring  Agency     // service versant
	Archival      Agency     // service d'archives
	// Rules are the retention rules the run knows; the document cites those of its lots (all of
	// them when nothing is due).
	Rules []Rule
	// ProposedBy is who made the proposal (the system user of the run): the visa is recorded by
	// someone else (four eyes). Not part of the identifier: the same dossiers are the same
	// proposal whoever ran it.
	ProposedBy string
	// EmptyReason says why nothing is due when no dossier is proposed; a document with no lot and
	// no reason is refused by Finish. ReasonNoSamplingCriteria is translated; other reasons are
	// printed as given (translate them with internal/lang first).
	EmptyReason string
}

// ReasonNoSamplingCriteria is the reason of an empty proposal under the built-in schedules.
const ReasonNoSamplingCriteria = "the built-in rule keeps every dossier: sampling has no criteria; set `sampling:` in your schedule (docs/retention.md)"

// EliminationDossier is one dossier proposed for elimination, as the pipeline hands it to Add.
type EliminationDossier struct {
	Class       string     // the profile's class name
	Description string     // the class description (the typology of its lot)
	Rule        string     // the rule's id; must be one of Header.Rules
	Key         string     // the dossier's key
	Identity    string     // identity summary (the dossier's title)
	Start       civil.Date // the dossier's start date (dates extrêmes); zero: unknown
	End         civil.Date // its end date; zero: Start
	DUAEnd      civil.Date // the end of its DUA; its year groups the lot
	Rows        int64      // volume: rows of the dossier
	Bytes       int64      // volume: bytes of its data; 0: unknown (printed blank)
	Reason      string     // why it is proposed (Decision.Explain)
}

// Elimination is a bordereau d'élimination: the header, its lots, the visa block, and an annex
// of dossiers read back from the spill file. Close removes the spill file.
type Elimination struct {
	ID            string     `json:"id"`
	Profile       string     `json:"profile"`
	Establishment string     `json:"establishment,omitempty"`
	Date          civil.Date `json:"date"`
	Originating   Agency     `json:"originating_agency"`
	Transferring  Agency     `json:"transferring_agency"`
	Archival      Agency     `json:"archival_agency"`
	ProposedBy    string     `json:"proposed_by,omitempty"`
	Rules         []Rule     `json:"rules"`
	Lots          []Lot      `json:"lots"`
	// EmptyReason is set when there is no lot.
	EmptyReason string `json:"empty_reason,omitempty"`
	Dossiers    int64  `json:"dossiers"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	Visa        []Visa `json:"visa"`

	annex string // path of the spill file, one JSON annex line per dossier
	lotID []string
}

// Lot is one line of the bordereau d'élimination: the dossiers of one class, one rule and one year
// of DUA end.
type Lot struct {
	ID           string     `json:"id"` // "<proposal id>/L001": what a visa answers
	Class        string     `json:"class"`
	Description  string     `json:"description,omitempty"`
	Rule         Rule       `json:"rule"`
	DUAEndYear   int        `json:"dua_end_year"`
	Start        civil.Date `json:"start"` // dates extrêmes: the earliest start of its dossiers
	End          civil.Date `json:"end"`   // and the latest end
	Dossiers     int64      `json:"dossiers"`
	Rows         int64      `json:"rows"`
	Bytes        int64      `json:"bytes"`
	FinalAction  string     `json:"final_action"` // destroy, or sample (not selected by the sampling)
	Observations []string   `json:"observations,omitempty"`
}

// Visa is one signature box: who signs, with the date (R212-14: nothing is destroyed without the
// archives service's visa). The document leaves name, title, date and signature blank to fill.
type Visa struct {
	Role   string `json:"role"` // archives (head of the archives service) or producer (of the producing service)
	Agency Agency `json:"agency"`
	Name   string `json:"name"`
	Title  string `json:"title"`
	Date   string `json:"date"`
}

// Visa roles.
const (
	RoleArchives     = "archives"
	RoleProducer     = "producer"
	RoleTransferring = "transferring"
)

// AnnexLine is one dossier of the annex.
type AnnexLine struct {
	Lot      string     `json:"lot"`
	Class    string     `json:"class"`
	Key      string     `json:"key"`
	Identity string     `json:"identity,omitempty"`
	Start    civil.Date `json:"start"`
	DUAEnd   civil.Date `json:"dua_end"`
	Reason   string     `json:"reason,omitempty"`
}

// VersementHeader is the block at the top of a bordereau de versement.
type VersementHeader struct {
	RunID         string     // the run's identifier: the slip's identifier
	Date          civil.Date // the date of the run
	Profile       string
	Establishment string
	Originating   Agency
	Transferring  Agency
	Archival      Agency
	Agreement     string // the ingest contract (ArchivalAgreement)
}

// VersementDossier is one dossier transferred, as the pipeline hands it to Add.
type VersementDossier struct {
	Class       string
	Description string
	Tier        string // intermediate or final
	Rule        Rule
	Access      Access     // its access rule, with this dossier's end date in Access.End
	Start, End  civil.Date // the dossier's dates; zero End: Start
	Rows, Bytes int64
	SIP         string // the identifier of the SIP holding it
}

// Access is a communicability rule (SEDA AccessRule) as the slip cites it.
type Access struct {
	ID    string     `json:"id,omitempty"`
	Title string     `json:"title,omitempty"`
	End   civil.Date `json:"end"` // on a lot: the latest end of its dossiers (all communicable after it)
}

// SIP is one package of a run and where it went.
type SIP struct {
	ID        string `json:"id"` // the MessageIdentifier
	File      string `json:"file,omitempty"`
	SHA256    string `json:"sha256"`
	Bytes     int64  `json:"bytes"`
	Dossiers  int64  `json:"dossiers"`
	Target    string `json:"target,omitempty"`    // where it was sent (dir://, s3://, vitam://)
	Operation string `json:"operation,omitempty"` // the VITAM operation id, when known (a VITAM target only)
	ATR       string `json:"atr,omitempty"`       // the ATR's result (OK, KO, WARNING), when known
	// Class and Tier, when set, put the SIP in the lot of that class and tier even when its
	// dossiers were added without it (the pipeline knows a SIP's identifier only once it is
	// closed); its bytes then count for a lot whose dossiers' sizes were not known.
	Class string `json:"class,omitempty"`
	Tier  string `json:"tier,omitempty"`
}

// Versement is a bordereau de versement: the header, one lot per class and tier, the SIPs.
type Versement struct {
	ID            string         `json:"id"`
	Date          civil.Date     `json:"date"`
	Profile       string         `json:"profile"`
	Establishment string         `json:"establishment,omitempty"`
	Originating   Agency         `json:"originating_agency"`
	Transferring  Agency         `json:"transferring_agency"`
	Archival      Agency         `json:"archival_agency"`
	Agreement     string         `json:"archival_agreement,omitempty"`
	Lots          []VersementLot `json:"lots"`
	SIPs          []SIP          `json:"sips"`
	Dossiers      int64          `json:"dossiers"`
	Rows          int64          `json:"rows"`
	Bytes         int64          `json:"bytes"`
	Visa          []Visa         `json:"visa"`
}

// VersementLot is one line of the slip: the dossiers of one class in one tier.
type VersementLot struct {
	ID          string     `json:"id"` // "<run id>/V001"
	Class       string     `json:"class"`
	Description string     `json:"description,omitempty"`
	Tier        string     `json:"tier"`
	Start       civil.Date `json:"start"`
	End         civil.Date `json:"end"`
	Dossiers    int64      `json:"dossiers"`
	Rows        int64      `json:"rows"`
	Bytes       int64      `json:"bytes"`
	Rules       []Rule     `json:"rules"`
	Access      []Access   `json:"access,omitempty"`
	SIPs        []string   `json:"sips"`
}

// ToVITAM says whether the SIP went to VITAM, the only target with an operation and an ATR: for a
// folder or a bucket the slip leaves those cells empty rather than "not known yet".
func (s SIP) ToVITAM() bool { return strings.HasPrefix(s.Target, "vitam") }
