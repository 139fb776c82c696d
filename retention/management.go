package retention

import (
	"github.com/versement/versement/seda"
)

// Management fills the SEDA Management block of the dossier's ArchiveUnit so that VITAM, computing
// EndDate = StartDate + the referential's duration, finds the same dates as the decision:
//
//   - AppraisalRule: the rule's id with StartDate = where the DUA clock starts (the end of the DUC,
//     or the start event for dua_from: start), since the referential's AppraisalRule line carries the
//     DUA only; FinalAction Keep for keep and for sampled-in dossiers (and a sample without
//     criteria, and an active dossier whose sampling could not be read yet), Destroy for destroy
//     and sampled-out ones.
//   - StorageRule (when the rule names one): its id with StartDate = the start event, the
//     referential line carrying the DUC; FinalAction RestrictAccess unless the rule says otherwise.
//   - AccessRule: the access id with StartDate = the access start.
//   - HoldRule: the hold that applies, from SEDA 2.2 on only (2.1 has no HoldRule).
//
// An undetermined decision, or one whose DUA has not started (an agent still in post), gives no
// AppraisalRule StartDate rather than a guessed one: VITAM then computes no EndDate.
func (d Decision) Management(v seda.Version) seda.Management {
	var m seda.Management
	r := d.rule
	if r == nil || d.Tier == Undetermined {
		return m
	}
	final := seda.AppraisalKeep
	if r.FinalAction == Destroy || (r.FinalAction == Sample && !d.Sampled && !d.SamplingUnknown) {
		final = seda.AppraisalDestroy
	}
	m.Appraisal = &seda.AppraisalRule{
		RuleGroup:   seda.RuleGroup{Rules: []seda.RuleRef{{Rule: r.ID, StartDate: d.DUAStart}}},
		FinalAction: final,
	}
	if r.Storage != "" {
		action := r.StorageFinalAction
		if action == "" {
			action = seda.StorageRestrictAccess
		}
		m.Storage = &seda.StorageRule{
			RuleGroup:   seda.RuleGroup{Rules: []seda.RuleRef{{Rule: r.Storage, StartDate: d.Start}}},
			FinalAction: action,
		}
	}
	if d.AccessID != "" {
		m.Access = &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: d.AccessID, StartDate: d.AccessStart}}}
	}
	if h := d.Hold; h != nil && v.HasHoldRule() {
		m.Hold = []seda.HoldRule{{Rule: h.ID, StartDate: h.Since, EndDate: h.Until, Reason: h.Reason}}
	}
	return m
}
