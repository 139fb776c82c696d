package retention

import "github.com/versement/versement/civil"

// Rule is one line of a retention schedule (tableau de gestion): when the clock starts, how long the
// dossier stays active (DUC) and then in intermediate archiving (DUA), and what happens at the end.
type Rule struct {
	ID          string      // the SEDA/VITAM AppraisalRule id, e.g. "APP-APO-IA"
	Title       string      // what the rule covers, in the archivist's words
	StartEvent  string      // expression over the dossier's rows giving the start date (see Env)
	Active      Duration    // DUC: the active phase, from the start date
	DUA         Duration    // the intermediate phase, from the end of the active phase
	FinalAction FinalAction // at the end of the DUA
	Sampling    *Sampling   // for FinalAction == Sample; nil keeps every dossier and says so
	Access      *AccessRule // communicability (SEDA AccessRule)
	Storage     string      // optional StorageRule id for the DUC
	Basis       string      // legal basis or source text
	Status      Status
}

// Duration is a period in calendar years, months and days, or Unlimited.
type Duration struct {
	Years, Months, Days int
	Unlimited           bool
}

// FinalAction is what happens to a dossier when its DUA ends.
type FinalAction string

// Final actions (sort final).
const (
	Keep    FinalAction = "keep"    // C: conserver, to the final archives
	Destroy FinalAction = "destroy" // D: détruire, proposed for elimination with the archives' visa
	Sample  FinalAction = "sample"  // T: trier, kept when the sampling selects it, else proposed for elimination
)

// Status says whether a rule's values were checked against their legal source.
type Status string

// Statuses of a rule.
const (
	Verified  Status = "verified"
	ToConfirm Status = "to-confirm"
)

// AccessRule is the communicability period (Code du patrimoine L213-2).
type AccessRule struct {
	ID         string   // e.g. "ACC-00016"
	StartEvent string   // expression; empty: the rule's own start date
	Duration   Duration // e.g. 50 years
}

// Sampling selects which dossiers of a Sample rule are kept, deterministically, as French archives do.
// A dossier is kept when any criterion given selects it.
type Sampling struct {
	Letters       []string // initial letter(s) of the birth surname, e.g. B and T
	SurnameExpr   string   // expression giving the birth surname
	BirthDays     []int    // days of the month of birth
	BirthExpr     string   // expression giving the date of birth
	YearModulo    int      // keep when the start year modulo YearModulo == YearRemainder
	YearRemainder int
}

// Hold is a legal hold: the dossiers it covers are never proposed for destruction while it lasts.
type Hold struct {
	ID     string   // SEDA HoldRule id, e.g. "HOL-00001"
	Keys   []string // dossier keys it covers
	Where  string   // or an expression over the dossier's rows
	Reason string
	Until  civil.Date // zero: until lifted
}

// Tier is where a decision puts a dossier.
type Tier string

// Tiers.
const (
	Active       Tier = "active"
	Intermediate Tier = "intermediate"
	Final        Tier = "final"   // kept (FinalAction keep, or sampled in)
	ToDestroy    Tier = "destroy" // proposed for elimination
	Held         Tier = "held"    // would be destroyed, but a legal hold applies
	Undetermined Tier = "undetermined"
)

// Decision is the outcome of a rule for one dossier at one date, with everything needed to explain it.
type Decision struct {
	Tier      Tier
	Rule      string
	Status    Status
	Start     civil.Date // the start event's date
	ActiveEnd civil.Date // end of the DUC
	DUAEnd    civil.Date // end of the DUA; zero when unlimited
	AccessID  string
	AccessEnd civil.Date
	Sampled   bool   // FinalAction sample: whether the dossier was selected
	Hold      *Hold  // the hold that applies, if any
	Reason    string // why the tier (always set for Undetermined)
	AsOf      civil.Date
}
