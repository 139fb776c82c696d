package seda

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/beevik/etree"
	"github.com/versement/versement/civil"
)

// ErrHoldRuleVersion is returned when a HoldRule is asked for in a SEDA 2.1 message: 2.1 has no
// HoldRule and VITAM's acceptance of it there is a non-standard extension.
var ErrHoldRuleVersion = errors.New("seda: HoldRule exists only from SEDA 2.2 on; write the package as 2.2 or 2.3, or leave the hold out")

// appendTo writes m's rule categories under parent in the XSD's order.
func (m Management) appendTo(parent *etree.Element, v Version) error {
	if len(m.Hold) > 0 && !v.HasHoldRule() {
		return ErrHoldRuleVersion
	}
	if m.Storage != nil {
		e := parent.CreateElement("StorageRule")
		if err := m.Storage.RuleGroup.appendTo(e, "StorageRule"); err != nil {
			return err
		}
		if err := finalAction(e, "StorageRule", m.Storage.FinalAction, StorageRestrictAccess, StorageTransfer, StorageCopy); err != nil {
			return err
		}
	}
	if m.Appraisal != nil {
		e := parent.CreateElement("AppraisalRule")
		if err := m.Appraisal.RuleGroup.appendTo(e, "AppraisalRule"); err != nil {
			return err
		}
		if err := finalAction(e, "AppraisalRule", m.Appraisal.FinalAction, AppraisalKeep, AppraisalDestroy); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		name string
		g    *RuleGroup
	}{{"AccessRule", m.Access}, {"DisseminationRule", m.Dissemination}, {"ReuseRule", m.Reuse}} {
		if c.g != nil {
			if err := c.g.appendTo(parent.CreateElement(c.name), c.name); err != nil {
				return err
			}
		}
	}
	if c := m.Classification; c != nil {
		e := parent.CreateElement("ClassificationRule")
		if err := c.RuleGroup.appendTo(e, "ClassificationRule"); err != nil {
			return err
		}
		if c.Audience != "" {
			if err := tokenElem(e, "ClassificationAudience", c.Audience); err != nil {
				return err
			}
		}
		if err := tokenElem(e, "ClassificationLevel", c.Level); err != nil {
			return err
		}
		if err := tokenElem(e, "ClassificationOwner", c.Owner); err != nil {
			return err
		}
		dateElem(e, "ClassificationReassessingDate", c.ReassessingDate)
		boolElem(e, "NeedReassessingAuthorization", c.NeedReassessingAuthorization)
	}
	boolElem(parent, "NeedAuthorization", m.NeedAuthorization)
	if len(m.Hold) > 0 {
		e := parent.CreateElement("HoldRule")
		for _, h := range m.Hold {
			if err := tokenElem(e, "Rule", h.Rule); err != nil {
				return fmt.Errorf("HoldRule: %w", err)
			}
			dateElem(e, "StartDate", h.StartDate)
			dateElem(e, "HoldEndDate", h.EndDate)
			if h.Owner != "" {
				textElem(e, "HoldOwner", h.Owner)
			}
			dateElem(e, "HoldReassessingDate", h.ReassessingDate)
			if h.Reason != "" {
				textElem(e, "HoldReason", h.Reason)
			}
			boolElem(e, "PreventRearrangement", h.PreventRearrangement)
		}
	}
	return nil
}

func (g RuleGroup) appendTo(e *etree.Element, category string) error {
	for _, r := range g.Rules {
		if err := tokenElem(e, "Rule", r.Rule); err != nil {
			return fmt.Errorf("%s: %w", category, err)
		}
		if !r.StartDate.IsZero() && !r.StartDate.Valid() {
			return fmt.Errorf("seda: %s %s: start date %v does not exist", category, r.Rule, r.StartDate)
		}
		dateElem(e, "StartDate", r.StartDate)
	}
	if g.PreventInheritance && len(g.RefNonRuleID) > 0 {
		return fmt.Errorf("seda: %s: PreventInheritance and RefNonRuleId exclude each other in the XSD; give one", category)
	}
	if g.PreventInheritance {
		e.CreateElement("PreventInheritance").SetText("true")
	}
	for _, id := range g.RefNonRuleID {
		if err := tokenElem(e, "RefNonRuleId", id); err != nil {
			return fmt.Errorf("%s: %w", category, err)
		}
	}
	return nil
}

func finalAction(e *etree.Element, category, got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			e.CreateElement("FinalAction").SetText(got)
			return nil
		}
	}
	return fmt.Errorf("seda: %s FinalAction %q: want one of %v", category, got, allowed)
}

func tokenElem(parent *etree.Element, name, value string) error {
	v, err := token(name, value)
	if err != nil {
		return err
	}
	parent.CreateElement(name).SetText(v)
	return nil
}

func textElem(parent *etree.Element, name, value string) {
	v, _ := CleanText(value)
	parent.CreateElement(name).SetText(v)
}

func dateElem(parent *etree.Element, name string, d civil.Date) {
	if !d.IsZero() {
		parent.CreateElement(name).SetText(d.String())
	}
}

func boolElem(parent *etree.Element, name string, b *bool) {
	if b != nil {
		parent.CreateElement(name).SetText(strconv.FormatBool(*b))
	}
}
