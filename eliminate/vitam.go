package eliminate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/sip"
)

// vitamOp is an elimination operation VITAM ran for this execution.
type vitamOp struct {
	Kind   string `json:"kind"` // analysis or action
	ID     string `json:"id"`
	Status string `json:"status"`
	Units  int    `json:"units"`
}

// vitamBatch is what the proposal's folder keeps of VITAM's action once it has ended, so that a
// rerun reads its report instead of asking VITAM to destroy the same units again.
type vitamBatch struct {
	Visa       string            `json:"visa"`
	Analysis   string            `json:"analysis"`
	Action     string            `json:"action"`
	Units      map[string]string `json:"units"` // SystemId → dossier key
	SIPOfUnits map[string]string `json:"sip_of_units"`
}

// vitamUnit is one dossier archived in VITAM that the plan destroys.
type vitamUnit struct{ sip, key, systemID string }

// eliminateInVITAM asks VITAM to eliminate the dossiers the plan destroys among those it
// archived: the units' SystemIds come from the ATRs, through the index; VITAM analyses, then
// acts, and its report says which units it deleted; those are recorded destroyed in the state.
// VITAM re-checks each unit's own rules and holds and spares what it must: its verdict wins.
func (ex *execution) eliminateInVITAM(ctx context.Context, names []string) error {
	batchFile := ex.path("vitam-" + sip.FileSafe(ex.v.Reference) + ".json")
	// A batch kept by an execution that reached VITAM's action is what was asked: the index
	// has forgotten those dossiers since, and VITAM must not be asked twice.
	var b vitamBatch
	if data, err := os.ReadFile(batchFile); err == nil && !ex.o.DryRun {
		if err := json.Unmarshal(data, &b); err != nil || b.Visa != ex.v.Reference {
			return fmt.Errorf("elimination: %s: not this visa's VITAM operations", batchFile)
		}
	}
	var units []vitamUnit
	asked := map[[2]string]bool{}
	for id, k := range b.Units {
		asked[[2]string{b.SIPOfUnits[id], k}] = true
	}
	for _, n := range names {
		s, _, err := ex.st.SIP(ctx, n)
		if err != nil {
			return err
		}
		for _, k := range ex.pl.bySIP[n] {
			if b.Action != "" {
				if !asked[[2]string{n, k}] {
					ex.vitamSpared = append(ex.vitamSpared, vitamSpare{key: k, sip: n, reason: "not-found", detail: "no VITAM SystemId in the index"})
				}
				continue
			}
			u := vitamUnit{sip: n, key: k}
			if ex.o.Index != nil {
				e, err := ex.o.Index.Get(ctx, s.Profile, k)
				if err != nil && !errors.Is(err, index.ErrNotFound) {
					return err
				}
				u.systemID = e.SystemID
			}
			if u.systemID == "" {
				ex.vitamSpared = append(ex.vitamSpared, vitamSpare{key: k, sip: n, reason: "not-found", detail: "no VITAM SystemId in the index"})
				continue
			}
			units = append(units, u)
		}
	}
	if b.Action == "" {
		if len(units) == 0 {
			return nil
		}
		if ex.o.Access == nil {
			return noAccess(len(units))
		}
		date := ex.o.AsOf.String()
		ids := make([]string, 0, len(units))
		b = vitamBatch{Visa: ex.v.Reference, Units: map[string]string{}, SIPOfUnits: map[string]string{}}
		for _, u := range units {
			ids = append(ids, u.systemID)
			b.Units[u.systemID], b.SIPOfUnits[u.systemID] = u.key, u.sip
		}
		slices.Sort(ids)
		op, err := ex.o.Access.EliminationAnalysis(ctx, ids, date)
		if err != nil {
			return fmt.Errorf("elimination: %w", err)
		}
		b.Analysis = op
		if ex.o.DryRun {
			// VITAM's analysis writes its verdict in the units and destroys nothing: a
			// simulation shows what the action would be asked.
			ex.ops = append(ex.ops, vitamOp{Kind: "analysis", ID: op, Status: "OK", Units: len(ids)})
			for _, u := range units {
				ex.vitamDestroyed = append(ex.vitamDestroyed, vitamSpare{key: u.key, sip: u.sip})
			}
			return nil
		}
		act, err := ex.o.Access.EliminationAction(ctx, ids, date)
		if err != nil {
			return fmt.Errorf("elimination: %w", err)
		}
		b.Action = act
		data, _ := json.MarshalIndent(b, "", "  ")
		if err := atomicfile.WriteFile(batchFile, data); err != nil {
			return err
		}
		crashPoint("vitam-acted")
	}
	if ex.o.Access == nil {
		return noAccess(len(b.Units))
	}
	report, err := ex.o.Access.EliminationReport(ctx, b.Action)
	if err != nil {
		return fmt.Errorf("elimination: %w", err)
	}
	ex.ops = append(ex.ops, vitamOp{Kind: "analysis", ID: b.Analysis, Status: "OK", Units: len(b.Units)}, vitamOp{Kind: "action", ID: b.Action, Status: "OK", Units: len(b.Units)})
	status := map[string]string{}
	for _, o := range report {
		if o.Type == "Unit" {
			status[o.ID] = o.Status
		}
	}
	bySIP := map[string][]string{}
	for id, key := range b.Units {
		s := b.SIPOfUnits[id]
		switch st := status[id]; st {
		case "DELETED":
			bySIP[s] = append(bySIP[s], key)
			ex.vitamDestroyed = append(ex.vitamDestroyed, vitamSpare{key: key, sip: s})
		default:
			if st == "" {
				st = "not in the action's report"
			}
			ex.vitamSpared = append(ex.vitamSpared, vitamSpare{key: key, sip: s, reason: "vitam-kept", detail: st})
		}
	}
	for s, keys := range bySIP {
		slices.Sort(keys)
		if err := ex.st.Destroyed(ctx, s, keys, ex.v.Reference, ex.o.Now()); err != nil {
			return err
		}
		if ex.o.Index != nil {
			sp, _, _ := ex.st.SIP(ctx, s)
			for _, k := range keys {
				if err := ex.o.Index.Forget(ctx, sp.Profile, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// noAccess refuses an execution that must ask VITAM without VITAM's access.
func noAccess(n int) error {
	return refuse("%d dossier(s) to destroy are archived in VITAM: give VITAM's access (--vitam-access 'vitam+https://…?access-contract=ID'), with a contract that allows elimination", n)
}

// vitamSpare is a dossier of a VITAM SIP and what VITAM did with it.
type vitamSpare struct{ key, sip, reason, detail string }
