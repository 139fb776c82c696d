package sip

import (
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// apogeeInscription is the shape of Apogée's registration rule: the DUA counts from the end of the
// DUC, itself from the end of the last academic year.
var apogeeInscription = retention.Rule{ID: "APP-APO-IA", StartEvent: `endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))`,
	Active: retention.Duration{Years: 3}, DUA: retention.Duration{Years: 7}, FinalAction: retention.Destroy,
	Access: &retention.AccessRule{ID: "ACC-PERS-50", Duration: retention.Duration{Years: 50}}, Status: retention.Verified, Storage: "STO-APO-3"}

func decide(t *testing.T, r retention.Rule, year string, asOf string) retention.Decision {
	t.Helper()
	c, err := retention.Compile(r, retention.MonthDay{})
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{{"COD_ANU": "2010", "ETA_IAA": "A"}}
	if year != "" {
		rows = append(rows, map[string]any{"COD_ANU": year, "ETA_IAA": "E"})
	}
	env := map[string]any{"INS_ADM_ANU": rows}
	return c.Decide(env, "42", day(asOf))
}

// VITAM computes each rule's EndDate = StartDate + the referential's duration: the StartDates
// written are those that give the decision's dates back.
func TestManagementMatchesVITAM(t *testing.T) {
	d := decide(t, apogeeInscription, "2015", "2020-01-01")
	m := Management(d, seda.V21)
	if m.Appraisal == nil || m.Appraisal.Rules[0] != (seda.RuleRef{Rule: "APP-APO-IA", StartDate: day("2019-08-31")}) || m.Appraisal.FinalAction != seda.AppraisalDestroy {
		t.Fatalf("appraisal %+v (decision %s)", m.Appraisal, d.Explain())
	}
	if end := apogeeInscription.DUA.AddTo(m.Appraisal.Rules[0].StartDate); end != d.DUAEnd {
		t.Errorf("VITAM end %s, decision %s", end, d.DUAEnd)
	}
	if m.Storage == nil || m.Storage.Rules[0] != (seda.RuleRef{Rule: "STO-APO-3", StartDate: day("2016-08-31")}) || m.Storage.FinalAction != seda.StorageRestrictAccess {
		t.Errorf("storage %+v", m.Storage)
	}
	if apogeeInscription.Active.AddTo(m.Storage.Rules[0].StartDate) != d.ActiveEnd {
		t.Errorf("storage end differs")
	}
	if m.Access == nil || m.Access.Rules[0] != (seda.RuleRef{Rule: "ACC-PERS-50", StartDate: day("2016-08-31")}) {
		t.Errorf("access %+v", m.Access)
	}
	if len(m.Hold) != 0 {
		t.Errorf("hold without a hold")
	}
	if u := RetainUntil(d); u != d.AccessEnd {
		t.Errorf("retain until %s, want the access end %s", u, d.AccessEnd)
	}
}

func TestManagementOfAnUndeterminedDossierIsEmpty(t *testing.T) {
	d := decide(t, apogeeInscription, "", "2020-01-01")
	if d.Tier != retention.Undetermined {
		t.Fatalf("tier %s: %s", d.Tier, d.Explain())
	}
	if m := Management(d, seda.V22); !m.IsZero() {
		t.Errorf("management %+v", m)
	}
}

func TestHoldRuleFromSEDA22Only(t *testing.T) {
	d := decide(t, apogeeInscription, "2015", "2020-01-01")
	d.Hold = &retention.Hold{ID: "HOL-LIT-1", Since: day("2025-01-10"), Until: day("2030-12-31"), Reason: "contentieux"}
	if m := Management(d, seda.V22); len(m.Hold) != 1 || m.Hold[0] != (seda.HoldRule{Rule: "HOL-LIT-1", StartDate: day("2025-01-10"), EndDate: day("2030-12-31"), Reason: "contentieux"}) {
		t.Errorf("2.2 hold %+v", m.Hold)
	}
	if m := Management(d, seda.V21); len(m.Hold) != 0 {
		t.Errorf("2.1 has HoldRule: %+v", m.Hold)
	}
	if u := RetainUntil(d); u != d.AccessEnd {
		t.Errorf("retain until %s, want the access end %s (after the hold's end)", u, d.AccessEnd)
	}
	d.Hold.Until = day("2099-12-31")
	if u := RetainUntil(d); u != d.Hold.Until {
		t.Errorf("retain until %s, want the hold's end", u)
	}
}
