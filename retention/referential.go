package retention

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RuleType is a category of VITAM's rule referential.
type RuleType string

// The rule types versement writes (VITAM also knows DisseminationRule, ReuseRule and
// ClassificationRule, which it reads and keeps).
const (
	AppraisalRuleType RuleType = "AppraisalRule"
	AccessRuleType    RuleType = "AccessRule"
	StorageRuleType   RuleType = "StorageRule"
	HoldRuleType      RuleType = "HoldRule"
)

var ruleTypes = map[string]RuleType{
	"AppraisalRule": AppraisalRuleType, "AccessRule": AccessRuleType, "StorageRule": StorageRuleType,
	"HoldRule": HoldRuleType, "DisseminationRule": "DisseminationRule", "ReuseRule": "ReuseRule",
	"ClassificationRule": "ClassificationRule",
}

// ReferentialRule is one line of VITAM's rule referential CSV.
type ReferentialRule struct {
	ID          string
	Type        RuleType
	Value       string // the rule's title
	Description string
	Duration    Duration
	NoDuration  bool   // HoldRule only: no duration (the hold's end date is given per unit)
	Origin      string // where versement took it from ("rule APP-APO-IA", "line 3"), for conflict messages
}

// ReferentialHeader is the CSV header VITAM expects.
var ReferentialHeader = []string{"RuleId", "RuleType", "RuleValue", "RuleDescription", "RuleDuration", "RuleMeasurement"}

// durationCSV expresses d in the one unit VITAM allows: years, else months, else days.
func durationCSV(d Duration) (string, string, error) {
	// VITAM's importer refuses more than 999 years, 11 988 months or 359 640 days.
	if !d.Unlimited && (d.Years > 999 || 12*d.Years+d.Months > 11988 || d.Days > 359640) {
		return "", "", fmt.Errorf("duration %s is longer than VITAM accepts (999 years): use unlimited", d)
	}
	switch {
	case d.Unlimited:
		return "unlimited", "year", nil
	case d.Days == 0 && d.Months == 0:
		return strconv.Itoa(d.Years), "year", nil
	case d.Days == 0:
		return strconv.Itoa(12*d.Years + d.Months), "month", nil
	case d.Years == 0 && d.Months == 0:
		return strconv.Itoa(d.Days), "day", nil
	}
	return "", "", fmt.Errorf("duration %s mixes days with months or years: VITAM's referential has one unit per rule", d)
}

func (r ReferentialRule) same(o ReferentialRule) bool {
	if r.ID != o.ID || r.Type != o.Type || r.Value != o.Value || r.Description != o.Description || r.NoDuration != o.NoDuration {
		return false
	}
	// 7 years and 84 months are the same period (both clamp to the end of the target month).
	return canonical(r.Duration) == canonical(o.Duration)
}

func canonical(d Duration) Duration {
	if d.Unlimited {
		return Duration{Unlimited: true}
	}
	return Duration{Months: 12*d.Years + d.Months, Days: d.Days}
}

func (r ReferentialRule) String() string {
	d := r.Duration.String()
	if r.NoDuration {
		d = "no duration"
	}
	return fmt.Sprintf("%s %s %q", r.Type, d, r.Value)
}

// Referential is a rule referential with unique ids.
type Referential struct {
	Rules []ReferentialRule
	index map[string]int
}

// Add adds r; the same definition again is ignored, a different one with the same id is refused
// with an error naming both.
func (ref *Referential) Add(r ReferentialRule) error {
	if ref.index == nil {
		ref.index = map[string]int{}
		for i, x := range ref.Rules {
			ref.index[x.ID] = i
		}
	}
	if i, ok := ref.index[r.ID]; ok {
		prev := ref.Rules[i]
		if prev.same(r) {
			return nil
		}
		return fmt.Errorf("conflicting definitions of rule %s: %s (%s) and %s (%s)", r.ID, prev, prev.Origin, r, r.Origin)
	}
	ref.index[r.ID] = len(ref.Rules)
	ref.Rules = append(ref.Rules, r)
	return nil
}

// Merge adds every rule of other, stopping at the first conflict.
func (ref *Referential) Merge(other *Referential) error {
	for _, r := range other.Rules {
		if err := ref.Add(r); err != nil {
			return err
		}
	}
	return nil
}

// Referential lists the rules of the schedule as VITAM referential lines: each AppraisalRule
// (its DUA, which the SIP's StartDate completes), its AccessRule, StorageRule (the DUC) and the
// HoldRules of its holds. Two rules sharing an access id with different durations are refused.
func (s *Schedule) Referential() (*Referential, error) {
	ref := &Referential{}
	for _, r := range s.Rules {
		origin := "rule " + r.ID + " of " + s.Source
		desc := r.Basis
		switch {
		case r.Status == ToConfirm:
			// VITAM shows RuleDescription to French archivists: the status is said in French.
			desc = strings.TrimSpace(desc + " (à confirmer)")
		case r.ActiveToConfirm():
			// The text verified covers the DUA; the end of the active phase is the team's reading.
			desc = strings.TrimSpace(desc + " ; phase active : interprétation, à confirmer")
		}
		if err := ref.Add(ReferentialRule{ID: r.ID, Type: AppraisalRuleType, Value: r.Title, Description: desc, Duration: r.DUA, Origin: origin}); err != nil {
			return nil, err
		}
		if r.Storage != "" {
			if err := ref.Add(ReferentialRule{ID: r.Storage, Type: StorageRuleType, Value: "DUC: " + r.Title, Description: desc, Duration: r.Active, Origin: origin}); err != nil {
				return nil, err
			}
		}
		if a := r.Access; a != nil {
			title := a.Title
			if title == "" {
				title = "Communicabilité " + a.Duration.String()
			}
			if err := ref.Add(ReferentialRule{ID: a.ID, Type: AccessRuleType, Value: title, Description: a.Basis, Duration: a.Duration, Origin: origin}); err != nil {
				return nil, err
			}
		}
	}
	for _, h := range s.Holds {
		if err := ref.Add(ReferentialRule{ID: h.ID, Type: HoldRuleType, Value: "Gel: " + h.Reason, Description: h.Reason, NoDuration: true, Origin: "hold " + h.ID + " of " + s.Source}); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// WriteCSV writes the referential as VITAM imports it.
func (ref *Referential) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReferentialHeader); err != nil {
		return err
	}
	for _, r := range ref.Rules {
		dur, unit := "", ""
		if !r.NoDuration {
			var err error
			if dur, unit, err = durationCSV(r.Duration); err != nil {
				return fmt.Errorf("rule %s: %w", r.ID, err)
			}
		}
		if err := cw.Write([]string{r.ID, string(r.Type), r.Value, r.Description, dur, unit}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadReferential reads a VITAM rule referential CSV; name is used in errors. A rule id defined
// twice with different values is refused.
func ReadReferential(r io.Reader, name string) (*Referential, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(ReferentialHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	for i, h := range ReferentialHeader {
		if head[i] != h {
			return nil, fmt.Errorf("%s:1: header column %d is %q, want %q (%s)", name, i+1, head[i], h, strings.Join(ReferentialHeader, ","))
		}
	}
	ref := &Referential{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ref, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		at := fmt.Sprintf("%s:%d", name, line)
		rr := ReferentialRule{ID: rec[0], Value: rec[2], Description: rec[3], Origin: fmt.Sprintf("line %d", line)}
		if rr.ID == "" {
			return nil, fmt.Errorf("%s: RuleId is empty", at)
		}
		t, ok := ruleTypes[rec[1]]
		if !ok {
			return nil, fmt.Errorf("%s: rule %s: RuleType %q is not a VITAM rule type", at, rr.ID, rec[1])
		}
		rr.Type = t
		dur, unit := strings.TrimSpace(rec[4]), strings.ToLower(strings.TrimSpace(rec[5]))
		switch {
		case dur == "" && unit == "" && t == HoldRuleType:
			rr.NoDuration = true
		case strings.EqualFold(dur, "unlimited"):
			rr.Duration.Unlimited = true
		default:
			n, err := strconv.Atoi(dur)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: rule %s: RuleDuration %q: want a non-negative integer or unlimited", at, rr.ID, rec[4])
			}
			switch unit {
			case "year":
				rr.Duration.Years = n
			case "month":
				rr.Duration.Months = n
			case "day":
				rr.Duration.Days = n
			default:
				return nil, fmt.Errorf("%s: rule %s: RuleMeasurement %q: want year, month or day", at, rr.ID, rec[5])
			}
		}
		if err := ref.Add(rr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
}
