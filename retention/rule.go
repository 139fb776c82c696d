package retention

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/versement/versement/civil"
)

// Rule is one line of a retention schedule (tableau de gestion): when the clock starts, how long the
// dossier stays active (DUC) and then in intermediate archiving (DUA), and what happens at the end.
type Rule struct {
	ID                 string      // the SEDA/VITAM AppraisalRule id, e.g. "APP-APO-IA"
	Title              string      // what the rule covers, in the archivist's words
	StartEvent         string      // expression over the dossier's rows giving the start date (see docs/retention.md)
	StartLabel         string      // what the start event is when its expression does not say ("date of birth")
	Active             Duration    // DUC: the active phase, from the start date (ignored when ActiveUntil is set)
	ActiveUntil        string      // optional expression giving the end of the active phase instead (an agent's departure)
	ActiveUntilIs      EndKind     // what ActiveUntil's date is: the first day out (default) or the last day in
	ActiveStatus       Status      // of the active phase alone, when it is an interpretation of a verified rule; empty: Status
	DUA                Duration    // the intermediate phase
	DUAFrom            DUAFrom     // where the DUA clock starts: the end of the DUC (default) or the start event
	OpenPastDUA        Precedence  // dua_from: start: what wins when the DUA ends while the active phase is open
	FinalAction        FinalAction // at the end of the DUA
	Sampling           *Sampling   // for FinalAction == Sample; nil keeps every dossier and says so
	Access             *AccessRule // communicability (SEDA AccessRule)
	Storage            string      // optional StorageRule id for the DUC (needs a fixed Active duration)
	StorageFinalAction string      // SEDA StorageRule FinalAction; empty: RestrictAccess
	Ceiling            Duration    // optional legal maximum of DUC + DUA (Apogée: 10 years, arrêté 26/01/1995 art. 4)
	Checks             *Checks     // plausibility checks of the dossier's dates (data anomalies; they never change the tier)
	Basis              string      // legal basis or source text
	Note               string      // what the archivist should know (what is still to confirm, an interpretation)
	Status             Status
}

// DUAFrom says where the DUA clock starts.
type DUAFrom string

// Starts of the DUA clock.
const (
	// FromActiveEnd: the DUA follows the DUC (Apogée: 3 years active, then 7 years intermediate).
	FromActiveEnd DUAFrom = "active-end"
	// FromStart: the DUA is counted from the start event itself, overlapping the DUC (Harpège: the
	// individual file is kept until 80 years after the agent's birth, whenever the agent left).
	FromStart DUAFrom = "start"
)

// EndKind says what a recorded end date means.
type EndKind string

// Kinds of end dates.
const (
	// FirstDayOut: the date is the first day the activity is over (the half-open convention of
	// the engine's periods): on that day the dossier is already in the next phase.
	FirstDayOut EndKind = "first-day-out"
	// LastDayIn: the date is the last day of the activity (inclusive, as HR bases record an
	// assignment "until 31 August"): the next phase starts the day after.
	LastDayIn EndKind = "last-day-in"
)

// Precedence says which of two periods decides when they disagree.
type Precedence string

// Precedences of open_past_dua.
const (
	// DUAEndWins: once the DUA has ended the final action applies, even if the active phase is
	// still open (the arrêté of 21/12/2012 art. 2 counts the personnel file's DUA from birth,
	// whatever the career). The default.
	DUAEndWins Precedence = "dua-end"
	// ActiveWins: the dossier stays active as long as its active phase is open.
	ActiveWins Precedence = "active"
)

// Checks are plausibility checks of a dossier's dates. What they find is reported as Anomalies of
// the decision, with a stable code; they never change the tier. A value a check cannot read as a
// date is skipped (the rule's own expressions report it when it matters).
type Checks struct {
	Birth        string   // expression giving the date of birth: BIRTH_IN_FUTURE, and IN_POST_PAST_MAX_AGE with MaxAgeInPost
	MaxAgeInPost Duration // IN_POST_PAST_MAX_AGE when the active phase is open on or after birth + this (Harpège: 100y)
	Periods      []Period // END_BEFORE_START, row by row
}

// Period names a start and an end column of one table, checked row by row for an end before its start.
type Period struct {
	Table, Start, End string
}

// Duration is a period in calendar years, months and days, or Unlimited.
type Duration struct {
	Years, Months, Days int
	Unlimited           bool
}

// IsZero reports whether d is the empty period (zero days, not unlimited).
func (d Duration) IsZero() bool { return d == Duration{} }

// AddTo returns the date d after from: years and months first, clamped to the end of the month
// (civil.Date.AddMonths: 29 February + 1 year is 28 February, as Java's LocalDate.plus that VITAM
// uses), then days. It returns the zero date for Unlimited.
func (d Duration) AddTo(from civil.Date) civil.Date {
	if d.Unlimited || from.IsZero() {
		return civil.Date{}
	}
	return from.AddMonths(12*d.Years + d.Months).AddDays(d.Days)
}

// String writes the period as ParseDuration reads it: "3y", "1y6m", "30d", "0d", "unlimited".
func (d Duration) String() string {
	if d.Unlimited {
		return "unlimited"
	}
	var b strings.Builder
	if d.Years != 0 {
		fmt.Fprintf(&b, "%dy", d.Years)
	}
	if d.Months != 0 {
		fmt.Fprintf(&b, "%dm", d.Months)
	}
	if d.Days != 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dd", d.Days)
	}
	return b.String()
}

// ParseDuration reads "unlimited" or one or more <integer><unit> terms with unit y, m or d (also
// "years", "months", "days" and their singulars), e.g. "7y", "1y6m", "90d", "80 years".
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(strings.ToLower(s))
	if in == "unlimited" {
		return Duration{Unlimited: true}, nil
	}
	if in == "" {
		return Duration{}, fmt.Errorf("empty duration: want e.g. 7y, 18m, 30d, 1y6m or unlimited")
	}
	var d Duration
	seen := map[byte]bool{}
	rest := in
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Duration{}, fmt.Errorf("duration %q: want e.g. 7y, 18m, 30d, 1y6m or unlimited", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 999999 {
			return Duration{}, fmt.Errorf("duration %q: number too large", s)
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		var u byte
		switch unit {
		case "y", "year", "years":
			u, d.Years = 'y', n
		case "m", "month", "months":
			u, d.Months = 'm', n
		case "d", "day", "days":
			u, d.Days = 'd', n
		default:
			return Duration{}, fmt.Errorf("duration %q: unit %q: want y, m or d", s, unit)
		}
		if seen[u] {
			return Duration{}, fmt.Errorf("duration %q: unit %c given twice", s, u)
		}
		seen[u] = true
	}
	return d, nil
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
	ID         string   // e.g. "ACC-PERS-50"
	Title      string   // the referential's description
	StartEvent string   // expression; empty: the rule's own start date
	Duration   Duration // e.g. 50 years
	Basis      string
}

// Sampling selects which dossiers of a Sample rule are kept, deterministically, as French archives do.
// A dossier is kept when any criterion given selects it.
type Sampling struct {
	Letters       []string // initial letter(s) of the birth surname, e.g. B and T (accents and case folded)
	SurnameExpr   string   // expression giving the birth surname
	BirthDays     []int    // days of the month of birth
	BirthExpr     string   // expression giving the date of birth
	YearModulo    int      // keep when the year modulo YearModulo == YearRemainder
	YearRemainder int
	YearExpr      string // expression giving the year (a number, a year code or a date); empty: the start date's year
}

// ActiveToConfirm reports whether the rule is verified but its active phase is an interpretation
// still to be confirmed (Harpège: active until the agent leaves), which rules list and the
// referential must say ("à confirmer").
func (r Rule) ActiveToConfirm() bool {
	return r.Status == Verified && r.ActiveStatus == ToConfirm
}

// StatusLabel is the rule's status as rules list prints it: "TO CONFIRM", "verified", or
// "verified, active phase à confirmer" for a verified rule whose active phase is an interpretation.
func (r Rule) StatusLabel() string {
	switch {
	case r.Status == ToConfirm:
		return "TO CONFIRM"
	case r.ActiveToConfirm():
		return "verified, active phase à confirmer"
	}
	return "verified"
}

// HasCriteria reports whether any criterion is set; a Sampling without one keeps everything.
func (s *Sampling) HasCriteria() bool {
	return s != nil && (len(s.Letters) > 0 || len(s.BirthDays) > 0 || s.YearModulo > 0)
}

// Hold is a legal hold: the dossiers it covers are never proposed for destruction while it lasts.
type Hold struct {
	ID     string   // SEDA HoldRule id, e.g. "HOL-00001"
	Keys   []string // dossier keys it covers
	Where  string   // or an expression over the dossier's rows
	Reason string
	Since  civil.Date // HoldRule StartDate; zero: left out
	Until  civil.Date // last day of the hold (HoldEndDate); zero: until lifted
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

// Rank orders the tiers a dossier goes through as time passes: active, intermediate, then one of
// final, destroy or held. Undetermined is -1.
func (t Tier) Rank() int {
	switch t {
	case Active:
		return 0
	case Intermediate:
		return 1
	case Final, ToDestroy, Held:
		return 2
	}
	return -1
}

// Decision is the outcome of a rule for one dossier at one date, with everything needed to explain it.
type Decision struct {
	Tier        Tier
	Rule        string
	Status      Status
	Key         string     // the dossier's key
	Start       civil.Date // the start event's date
	StartNote   string     // how it was found, e.g. "end of year 2015-2016"
	ActiveEnd   civil.Date // end of the DUC (the first day out of it)
	ActiveNote  string     // how the end of the DUC was found, when ActiveUntil gave it
	Ongoing     bool       // ActiveUntil says the activity has not ended (an open-ended row)
	DUAStart    civil.Date // where the DUA clock starts (the AppraisalRule StartDate)
	DUAEnd      civil.Date // end of the DUA; zero when unlimited
	AccessID    string
	AccessStart civil.Date
	AccessEnd   civil.Date
	Sampled     bool // FinalAction sample: whether the dossier was selected (true when no criteria)
	// SamplingUnknown: an active dossier whose sampling criteria could not be read (a NULL surname);
	// its Management says Keep, never Destroy on a doubt.
	SamplingUnknown bool
	Hold            *Hold  // the hold that applies, if any
	Reason          string // why the tier (always set for Undetermined)
	AsOf            civil.Date
	// LastDayIn is the recorded end of the active phase when the rule reads it as the last day in
	// (ActiveEnd is then the day after); zero otherwise.
	LastDayIn civil.Date
	// Anomalies are what the dates of the dossier say that cannot be true, or that the rule had to
	// arbitrate (the DUA ended while the active phase is open): at most one per code, in a fixed
	// order, for the plan and the report to count. They never make a decision undetermined.
	Anomalies []Anomaly

	rule   *CompiledRule
	noEnd  bool // active_until gave no date, and the DUA counted from the start decided alone
	reason msg  // Reason, to be printed in the reader's language
}

// AnomalyCode names a kind of data anomaly. The codes are stable: plans and reports count them.
type AnomalyCode string

// Anomaly codes, in the order a decision lists them.
const (
	// BirthInFuture: the date of birth is after the as-of date.
	BirthInFuture AnomalyCode = "BIRTH_IN_FUTURE"
	// EndBeforeStart: a row's end date is before its start date (Checks.Periods).
	EndBeforeStart AnomalyCode = "END_BEFORE_START"
	// InPostPastMaxAge: the active phase is open on or after birth + Checks.MaxAgeInPost (100 years).
	InPostPastMaxAge AnomalyCode = "IN_POST_PAST_MAX_AGE"
	// DUAEndedWhileActive: with dua_from: start, the DUA has ended while the active phase is still
	// open (an agent past 80 still in post in the base); OpenPastDUA says which won.
	DUAEndedWhileActive AnomalyCode = "DUA_ENDED_WHILE_ACTIVE"
)

// Anomaly is one data anomaly of a dossier: its code and what was found, with the dates.
type Anomaly struct {
	Code   AnomalyCode `json:"code"`
	Detail string      `json:"detail"`
}

func (a Anomaly) String() string { return "anomaly " + string(a.Code) + ": " + a.Detail }

// Has reports whether the decision carries an anomaly with that code.
func (d Decision) Has(code AnomalyCode) bool {
	for _, a := range d.Anomalies {
		if a.Code == code {
			return true
		}
	}
	return false
}
