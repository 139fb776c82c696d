package pipeline

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
)

// Report is what a run did, for the JSON report and the human summary.
type Report struct {
	expected int64 // dossiers the source holds in the classes read so far, when it can count them

	Profile      string           `json:"profile"`
	Source       string           `json:"source"`
	Dialect      string           `json:"dialect"`
	AsOf         civil.Date       `json:"as_of"`
	DryRun       bool             `json:"dry_run"`
	Decommission bool             `json:"decommission"`
	ArchiveTiers []retention.Tier `json:"archive_tiers"`
	Started      time.Time        `json:"started"`
	Finished     time.Time        `json:"finished"`
	Seconds      float64          `json:"duration_seconds"`

	Dossiers int64 `json:"dossiers"`
	// Tiers counts the dossiers per tier where this run puts them (decommission mode included).
	Tiers map[retention.Tier]int64 `json:"tiers"`
	// Rules counts per class, rule and tier, with the rule's status.
	Rules []RuleCount `json:"rules"`
	// Archived is how many dossiers went (or would go, in a dry run) into SIPs.
	Archived int64 `json:"archived"`
	// AlreadyArchived is how many dossiers of an archived tier earlier runs had already archived at
	// that tier (the state database says so): they are not archived again.
	AlreadyArchived int64 `json:"already_archived"`
	// Decommissioned is how many active dossiers decommission mode sent to intermediate archiving
	// (counted in Tiers as intermediate).
	Decommissioned int64 `json:"decommissioned"`
	// Eliminations is how many dossiers the elimination proposal lists.
	Eliminations int64 `json:"eliminations"`
	// Undetermined lists the first undetermined dossiers with their reason (all are counted in Tiers).
	Undetermined []Undetermined `json:"undetermined,omitempty"`
	// UndeterminedClasses counts the undetermined dossiers of each class, with their reason when
	// they all share one (a rule reading a table the base lacks).
	UndeterminedClasses []UndeterminedClass `json:"undetermined_classes,omitempty"`
	// Anomalies counts the data anomalies of the decisions (dates that cannot be true, or that the
	// rule had to arbitrate), per class and code, with the first keys: they never change a tier, but
	// the archivist should look at them.
	Anomalies []AnomalyCount `json:"anomalies,omitempty"`

	SIPs   []SIP  `json:"sips"`
	Ledger string `json:"ledger,omitempty"` // the ledger file the SIPs are recorded in
	// LedgerHead is where the ledger ended with this run, COUNT:HASH (ledger.Head): an auditor
	// checks later with `versement verify --ledger FILE --head COUNT:HASH` that nothing was removed
	// from its end since.
	LedgerHead string `json:"ledger_head,omitempty"`
	// LedgerRerecorded are SIPs the state marks sent whose ledger entry was lost: recorded again
	// (from the state, checked at the target) by this run. LedgerLost are those the target did not
	// have either: this run archived their dossiers again.
	LedgerRerecorded []string `json:"ledger_rerecorded,omitempty"`
	LedgerLost       []string `json:"ledger_lost,omitempty"`
	// SpoolDamaged are SIPs an earlier run left in the spool whose file did not match the state's
	// record (size or SHA-256): set aside in spool/damaged/, and written again by this run.
	SpoolDamaged []SpoolDamaged `json:"spool_damaged,omitempty"`
	// Years counts the dossiers per year of their start event and tier (the plan's first chart);
	// a dossier without a start date (undetermined) is not in it.
	Years []YearCount `json:"years,omitempty"`
	// Forecast is what comes due in each of the ForecastYears years from the as-of date's: the
	// dossiers leaving the active phase, and those reaching the end of their DUA, to be kept
	// (final) or proposed for elimination.
	Forecast []ForecastYear `json:"forecast,omitempty"`
	// Documents are the bordereaux the run wrote (Config.Documents).
	Documents []string `json:"documents,omitempty"`
	// Interrupted: the run was stopped (SIGINT, SIGTERM) before its end; what it sent is listed.
	Interrupted       bool    `json:"interrupted,omitempty"`
	State             string  `json:"state,omitempty"` // the state database
	Bytes             int64   `json:"bytes"`
	DossiersPerSecond float64 `json:"dossiers_per_second"`
	BytesPerSecond    float64 `json:"bytes_per_second"`

	index     map[ruleKey]int
	classes   map[string]int64
	anomalies map[anomalyKey]int
	years     map[int]map[retention.Tier]int64
	forecast  map[int]*ForecastYear
}

// AnomalyCount is how many dossiers of a class have an anomaly with that code.
type AnomalyCount struct {
	Class    string                `json:"class"`
	Code     retention.AnomalyCode `json:"code"`
	Dossiers int64                 `json:"dossiers"`
	// Keys are the first MaxAnomalyKeys of them, in the order they were read, with control
	// characters written as Go escapes (\x1b): the report is read on terminals.
	Keys []string `json:"keys"`
}

// MaxAnomalyKeys bounds AnomalyCount.Keys.
const MaxAnomalyKeys = 10

type anomalyKey struct {
	class string
	code  retention.AnomalyCode
}

// anomalyOrder is the order reports list the codes in: retention's, then any other by name.
var anomalyOrder = []retention.AnomalyCode{retention.BirthInFuture, retention.EndBeforeStart, retention.InPostPastMaxAge, retention.DUAEndedWhileActive}

// RuleCount is how many dossiers of a class a rule put in a tier.
type RuleCount struct {
	Class    string           `json:"class"`
	Rule     string           `json:"rule"`
	Status   retention.Status `json:"status"`
	Tier     retention.Tier   `json:"tier"`
	Dossiers int64            `json:"dossiers"`
	Archived bool             `json:"archived"` // the tier is archived in this run
}

type ruleKey struct {
	class, rule string
	tier        retention.Tier
}

// Undetermined is a dossier no tier could be found for, and why.
type Undetermined struct {
	Class  string             `json:"class"`
	Key    string             `json:"key"`
	Reason string             `json:"reason"`
	dec    retention.Decision // for the reason in the reader's language
}

// UndeterminedClass is how many dossiers of a class are undetermined; Reason is set when every one
// of them is undetermined for the same reason.
type UndeterminedClass struct {
	Class    string `json:"class"`
	Dossiers int64  `json:"dossiers"`
	Reason   string `json:"reason,omitempty"`
	mixed    bool
	dec      retention.Decision // the first one, for the shared reason in the reader's language
}

// MaxUndeterminedListed bounds Report.Undetermined, so that a broken rule over a million dossiers
// does not make a million-line report.
const MaxUndeterminedListed = 100

// SIP is one package the run wrote and sent (filled in by the packaging stage).
type SIP struct {
	sip.Record
	Location  string           `json:"location"`             // where the target put it
	Target    string           `json:"target,omitempty"`     // the target's URL without secrets
	Receipt   transfer.Receipt `json:"receipt"`              // what the target acknowledged
	LedgerSeq int64            `json:"ledger_seq,omitempty"` // the ledger entry recording it
	// Recovered: written by an earlier run (interrupted, or failed before sending it), sent by this one. AlreadySent: the ledger already
	// recorded it (a rebuilt SIP that an earlier run had sent).
	Recovered   bool `json:"recovered,omitempty"`
	AlreadySent bool `json:"already_sent,omitempty"`

	units []sip.Unit // as its builder wrote them, for the index; nil for a SIP found in the spool
}

func newReport(p *profiles.Profile, cfg Config, asOf civil.Date, tiers []retention.Tier) *Report {
	return &Report{
		Profile: p.Name, Source: cfg.SourceName, Dialect: cfg.Source.Dialect(), AsOf: asOf,
		DryRun: cfg.DryRun, Decommission: cfg.Decommission, ArchiveTiers: tiers,
		Started: time.Now().UTC(), Tiers: map[retention.Tier]int64{}, SIPs: []SIP{},
		index: map[ruleKey]int{}, classes: map[string]int64{}, anomalies: map[anomalyKey]int{},
	}
}

func (r *Report) count(class string, dec retention.Decision, tier retention.Tier, archived bool) {
	r.Dossiers++
	r.countYears(dec, tier)
	r.classes[class]++
	r.Tiers[tier]++
	k := ruleKey{class, dec.Rule, tier}
	i, ok := r.index[k]
	if !ok {
		i = len(r.Rules)
		r.index[k] = i
		r.Rules = append(r.Rules, RuleCount{Class: class, Rule: dec.Rule, Status: dec.Status, Tier: tier, Archived: archived})
	}
	r.Rules[i].Dossiers++
	if archived {
		r.Archived++
	}
	if tier == retention.ToDestroy {
		r.Eliminations++
	}
	if dec.Tier == retention.Active && tier == retention.Intermediate {
		r.Decommissioned++
	}
	if dec.Tier == retention.Undetermined {
		if len(r.Undetermined) < MaxUndeterminedListed {
			r.Undetermined = append(r.Undetermined, Undetermined{Class: class, Key: dec.Key, Reason: dec.Reason, dec: dec})
		}
		r.undetermined(class).add(dec)
	}
	for j, a := range dec.Anomalies {
		// A decision lists each code at most once; were it not to, the dossier still counts once.
		if slices.ContainsFunc(dec.Anomalies[:j], func(b retention.Anomaly) bool { return b.Code == a.Code }) {
			continue
		}
		k := anomalyKey{class, a.Code}
		i, ok := r.anomalies[k]
		if !ok {
			i = len(r.Anomalies)
			r.anomalies[k] = i
			r.Anomalies = append(r.Anomalies, AnomalyCount{Class: class, Code: a.Code, Keys: []string{}})
		}
		ac := &r.Anomalies[i]
		ac.Dossiers++
		if len(ac.Keys) < MaxAnomalyKeys {
			ac.Keys = append(ac.Keys, textsafe.Terminal(dec.Key))
		}
	}
}

func (r *Report) classDossiers(class string) int64 { return r.classes[class] }

// undetermined is the class's entry in UndeterminedClasses, added if needed.
func (r *Report) undetermined(class string) *UndeterminedClass {
	for i := range r.UndeterminedClasses {
		if r.UndeterminedClasses[i].Class == class {
			return &r.UndeterminedClasses[i]
		}
	}
	r.UndeterminedClasses = append(r.UndeterminedClasses, UndeterminedClass{Class: class})
	return &r.UndeterminedClasses[len(r.UndeterminedClasses)-1]
}

// undeterminedOf is the class's entry in UndeterminedClasses (zero dossiers if none).
func (r *Report) undeterminedOf(class string) UndeterminedClass {
	for _, u := range r.UndeterminedClasses {
		if u.Class == class {
			return u
		}
	}
	return UndeterminedClass{Class: class}
}

// examples is the first five keys, and "…" when there are more than n of them in all.
func examples(keys []string, n int64) string {
	more := ""
	if len(keys) > 5 {
		keys = keys[:5]
	}
	if n > int64(len(keys)) {
		more = ", …"
	}
	return strings.Join(keys, ", ") + more
}

func (u *UndeterminedClass) add(dec retention.Decision) {
	reason := dec.Reason
	switch {
	case u.Dossiers == 0:
		u.Reason, u.dec = reason, dec
	case !u.mixed && reason != u.Reason:
		u.Reason, u.mixed = "", true
	}
	u.Dossiers++
}

func (r *Report) addSIPs(sips []SIP) {
	for _, s := range sips {
		r.SIPs = append(r.SIPs, s)
		r.Bytes += s.Bytes
	}
}

func (r *Report) finish(start time.Time) {
	r.Finished = time.Now().UTC()
	r.finishYears()
	d := time.Since(start)
	r.Seconds = d.Seconds()
	if r.Seconds > 0 {
		r.DossiersPerSecond = float64(r.Dossiers) / r.Seconds
		r.BytesPerSecond = float64(r.Bytes) / r.Seconds
	}
	slices.SortStableFunc(r.Anomalies, func(a, b AnomalyCount) int {
		if a.Class != b.Class {
			return strings.Compare(a.Class, b.Class)
		}
		if oa, ob := anomalyRank(a.Code), anomalyRank(b.Code); oa != ob {
			return oa - ob
		}
		return strings.Compare(string(a.Code), string(b.Code))
	})
	// Stable order for people and for tests: class, then tier in lifecycle order, then rule.
	sort.SliceStable(r.Rules, func(i, j int) bool {
		a, b := r.Rules[i], r.Rules[j]
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		if tierOrder(a.Tier) != tierOrder(b.Tier) {
			return tierOrder(a.Tier) < tierOrder(b.Tier)
		}
		return a.Rule < b.Rule
	})
}

func anomalyRank(c retention.AnomalyCode) int {
	if i := slices.Index(anomalyOrder, c); i >= 0 {
		return i
	}
	return len(anomalyOrder)
}

// AllTiers lists the tiers in the order reports print them.
var AllTiers = []retention.Tier{retention.Active, retention.Intermediate, retention.Final,
	retention.ToDestroy, retention.Held, retention.Undetermined}

func tierOrder(t retention.Tier) int {
	if i := slices.Index(AllTiers, t); i >= 0 {
		return i
	}
	return len(AllTiers)
}

// TierCounts is Tiers keyed by plain strings, as a scheduler's run result carries them.
func (r *Report) TierCounts() map[string]int {
	out := make(map[string]int, len(r.Tiers))
	for t, n := range r.Tiers {
		out[string(t)] = int(n)
	}
	return out
}
