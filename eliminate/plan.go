package eliminate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/civil"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
)

// The plan is the execution's decisions, one line per dossier of the proposal: spared (and why),
// in the source, or to destroy from the SIPs the state names. It is taken once, as of the first
// execution, and kept in the proposal's folder: a run killed halfway and run again, even days
// later, applies the same decisions, and a second execution of a visa destroys nothing the first
// spared (a dossier spared and still due goes into a new proposal, with a new visa).

// Plan outcomes, before the archive has been touched. A dossier planned for destruction ends
// destroyed, or spared when the archive could not yet remove it (locked, not found).
const planDestroy = "destroy"

// planned is one dossier of the proposal, as decided.
type planned struct {
	Lot      string     `json:"lot"`
	Class    string     `json:"class"`
	Key      string     `json:"key"`
	Identity string     `json:"identity,omitempty"`
	Start    civil.Date `json:"start,omitzero"`
	DUAEnd   civil.Date `json:"dua_end,omitzero"`
	Rule     string     `json:"rule,omitempty"`
	Outcome  string     `json:"outcome"` // planDestroy, bordereau.OutcomeSpared or OutcomeInSource
	Reason   string     `json:"reason,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	SIPs     []string   `json:"sips,omitempty"` // where the state says it is archived
}

// plan is the decisions in their file, and the SIPs to rewrite with the keys to drop from each.
type plan struct {
	path  string
	temp  bool // a dry run's plan, removed when done
	bySIP map[string][]string
	asOf  civil.Date
}

func (p *plan) close() {
	if p.temp {
		os.Remove(p.path)
	}
}

// lines reads the plan's dossiers back, in proposal order.
func (p *plan) lines(fn func(planned) error) error {
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("elimination plan: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	first := true
	for sc.Scan() {
		if first { // the header line
			first = false
			continue
		}
		var d planned
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return fmt.Errorf("elimination plan %s: %w", p.path, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return sc.Err()
}

// planHeader is the plan file's first line: what it was decided on.
type planHeader struct {
	Visa     string     `json:"visa"`
	Proposal string     `json:"proposal"`
	SHA256   string     `json:"proposal_sha256"`
	AsOf     civil.Date `json:"as_of"`
}

func planName(ref string) string { return "plan-" + sip.FileSafe(ref) + ".jsonl" }

// plan returns the execution's decisions: the kept plan of an earlier execution of this visa, or
// new ones, written atomically before anything is touched.
func (ex *execution) plan(ctx context.Context) (*plan, error) {
	kept := filepath.Join(ex.dir, planName(ex.v.Reference))
	if !ex.o.DryRun {
		if pl, err := readPlan(kept, ex); err == nil || !errors.Is(err, os.ErrNotExist) {
			return pl, err
		}
	}
	tmp, err := os.CreateTemp(ex.dir, ".plan-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("elimination plan: %w", err)
	}
	pl := &plan{path: tmp.Name(), temp: true, bySIP: map[string][]string{}, asOf: ex.o.AsOf}
	fail := func(err error) (*plan, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	w := bufio.NewWriterSize(tmp, 1<<16)
	enc := json.NewEncoder(w)
	if err := enc.Encode(planHeader{Visa: ex.v.Reference, Proposal: ex.p.ID, SHA256: ex.p.SHA256, AsOf: ex.o.AsOf}); err != nil {
		return fail(err)
	}
	err = ex.p.Annex(func(a bordereau.AnnexLine) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := ex.decide(ctx, a)
		if err != nil {
			return err
		}
		if d.Outcome == planDestroy {
			for _, s := range d.SIPs {
				pl.bySIP[s] = append(pl.bySIP[s], d.Key)
			}
		}
		return enc.Encode(d)
	})
	if err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if ex.o.DryRun {
		return pl, nil
	}
	if err := os.Rename(tmp.Name(), kept); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("elimination plan: %w", err)
	}
	if err := syncDir(ex.dir); err != nil {
		return nil, err
	}
	pl.path, pl.temp = kept, false
	return pl, nil
}

// readPlan reads a kept plan and rebuilds its SIP groups.
func readPlan(path string, ex *execution) (*plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var h planHeader
	err = json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&h)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("elimination plan %s: %w", path, err)
	}
	if h.Visa != ex.v.Reference || h.Proposal != ex.p.ID || h.SHA256 != ex.p.SHA256 {
		return nil, fmt.Errorf("elimination plan %s is of visa %s on proposal %s (sha256 %s), not of visa %s: the state folder was edited", path, h.Visa, h.Proposal, h.SHA256, ex.v.Reference)
	}
	pl := &plan{path: path, bySIP: map[string][]string{}, asOf: h.AsOf}
	err = pl.lines(func(d planned) error {
		if d.Outcome == planDestroy {
			for _, s := range d.SIPs {
				pl.bySIP[s] = append(pl.bySIP[s], d.Key)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ex.o.AsOf = h.AsOf // decisions were taken then; the attestation says so
	return pl, nil
}

// decide re-decides one dossier of the proposal as of the execution.
func (ex *execution) decide(ctx context.Context, a bordereau.AnnexLine) (planned, error) {
	d := planned{Lot: a.Lot, Class: a.Class, Key: a.Key, Identity: a.Identity, Start: a.Start, DUAEnd: a.DUAEnd, Outcome: bordereau.OutcomeSpared}
	lot, _ := ex.p.Lot(a.Lot)
	d.Rule = lot.Rule.ID
	switch accepted, answered := ex.v.Answered(a.Lot); {
	case !answered:
		d.Reason = "unanswered"
		return d, nil
	case !accepted:
		d.Reason = "refused"
		return d, nil
	}
	prof := ex.o.Profile
	c := prof.Class(a.Class)
	if c == nil {
		d.Reason, d.Detail = "tier-changed", "class-removed"
		return d, nil
	}
	sched := prof.Schedule()
	rule, ok := sched.Rule(c.Rule)
	switch {
	case !ok || rule.ID != lot.Rule.ID:
		d.Reason, d.Detail = "tier-changed", "rule-changed"
		return d, nil
	case rule.FinalAction == retention.Keep:
		d.Reason, d.Detail = "tier-changed", string(retention.Final)
		return d, nil
	}
	asOf := ex.o.AsOf
	dec, found, err := ex.fromSource(ctx, c.Name, a.Key, asOf)
	if err != nil {
		return d, err
	}
	if found {
		switch tier := pipeline.ArchiveTier(dec, false); tier {
		case retention.ToDestroy:
		case retention.Held:
			d.Reason = "hold"
			if dec.Hold != nil {
				d.Detail = dec.Hold.ID
			}
			return d, nil
		default:
			d.Reason, d.Detail = "tier-changed", string(tier)
			return d, nil
		}
	} else {
		// No rows to decide from: the proposal's dates, the rule and the holds as they are now.
		if a.DUAEnd.IsZero() || a.DUAEnd.After(asOf) {
			d.Reason, d.Detail = "tier-changed", string(retention.Intermediate)
			return d, nil
		}
		for _, h := range sched.Holds {
			if !h.Until.IsZero() && asOf.After(h.Until) || !h.Since.IsZero() && asOf.Before(h.Since) {
				continue
			}
			if slices.Contains(h.Keys, a.Key) || strings.TrimSpace(h.Where) != "" {
				// A hold on an expression cannot be evaluated without the dossier's rows:
				// sparing it is the only answer that cannot destroy what a hold protects.
				d.Reason, d.Detail = "hold", h.ID
				return d, nil
			}
		}
	}
	locs, err := ex.st.Locate(ctx, prof.Name, a.Class, a.Key)
	if err != nil {
		return d, err
	}
	for _, l := range locs {
		d.SIPs = append(d.SIPs, l.SIP)
	}
	// A dossier destroyed by an interrupted execution of this visa whose plan was lost is
	// already out of the state's dossiers: what the state recorded of it stands.
	gone, err := ex.st.Eliminations(ctx, prof.Name, a.Class, a.Key)
	if err != nil {
		return d, err
	}
	for _, g := range gone {
		if g.Visa == ex.v.Reference && !slices.Contains(d.SIPs, g.SIP) {
			d.SIPs = append(d.SIPs, g.SIP)
		}
	}
	if len(d.SIPs) == 0 {
		d.Outcome, d.Reason = bordereau.OutcomeInSource, ""
		return d, nil
	}
	slices.Sort(d.SIPs)
	d.Outcome, d.Reason, d.Detail = planDestroy, "", ""
	return d, nil
}

// fromSource decides the dossier from its rows, when the source is given and still has it.
func (ex *execution) fromSource(ctx context.Context, class, key string, asOf civil.Date) (retention.Decision, bool, error) {
	if ex.o.Source == nil {
		return retention.Decision{}, false, nil
	}
	exs, err := pipeline.Explain(ctx, ex.o.Profile, ex.o.Source, pipeline.ExplainQuery{Class: class, Key: key, AsOf: asOf})
	if errors.Is(err, pipeline.ErrNoDossier) {
		return retention.Decision{}, false, nil
	}
	if err != nil {
		return retention.Decision{}, false, fmt.Errorf("elimination: re-deciding dossier %s of class %s from the source: %w", key, class, err)
	}
	return exs[0].Decision, true, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("elimination: sync %s: %w", dir, err)
	}
	return nil
}
