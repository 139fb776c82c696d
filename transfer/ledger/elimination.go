package ledger

import (
	"fmt"
	"time"
)

// Entry kinds. A transfer entry (the empty kind) records a SIP at a target; the others record the
// steps of an elimination (Code du patrimoine R212-14: nothing is destroyed without the archives
// service's visa), so that the ledger proves, to an auditor who has only it, that every deletion
// it records came after a visa.
const (
	// KindVisa records the archives' decision on a proposal of elimination (eliminate
	// import-visa): its reference, date and signatory, and which lines were accepted.
	KindVisa = "visa"
	// KindElimination records one execution of a visa (eliminate execute): how many dossiers
	// were destroyed and spared, a digest of their sorted keys, and the VITAM operation when the
	// archive did the destroying.
	KindElimination = "elimination"
)

// Statuses of the entries an elimination writes for a SIP.
const (
	// StatusDeleted: the SIP was deleted from its target under a visa, after the SIP replacing
	// it (if any dossier was kept) was recorded as stored. It must no longer be there.
	StatusDeleted = "deleted"
	// StatusLocked: the SIP should have been deleted under a visa, but the target's Object Lock
	// forbids it until LockedUntil; a later execution deletes it. It is still there, with the
	// SHA-256 it was stored with.
	StatusLocked = "locked"
	// StatusRecorded is the status of visa and elimination entries.
	StatusRecorded = "recorded"
)

// Elimination is what a visa or elimination entry records. It holds identifiers, counts and
// digests, never a dossier key: the ledger is readable by any auditor (0644), and which dossiers
// were destroyed is in the attestation, whose digest this records.
type Elimination struct {
	Proposal       string   `json:"proposal"`                  // the bordereau d'élimination's identifier
	ProposalSHA256 string   `json:"proposal_sha256,omitempty"` // of the bordereau's JSON as imported
	Reference      string   `json:"visa"`                      // the visa's reference
	Date           string   `json:"visa_date,omitempty"`       // the visa's date, YYYY-MM-DD
	Signatory      string   `json:"signatory,omitempty"`
	ImportedBy     string   `json:"imported_by,omitempty"`
	ProposedBy     string   `json:"proposed_by,omitempty"`
	Accepted       []string `json:"accepted,omitempty"` // line ids
	Refused        []string `json:"refused,omitempty"`

	// An execution's outcome.
	Destroyed     int64  `json:"destroyed,omitempty"`
	Spared        int64  `json:"spared,omitempty"`
	InSource      int64  `json:"in_source,omitempty"`
	Pending       int64  `json:"pending,omitempty"`     // destroyed in rewritten SIPs whose old SIP is locked
	KeysSHA256    string `json:"keys_sha256,omitempty"` // SHA-256 of the destroyed keys, sorted, one per line
	Attestation   string `json:"attestation,omitempty"` // file name of the attestation's JSON
	AttestationSH string `json:"attestation_sha256,omitempty"`
	Operation     string `json:"operation,omitempty"` // VITAM's elimination action operation
	DryRun        bool   `json:"dry_run,omitempty"`
}

// Visa returns the latest visa entry with this reference, if the ledger has one.
func (l *Ledger) Visa(ref string) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.ents) - 1; i >= 0; i-- {
		e := l.ents[i]
		if e.Kind == KindVisa && e.Elimination != nil && e.Elimination.Reference == ref {
			return e, true
		}
	}
	return Entry{}, false
}

// Executions returns the elimination entries of a visa, in order.
func (l *Ledger) Executions(ref string) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for _, e := range l.ents {
		if e.Kind == KindElimination && e.Elimination != nil && e.Elimination.Reference == ref {
			out = append(out, e)
		}
	}
	return out
}

// RecordDeletion appends what became of an old SIP under a visa: deleted, or locked until a date.
// It carries the SIP's stored digest so that a locked SIP is still checked at the target.
func (l *Ledger) RecordDeletion(stored Entry, visa string, lockedUntil time.Time, note string) (Entry, error) {
	e := Entry{
		Status: StatusDeleted, SIP: stored.SIP, MessageID: stored.MessageID, ManifestDigest: stored.ManifestDigest,
		SHA256: stored.SHA256, Size: stored.Size, Target: stored.Target,
		Profile: stored.Profile, Class: stored.Class, Tier: stored.Tier, FirstKey: stored.FirstKey, LastKey: stored.LastKey, Count: stored.Count,
		Visa: visa, Note: note,
	}
	e.Receipt.Target, e.Receipt.Name, e.Receipt.Time = stored.Target, stored.SIP, time.Now().UTC()
	if !lockedUntil.IsZero() {
		e.Status = StatusLocked
		u := lockedUntil.UTC()
		e.LockedUntil = &u
	}
	return l.Append(e)
}

// checkVisas names every entry that records a destruction (a deleted or locked SIP, a SIP that
// replaces another, an elimination) without a visa entry of the same reference before it.
func (rep *Audit) checkVisas(ents []Entry) {
	seen := map[string]bool{}
	for i, e := range ents {
		if e.Kind == KindVisa {
			if e.Elimination == nil || e.Elimination.Reference == "" {
				rep.Problems = append(rep.Problems, Problem{Line: i + 1, Reason: "a visa entry without a visa reference"})
				continue
			}
			seen[e.Elimination.Reference] = true
			continue
		}
		ref, what := "", ""
		switch {
		case e.Kind == KindElimination:
			what = "an elimination"
			if e.Elimination != nil {
				ref = e.Elimination.Reference
			}
		case e.Status == StatusDeleted || e.Status == StatusLocked:
			ref, what = e.Visa, "a deletion"
		case e.Replaces != "":
			ref, what = e.Visa, "a SIP replacing "+e.Replaces
		default:
			continue
		}
		switch {
		case ref == "":
			rep.Problems = append(rep.Problems, Problem{Line: i + 1, SIP: e.SIP, Reason: what + " recorded without a visa reference"})
		case !seen[ref]:
			rep.Problems = append(rep.Problems, Problem{Line: i + 1, SIP: e.SIP, Reason: fmt.Sprintf("%s recorded under visa %q, which no earlier entry records", what, ref)})
		}
	}
}
