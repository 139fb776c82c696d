package sip

import (
	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

// Management is the SEDA Management block of a dossier's ArchiveUnit, written so that VITAM,
// computing EndDate = StartDate + the referential's duration, finds the same dates as the decision:
//
//   - AppraisalRule: the rule's id with StartDate = where the DUA clock starts (the end of the DUC,
//     or the start event for dua_from: start), since the referential's AppraisalRule line carries the
//     DUA only; FinalAction from Decision.AppraisalAction.
//   - StorageRule (when the rule names one): its id with StartDate = the start event, the
//     referential line carrying the DUC; FinalAction RestrictAccess unless the rule says otherwise.
//   - AccessRule: the access id with StartDate = the access start.
//   - HoldRule: the hold that applies, from SEDA 2.2 on only (2.1 has no HoldRule).
//
// An undetermined decision gives no rules, and one whose DUA has not started (an agent still in
// post) no AppraisalRule StartDate rather than a guessed one: VITAM then computes no EndDate.
func Management(d retention.Decision, v seda.Version) seda.Management {
	var m seda.Management
	action := d.AppraisalAction()
	if action == "" {
		return m
	}
	final := seda.AppraisalKeep
	if action == retention.Destroy {
		final = seda.AppraisalDestroy
	}
	m.Appraisal = &seda.AppraisalRule{
		RuleGroup:   seda.RuleGroup{Rules: []seda.RuleRef{{Rule: d.Rule, StartDate: d.DUAStart}}},
		FinalAction: final,
	}
	if id, action := d.StorageRule(); id != "" {
		if action == "" {
			action = seda.StorageRestrictAccess
		}
		m.Storage = &seda.StorageRule{
			RuleGroup:   seda.RuleGroup{Rules: []seda.RuleRef{{Rule: id, StartDate: d.Start}}},
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

// RetainUntil is the date before which nothing may delete a dossier's SIP: the end of its DUA (no
// elimination before it, and only with the archives' visa after it), of its access restriction or
// of its hold, whichever is later. A final dossier is kept for ever; the lock then protects it at
// least as long as its access period, and the archive's own policy does the rest.
func RetainUntil(d retention.Decision) civil.Date {
	until := d.DUAEnd
	if d.AccessEnd.After(until) {
		until = d.AccessEnd
	}
	if d.Hold != nil && d.Hold.Until.After(until) {
		until = d.Hold.Until
	}
	return until
}
