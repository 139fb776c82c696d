package eliminate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/transfer/ledger"
)

// finish turns the plan and what the archive did into the attestation, writes it, and records
// the execution in the ledger. A later execution that changed nothing (the same outcomes: a lock
// still running) writes and records nothing.
func (ex *execution) finish(ctx context.Context) (*Executed, error) {
	o := ex.o
	res := &Executed{Visa: ex.v, Proposal: ex.p}
	bySIP := map[string]*sipResult{}
	for _, s := range ex.sips {
		r := &sipResult{out: s, removed: map[string]bool{}, notFound: map[string]bool{}}
		for _, k := range s.Removed {
			r.removed[k] = true
		}
		for _, k := range s.NotFound {
			r.notFound[k] = true
		}
		bySIP[s.Old] = r
		if s.locked() {
			res.Locked++
		}
		if s.New != "" {
			res.Rewritten++
		}
	}
	vitamOut := map[[2]string]vitamSpare{}
	for _, d := range ex.vitamDestroyed {
		vitamOut[[2]string{d.sip, d.key}] = d
	}
	for _, d := range ex.vitamSpared {
		vitamOut[[2]string{d.sip, d.key}] = d
	}
	h := bordereau.AttestationHeader{Proposal: ex.p.ID, Profile: ex.p.Profile, Establishment: ex.p.Establishment, Date: o.AsOf,
		Originating: ex.p.Originating, Transferring: ex.p.Transferring, Archival: ex.p.Archival, Executor: o.Executor, DryRun: o.DryRun,
		Visa: bordereau.VisaRecord{Reference: ex.v.Reference, Date: ex.v.Date, Signatory: ex.v.Signatory, ImportedBy: ex.visaEntry.Elimination.ImportedBy, ImportedAt: ex.visaEntry.Time}}
	b, err := bordereau.NewAttestationBuilder(h, ex.dir)
	if err != nil {
		return nil, err
	}
	counts := map[string]*[3]int64{}
	var destroyedKeys []string
	pending := int64(0)
	err = ex.pl.lines(func(d planned) error {
		a := bordereau.AttestationDossier{Lot: d.Lot, Class: d.Class, Key: d.Key, Identity: d.Identity, Start: d.Start, DUAEnd: d.DUAEnd, Rule: d.Rule,
			Outcome: d.Outcome, Reason: d.Reason, Detail: d.Detail, SIP: strings.Join(d.SIPs, " ")}
		if d.Outcome == planDestroy {
			a.Outcome, a.Reason, a.Detail = ex.outcome(d, bySIP, vitamOut)
		}
		c := counts[d.Lot]
		if c == nil {
			c = new([3]int64)
			counts[d.Lot] = c
		}
		switch a.Outcome {
		case bordereau.OutcomeDestroyed:
			c[0]++
			destroyedKeys = append(destroyedKeys, d.Class+"\t"+d.Key)
		case bordereau.OutcomeSpared:
			c[1]++
			if a.Reason == "locked" {
				pending++
			}
		default:
			c[2]++
		}
		return b.AddDossier(a)
	})
	if err != nil {
		b.Abort()
		return nil, err
	}
	for _, l := range ex.p.Lots {
		c := counts[l.ID]
		if c == nil {
			c = new([3]int64)
		}
		dec := ""
		if acc, ok := ex.v.Answered(l.ID); ok && acc {
			dec = bordereau.DecisionAccepted
		} else if ok {
			dec = bordereau.DecisionRefused
		}
		b.AddLot(bordereau.AttestationLot{LineID: l.ID, Class: l.Class, Rule: l.Rule, DUAEndYear: l.DUAEndYear, Decision: dec,
			Proposed: c[0] + c[1] + c[2], Destroyed: c[0], Spared: c[1]})
	}
	for _, s := range ex.sips {
		if len(s.Removed) == 0 {
			continue
		}
		b.AddSIP(bordereau.RewrittenSIP{Old: s.Old, OldSHA256: s.OldSHA256, New: s.New, NewSHA256: s.NewSHA256, Target: s.Target,
			Removed: len(s.Removed), Kept: s.Kept, Deleted: s.Deleted, LockedUntil: lockDate(s.LockedUntil)})
	}
	for _, op := range ex.ops {
		b.AddOperation(bordereau.VITAMOperation{Kind: op.Kind, ID: op.ID, Status: op.Status, Units: op.Units})
	}
	slices.Sort(destroyedKeys)
	kh := sha256.New()
	for _, k := range destroyedKeys {
		io.WriteString(kh, k+"\n")
	}
	keysSHA := hex.EncodeToString(kh.Sum(nil))
	el := ledger.Elimination{Proposal: ex.p.ID, ProposalSHA256: ex.p.SHA256, Reference: ex.v.Reference, Date: ex.v.Date.String(),
		Signatory: ex.v.Signatory, Pending: pending, KeysSHA256: keysSHA}
	if prev := o.Ledger.Executions(ex.v.Reference); !o.DryRun && len(prev) > 0 {
		last := prev[len(prev)-1].Elimination
		if last.KeysSHA256 == keysSHA && last.Pending == pending && last.Operation == lastOp(ex.ops) {
			b.Abort()
			res.NothingToDo, res.Entry = true, prev[len(prev)-1]
			res.Destroyed, res.Spared, res.InSource = last.Destroyed, last.Spared, last.InSource
			return res, nil
		}
	}
	att, err := b.Finish(o.Ledger.Head().String())
	if err != nil {
		return nil, err
	}
	defer att.Close()
	res.Destroyed, res.Spared, res.InSource, res.AttestationID = att.Destroyed, att.Spared, att.InSource, att.ID
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("attestation: %w", err)
	}
	base := filepath.Join(o.Out, attestationBase(ex.v.Reference, o.DryRun))
	var jsonBuf bytes.Buffer
	if err := bordereau.WriteAttestationJSON(&jsonBuf, att); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(jsonBuf.Bytes())
	res.AttestationSHA = hex.EncodeToString(sum[:])
	write := func(path string, fn func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			return fmt.Errorf("attestation %s: %w", path, err)
		}
		if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
			return err
		}
		res.Files = append(res.Files, path)
		return nil
	}
	steps := []struct {
		path string
		fn   func(io.Writer) error
	}{
		{base + ".json", func(w io.Writer) error { _, err := w.Write(jsonBuf.Bytes()); return err }},
		{base + ".html", func(w io.Writer) error { return bordereau.WriteAttestationHTML(w, att, o.Lang) }},
		{base + ".csv", func(w io.Writer) error { return bordereau.WriteAttestationCSV(w, att, o.Lang) }},
	}
	if att.InSource > 0 {
		steps = append(steps, struct {
			path string
			fn   func(io.Writer) error
		}{filepath.Join(o.Out, sourceKeysName(ex.v.Reference, o.DryRun)), func(w io.Writer) error { return bordereau.WriteSourceTablesCSV(w, att, ex.sourceTables, o.Lang) }})
	}
	for _, s := range steps {
		if err := write(s.path, s.fn); err != nil {
			return nil, err
		}
	}
	if o.DryRun {
		return res, nil
	}
	crashPoint("attested")
	el.Destroyed, el.Spared, el.InSource = att.Destroyed, att.Spared, att.InSource
	el.Attestation, el.AttestationSH, el.Operation = filepath.Base(base+".json"), res.AttestationSHA, lastOp(ex.ops)
	e, err := o.Ledger.Append(ledger.Entry{Kind: ledger.KindElimination, Status: ledger.StatusRecorded, Profile: ex.p.Profile, Elimination: &el,
		Note: fmt.Sprintf("attestation %s, executed as of %s", att.ID, o.AsOf)})
	if err != nil {
		return nil, fmt.Errorf("elimination: %w", err)
	}
	res.Entry = e
	return res, nil
}

// sipResult is a SIP's outcome with its keys as sets.
type sipResult struct {
	out               sipOutcome
	removed, notFound map[string]bool
}

// outcome is what became of a dossier the plan destroys: destroyed once it is out of every SIP
// it was in and those SIPs are gone (or rewritten, in a dry run); otherwise spared, and why.
func (ex *execution) outcome(d planned, bySIP map[string]*sipResult, vitamOut map[[2]string]vitamSpare) (outcome, reason, detail string) {
	outcome = bordereau.OutcomeDestroyed
	for _, s := range d.SIPs {
		if v, ok := vitamOut[[2]string{s, d.Key}]; ok {
			if v.reason != "" {
				return bordereau.OutcomeSpared, v.reason, v.detail
			}
			continue
		}
		r, ok := bySIP[s]
		switch {
		case !ok || r.notFound[d.Key] || !r.removed[d.Key]:
			return bordereau.OutcomeSpared, "not-found", s
		case r.out.DryRun || r.out.Deleted:
		case r.out.LegalHold:
			return bordereau.OutcomeSpared, "locked", "legal hold"
		case !r.out.LockedUntil.IsZero():
			return bordereau.OutcomeSpared, "locked", civil.Of(r.out.LockedUntil.UTC()).String()
		default:
			return bordereau.OutcomeSpared, "not-sent", s
		}
	}
	return outcome, "", ""
}

func lastOp(ops []vitamOp) string {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Kind == "action" {
			return ops[i].ID
		}
	}
	return ""
}

// sourceTables are a class's tables as the profile reads them, child tables first: the order a
// DBA deletes them in, since their rows reference the root's.
func (ex *execution) sourceTables(class string) []bordereau.SourceTable {
	c := ex.o.Profile.Class(class)
	if c == nil {
		return nil
	}
	var out []bordereau.SourceTable
	for _, ch := range c.Children {
		out = append(out, bordereau.SourceTable{Table: ch.Table, Column: ch.Join})
	}
	return append(out, bordereau.SourceTable{Table: c.Root.Table, Column: c.Root.Key})
}
