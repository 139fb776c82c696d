package bordereau

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// AttestationBuilder builds an attestation one dossier at a time. The lots, SIPs and operations
// are few and stay in memory; the dossiers go to a temporary file in the spill folder.
type AttestationBuilder struct {
	h     AttestationHeader
	lots  []AttestationLot
	sips  []RewrittenSIP
	ops   []VITAMOperation
	count map[string]*[3]int64 // per lot line id: destroyed, spared, in source, from the dossiers
	by    map[string]int64     // spared per reason
	sum   [4]uint64            // order-free digest of the outcomes (sum of their SHA-256 words)
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	err   error
	done  bool // Finish or Abort was called
}

// NewAttestationBuilder starts the attestation of an execution. The dossiers are spilled to a
// temporary file in spillDir ("" is the system's temporary folder); Finish hands it to the
// attestation, whose Close removes it.
func NewAttestationBuilder(h AttestationHeader, spillDir string) (*AttestationBuilder, error) {
	switch {
	case strings.TrimSpace(h.Proposal) == "":
		return nil, errors.New("bordereau: the attestation needs the proposal's identifier (AttestationHeader.Proposal)")
	case strings.TrimSpace(h.Visa.Reference) == "":
		return nil, fmt.Errorf("bordereau: the attestation of proposal %s needs the visa's reference: nothing is destroyed without a visa (R212-14)", h.Proposal)
	case h.Date.IsZero():
		return nil, fmt.Errorf("bordereau: the attestation of proposal %s needs the date of the execution (AttestationHeader.Date)", h.Proposal)
	}
	f, err := os.CreateTemp(spillDir, "attestation-dossiers-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("bordereau: attestation's spill file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	return &AttestationBuilder{h: h, count: map[string]*[3]int64{}, by: map[string]int64{}, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// AddLot records a lot of the proposal with its decision and counts; the same line id again
// replaces it.
func (b *AttestationBuilder) AddLot(l AttestationLot) {
	if i := slices.IndexFunc(b.lots, func(x AttestationLot) bool { return x.LineID == l.LineID }); i >= 0 {
		b.lots[i] = l
		return
	}
	b.lots = append(b.lots, l)
}

// AddSIP records a SIP replaced; the same old SIP again replaces the record (its deletion is
// known after its rewriting).
func (b *AttestationBuilder) AddSIP(s RewrittenSIP) {
	if i := slices.IndexFunc(b.sips, func(x RewrittenSIP) bool { return x.Old == s.Old }); i >= 0 {
		b.sips[i] = s
		return
	}
	b.sips = append(b.sips, s)
}

// AddOperation records a VITAM operation; the same id again replaces it (its status is known
// after polling).
func (b *AttestationBuilder) AddOperation(op VITAMOperation) {
	if i := slices.IndexFunc(b.ops, func(x VITAMOperation) bool { return x.ID == op.ID }); i >= 0 {
		b.ops[i] = op
		return
	}
	b.ops = append(b.ops, op)
}

// outcomeIndex is the counter of an outcome, -1 for one the attestation does not know.
func outcomeIndex(o string) int {
	switch o {
	case OutcomeDestroyed:
		return 0
	case OutcomeSpared:
		return 1
	case OutcomeInSource:
		return 2
	}
	return -1
}

// AddDossier records what became of one dossier of the proposal.
func (b *AttestationBuilder) AddDossier(d AttestationDossier) error {
	if b.done {
		return errors.New("bordereau: AddDossier after Finish or Abort")
	}
	if b.err != nil {
		return b.err
	}
	i := outcomeIndex(d.Outcome)
	if i < 0 {
		return fmt.Errorf("bordereau: dossier %s of class %s: outcome %q is none of destroyed, spared, in-source", d.Key, d.Class, d.Outcome)
	}
	if d.Key == "" || d.Lot == "" {
		return fmt.Errorf("bordereau: a dossier of class %s without its key or lot (key %q, lot %q)", d.Class, d.Key, d.Lot)
	}
	c := b.count[d.Lot]
	if c == nil {
		c = new([3]int64)
		b.count[d.Lot] = c
	}
	c[i]++
	if d.Outcome == OutcomeSpared {
		b.by[d.Reason]++
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%q %q %q %q %q %q", d.Lot, d.Class, d.Key, d.Outcome, d.Reason, d.SIP))
	for i := range b.sum {
		b.sum[i] += binary.BigEndian.Uint64(h[8*i:])
	}
	if err := b.enc.Encode(d); err != nil {
		b.err = fmt.Errorf("bordereau: attestation's spill file: %w", err)
		return b.err
	}
	return nil
}

// Finish closes the dossiers' file and returns the attestation: the lots ordered by line id, the
// SIPs and operations in the order they were added. ledgerHead is the ledger's head (COUNT:HASH)
// an auditor checks the ledger against. The lots' counts must be those of the dossiers: a
// certificate that contradicts itself is refused. The builder cannot be used after.
func (b *AttestationBuilder) Finish(ledgerHead string) (*Attestation, error) {
	if b.done {
		return nil, errors.New("bordereau: Finish called twice, or after Abort")
	}
	b.done = true
	if b.err == nil {
		b.err = b.w.Flush()
	}
	if err := b.f.Close(); b.err == nil {
		b.err = err
	}
	if b.err == nil {
		b.err = b.check()
	}
	if b.err != nil {
		os.Remove(b.f.Name())
		return nil, b.err
	}
	lots := slices.Clone(b.lots)
	slices.SortStableFunc(lots, func(x, y AttestationLot) int { return strings.Compare(x.LineID, y.LineID) })
	a := &Attestation{
		Proposal: b.h.Proposal, Profile: b.h.Profile, Establishment: b.h.Establishment, Date: b.h.Date,
		Originating: b.h.Originating, Transferring: b.h.Transferring, Archival: b.h.Archival,
		Visa: b.h.Visa, Executor: b.h.Executor, DryRun: b.h.DryRun,
		Lots: lots, SIPs: slices.Clone(b.sips), Operations: slices.Clone(b.ops),
		SparedBy: b.by, LedgerHead: ledgerHead, spill: b.f.Name(),
	}
	if a.Lots == nil {
		a.Lots = []AttestationLot{}
	}
	if a.SIPs == nil {
		a.SIPs = []RewrittenSIP{}
	}
	if a.Operations == nil {
		a.Operations = []VITAMOperation{}
	}
	for i := range a.Lots {
		c := b.count[a.Lots[i].LineID]
		if c == nil {
			c = new([3]int64)
		}
		a.Lots[i].InSource = c[2]
		a.Destroyed += c[0]
		a.Spared += c[1]
		a.InSource += c[2]
	}
	// The identifier is a digest of the visa and of what became of each dossier: the same
	// execution gives the same id, a later one that finishes locked dossiers another.
	dig := sha256.New()
	fmt.Fprintf(dig, "%q %q %s %t %d %d %d %x\n", b.h.Proposal, b.h.Visa.Reference, b.h.Date, b.h.DryRun, a.Destroyed, a.Spared, a.InSource, b.sum)
	a.ID = b.h.Proposal + "/A-" + strings.ToUpper(hex.EncodeToString(dig.Sum(nil))[:8])
	if b.h.DryRun {
		a.ID += "-SIM"
	}
	return a, nil
}

// check refuses lots whose counts are not their dossiers', and dossiers of no lot.
func (b *AttestationBuilder) check() error {
	known := map[string]bool{}
	for _, l := range b.lots {
		known[l.LineID] = true
		c := b.count[l.LineID]
		if c == nil {
			c = new([3]int64)
		}
		if l.Destroyed != c[0] || l.Spared != c[1] || l.Proposed != c[0]+c[1]+c[2] {
			return fmt.Errorf("bordereau: lot %s says %d proposed, %d destroyed, %d spared; its dossiers are %d, %d destroyed, %d spared, %d in the source",
				l.LineID, l.Proposed, l.Destroyed, l.Spared, c[0]+c[1]+c[2], c[0], c[1], c[2])
		}
	}
	var stray []string
	for lot := range b.count {
		if !known[lot] {
			stray = append(stray, lot)
		}
	}
	if len(stray) > 0 {
		slices.Sort(stray)
		return fmt.Errorf("bordereau: dossiers of lot %s, which is not among the attestation's lots (AddLot)", strings.Join(stray, ", "))
	}
	return nil
}

// Abort removes the spill file of an attestation that will not be finished. After Finish it does
// nothing: the spill file is the attestation's (Attestation.Close removes it).
func (b *AttestationBuilder) Abort() {
	if b.done {
		return
	}
	b.done = true
	b.f.Close()
	os.Remove(b.f.Name())
}
