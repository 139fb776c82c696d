package bordereau

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/versement/versement/civil"
)

// The attestation d'élimination certifies, after the archives service's visa on a proposal (Code
// du patrimoine, R212-14), what an execution destroyed, what it spared and why, and which SIPs it
// rewrote: the archivist files it with the signed bordereau, an auditor checks it against the
// ledger whose head it names. Like the bordereau d'élimination, its per-dossier list is spilled to
// a temporary file, so that an execution of 60,000 dossiers costs no more memory than one of ten.

// VisaRecord is the archives service's visa as the ledger recorded it on import.
type VisaRecord struct {
	Reference  string     `json:"reference"` // the visa's reference (the archives service's number)
	Date       civil.Date `json:"date"`
	Signatory  string     `json:"signatory"`   // name (and title) of who signed
	ImportedBy string     `json:"imported_by"` // who recorded it in versement
	ImportedAt time.Time  `json:"imported_at"`
}

// AttestationHeader is the block at the top of an attestation; the caller fills it from the
// proposal, the visa and the execution.
type AttestationHeader struct {
	Proposal      string     // the bordereau d'élimination's id
	Profile       string     // the profile's name
	Establishment string     // the établissement (university)
	Date          civil.Date // the date of the execution
	Originating   Agency     // service producteur
	Transferring  Agency     // service versant
	Archival      Agency     // service d'archives
	Visa          VisaRecord // the visa the execution applied
	Executor      string     // the system user who ran the execution
	// DryRun marks a simulation: the document says in large letters that nothing was destroyed,
	// and its identifier ends in -SIM so that it is never filed as the real one.
	DryRun bool
}

// AttestationLot is one lot of the proposal with the visa's decision on it and what became of its
// dossiers: Proposed = Destroyed + Spared + InSource (Finish checks it against the dossiers).
type AttestationLot struct {
	LineID     string `json:"line_id"` // "<proposal>/L001"
	Class      string `json:"class"`
	Rule       Rule   `json:"rule"`
	DUAEndYear int    `json:"dua_end_year"`
	Decision   string `json:"decision"` // accepted, refused, or "" when the visa does not answer the lot
	Proposed   int64  `json:"proposed"`
	Destroyed  int64  `json:"destroyed"`
	Spared     int64  `json:"spared"`
	// InSource is counted by the builder from the dossiers: those never archived, which the
	// application's administrator deletes from the source.
	InSource int64 `json:"in_source"`
}

// Lot decisions, as the visa answers a lot.
const (
	DecisionAccepted = "accepted"
	DecisionRefused  = "refused"
)

// AttestationDossier is what became of one dossier of the proposal.
type AttestationDossier struct {
	Lot      string     `json:"lot"` // the lot's line id
	Class    string     `json:"class"`
	Key      string     `json:"key"`
	Identity string     `json:"identity,omitempty"`
	Start    civil.Date `json:"start,omitzero"`
	DUAEnd   civil.Date `json:"dua_end,omitzero"`
	Rule     string     `json:"rule,omitempty"`
	Outcome  string     `json:"outcome"` // OutcomeDestroyed, OutcomeSpared or OutcomeInSource
	// Reason says why a dossier was spared, as a code of the caller (hold, tier-changed, refused,
	// unanswered, not-found, locked, not-sent): the documents write the codes they know in words,
	// others as given. Detail is free text (the new tier, the date a lock ends).
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	SIP    string `json:"sip,omitempty"` // the SIP it was in; empty for a dossier in the source
}

// Outcomes of a dossier.
const (
	OutcomeDestroyed = "destroyed"
	OutcomeSpared    = "spared"
	OutcomeInSource  = "in-source" // never archived: versement deletes no source data, the DBA does
)

// RewrittenSIP is one SIP the execution replaced: the old one, and the one rewritten without the
// destroyed dossiers.
type RewrittenSIP struct {
	Old       string `json:"old"`
	OldSHA256 string `json:"old_sha256"`
	New       string `json:"new,omitempty"` // empty: the SIP was deleted whole (all its dossiers destroyed)
	NewSHA256 string `json:"new_sha256,omitempty"`
	Target    string `json:"target"`
	Removed   int    `json:"removed"` // dossiers taken out
	Kept      int    `json:"kept"`    // dossiers in the new SIP
	Deleted   bool   `json:"deleted"` // the old SIP is gone from the target
	// LockedUntil is when the target's Object Lock lets the old SIP be deleted, when it forbade it.
	LockedUntil civil.Date `json:"locked_until,omitzero"`
}

// VITAMOperation is an elimination operation VITAM ran (Kind "analysis" or "action").
type VITAMOperation struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Status string `json:"status"`
	Units  int    `json:"units"`
}

// Attestation is an attestation d'élimination: the header, the lots with their decisions, the
// SIPs rewritten, VITAM's operations, the totals, and the dossiers read back from the spill file.
// Close removes the spill file.
type Attestation struct {
	ID            string           `json:"id"` // "<proposal>/A-<digest>", "-SIM" added for a dry run
	Proposal      string           `json:"proposal"`
	Profile       string           `json:"profile"`
	Establishment string           `json:"establishment,omitempty"`
	Date          civil.Date       `json:"date"` // of the execution
	Originating   Agency           `json:"originating_agency"`
	Transferring  Agency           `json:"transferring_agency"`
	Archival      Agency           `json:"archival_agency"`
	Visa          VisaRecord       `json:"visa"`
	Executor      string           `json:"executor,omitempty"`
	DryRun        bool             `json:"dry_run"`
	Lots          []AttestationLot `json:"lots"`
	SIPs          []RewrittenSIP   `json:"sips"`
	Operations    []VITAMOperation `json:"vitam_operations"`
	Destroyed     int64            `json:"destroyed"`
	Spared        int64            `json:"spared"`
	InSource      int64            `json:"in_source"`
	// SparedBy counts the spared dossiers per reason code (SparedBy["locked"]: those a later
	// execution destroys once the lock ends).
	SparedBy map[string]int64 `json:"spared_by_reason"`
	// LedgerHead is the ledger's head when the attestation was written (COUNT:HASH): the entry
	// recording the execution follows it, so `versement verify --ledger --head` checks both.
	LedgerHead string `json:"ledger_head"`

	spill string // path of the spill file, one JSON dossier a line
}

// Dossiers reads the dossiers back, in the order they were added. A read error ends the sequence
// with it. Each call reads the spill file from its start.
func (a *Attestation) Dossiers() iter.Seq2[AttestationDossier, error] {
	return func(yield func(AttestationDossier, error) bool) {
		if a.spill == "" {
			return
		}
		f, err := os.Open(a.spill)
		if err != nil {
			yield(AttestationDossier{}, fmt.Errorf("bordereau: attestation's dossiers: %w", err))
			return
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
		for {
			var d AttestationDossier
			err := dec.Decode(&d)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(AttestationDossier{}, fmt.Errorf("bordereau: attestation's dossiers: %w", err))
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// outcome is the sequence of the dossiers of one outcome; the first read error is kept in *err.
func (a *Attestation) outcome(o string, err *error) iter.Seq[AttestationDossier] {
	return func(yield func(AttestationDossier) bool) {
		for d, e := range a.Dossiers() {
			if e != nil {
				if *err == nil {
					*err = e
				}
				return
			}
			if d.Outcome == o && !yield(d) {
				return
			}
		}
	}
}

// Close removes the spill file; the attestation has no dossiers after.
func (a *Attestation) Close() error {
	if a.spill == "" {
		return nil
	}
	err := os.Remove(a.spill)
	a.spill = ""
	return err
}
