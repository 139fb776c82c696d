package retention

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestReferentialRoundTrip(t *testing.T) {
	s, err := ParseSchedule([]byte(goodSchedule+`  - id: HOL-OPEN
    where: INDIVIDU.COD_IND == 7
    reason: enquête
`), "univ.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.Referential()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ref.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := `RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement
APP-APO-IA,AppraisalRule,Dossier étudiant (tableau de gestion validé par les AD),tableau de gestion 2024 visé par les AD69,8,year
ACC-PERS-50,AccessRule,Vie privée : 50 ans à compter du document le plus récent (L213-2 I 3°),Code du patrimoine L213-2 I 3°,50,year
APP-APO-COPIES,AppraisalRule,Copies d'examen,(à confirmer),1,year
HOL-TA-2025,HoldRule,Gel: contentieux TA Lyon n° 2025-0012,contentieux TA Lyon n° 2025-0012,,
HOL-OPEN,HoldRule,Gel: enquête,enquête,,
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	back, err := ReadReferential(strings.NewReader(b.String()), "ref.csv")
	if err != nil {
		t.Fatal(err)
	}
	strip := func(rs []ReferentialRule) []ReferentialRule {
		out := append([]ReferentialRule(nil), rs...)
		for i := range out {
			out[i].Origin = ""
		}
		return out
	}
	if !reflect.DeepEqual(strip(back.Rules), strip(ref.Rules)) {
		t.Errorf("round trip:\n%+v\n%+v", back.Rules, ref.Rules)
	}
	var again bytes.Buffer
	if err := back.WriteCSV(&again); err != nil || again.String() != b.String() {
		t.Errorf("second write differs: %v\n%s", err, again.String())
	}
}

func TestReferentialUnits(t *testing.T) {
	in := "\ufeffRuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\n" +
		"STO-1,StorageRule,DUC,,18,Month\nACC-1,AccessRule,Libre,,0,year\nAPP-9,AppraisalRule,Illimité,,unlimited,YEAR\n" +
		"DIS-1,DisseminationRule,Diffusion,,25,year\nAPP-D,AppraisalRule,Jours,,90,day\n"
	ref, err := ReadReferential(strings.NewReader(in), "vitam.csv")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Duration{}
	for _, r := range ref.Rules {
		got[r.ID] = r.Duration
	}
	want := map[string]Duration{"STO-1": {Months: 18}, "ACC-1": {}, "APP-9": {Unlimited: true}, "DIS-1": {Years: 25}, "APP-D": {Days: 90}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("durations %v", got)
	}
	// 1y6m is written as 18 months, the one unit VITAM allows per rule, and equals it.
	if err := ref.Add(ReferentialRule{ID: "STO-1", Type: StorageRuleType, Value: "DUC", Duration: Duration{Years: 1, Months: 6}}); err != nil {
		t.Errorf("1y6m vs 18 months: %v", err)
	}
	long := &Referential{Rules: []ReferentialRule{{ID: "APP-L", Type: AppraisalRuleType, Duration: Duration{Years: 1000}}}}
	if err := long.WriteCSV(&bytes.Buffer{}); err == nil || err.Error() != "rule APP-L: duration 1000y is longer than VITAM accepts (999 years): use unlimited" {
		t.Errorf("1000y: %v", err)
	}
	bad := &Referential{Rules: []ReferentialRule{{ID: "APP-X", Type: AppraisalRuleType, Duration: Duration{Months: 1, Days: 2}}}}
	if err := bad.WriteCSV(&bytes.Buffer{}); err == nil || err.Error() != "rule APP-X: duration 1m2d mixes days with months or years: VITAM's referential has one unit per rule" {
		t.Errorf("mixed units: %v", err)
	}
}

// TestReferentialConflict: one id with two definitions is refused, naming both.
func TestReferentialConflict(t *testing.T) {
	in := "RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\n" +
		"ACC-PERS-50,AccessRule,Vie privée,,50,year\nAPP-1,AppraisalRule,A,,7,year\nACC-PERS-50,AccessRule,Vie privée,,25,year\n"
	_, err := ReadReferential(strings.NewReader(in), "vitam.csv")
	want := `vitam.csv: conflicting definitions of rule ACC-PERS-50: AccessRule 50y "Vie privée" (line 2) and AccessRule 25y "Vie privée" (line 4)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	// The same definition twice is not a conflict.
	dup := "RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\nAPP-1,AppraisalRule,A,,7,year\nAPP-1,AppraisalRule,A,,84,month\n"
	if ref, err := ReadReferential(strings.NewReader(dup), "dup.csv"); err != nil || len(ref.Rules) != 1 {
		t.Errorf("identical duplicate: %v", err)
	}

	// Two schedules giving one access id different durations.
	a, _ := BuiltinSchedule("apogee")
	other, err := ParseSchedule([]byte(strings.Replace(goodSchedule, "duration: 50y", "duration: 25y", 1)), "univ.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := a.Referential()
	ro, _ := other.Referential()
	err = ra.Merge(ro)
	want = `conflicting definitions of rule APP-APO-IA: AppraisalRule 7y "Données personnelles du traitement Apogée (dossier étudiant)" (rule APP-APO-IA of builtin:apogee) and AppraisalRule 8y "Dossier étudiant (tableau de gestion validé par les AD)" (rule APP-APO-IA of univ.yaml)`
	if err == nil || err.Error() != want {
		t.Errorf("merge:\n got %v\nwant %s", err, want)
	}
	// Both built-in schedules share ACC-PERS-50 with the same definition: one referential.
	h, _ := BuiltinSchedule("harpege")
	rh, _ := h.Referential()
	ra, _ = a.Referential()
	if err := ra.Merge(rh); err != nil || len(ra.Rules) != 3 {
		t.Errorf("apogee + harpege: %v (%d rules)", err, len(ra.Rules))
	}
}

func TestReadReferentialErrors(t *testing.T) {
	head := "RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement\n"
	for _, tc := range []struct{ in, want string }{
		{"RuleId,RuleType,Value,RuleDescription,RuleDuration,RuleMeasurement\n", `r.csv:1: header column 3 is "Value", want "RuleValue" (RuleId,RuleType,RuleValue,RuleDescription,RuleDuration,RuleMeasurement)`},
		{head + "APP-1,AppraisalRul,A,,7,year\n", `r.csv:2: rule APP-1: RuleType "AppraisalRul" is not a VITAM rule type`},
		{head + "APP-1,AppraisalRule,A,,sept,year\n", `r.csv:2: rule APP-1: RuleDuration "sept": want a non-negative integer or unlimited`},
		{head + "APP-1,AppraisalRule,A,,7,week\n", `r.csv:2: rule APP-1: RuleMeasurement "week": want year, month or day`},
		{head + "APP-1,AppraisalRule,A,,,\n", `r.csv:2: rule APP-1: RuleDuration "": want a non-negative integer or unlimited`},
		{head + ",AppraisalRule,A,,7,year\n", `r.csv:2: RuleId is empty`},
		{head + "APP-1,AppraisalRule,A,7,year\n", `r.csv: record on line 2: wrong number of fields`},
		{"", `r.csv: EOF`},
	} {
		_, err := ReadReferential(strings.NewReader(tc.in), "r.csv")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}
