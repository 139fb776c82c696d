package bordereau

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
)

// lotKey groups the dossiers of a lot.
type lotKey struct {
	class, rule string
	year        int
	sampled     bool
}

type lotAcc struct {
	Lot
	n   int       // order of first appearance: the index the annex lines carry in the spill file
	sum [4]uint64 // order-free digest of the lot's dossiers (sum of their SHA-256 words)
}

// EliminationBuilder builds a bordereau d'élimination one dossier at a time. The lots stay in
// memory; the annex goes to a temporary file in the spill folder.
type EliminationBuilder struct {
	h     Header
	rules map[string]Rule
	lots  map[lotKey]*lotAcc
	order []*lotAcc
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	err   error
	done  bool // Finish or Abort was called
}

// spilled is an annex line in the spill file: the lot's order of appearance, not yet its id.
type spilled struct {
	N int `json:"n"`
	AnnexLine
}

// NewEliminationBuilder starts a proposal. The annex is spilled to a temporary file in spillDir
// ("" is the system's temporary folder); Finish hands it to the document, whose Close removes it.
func NewEliminationBuilder(h Header, spillDir string) (*EliminationBuilder, error) {
	if h.Date.IsZero() {
		return nil, errors.New("bordereau: the proposal needs its date (Header.Date, the as-of date)")
	}
	rules := map[string]Rule{}
	for _, r := range h.Rules {
		rules[r.ID] = r
	}
	f, err := os.CreateTemp(spillDir, "bordereau-annex-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("bordereau: annex spill file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	return &EliminationBuilder{h: h, rules: rules, lots: map[lotKey]*lotAcc{}, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// Add puts one proposed dossier in its lot and in the annex.
func (b *EliminationBuilder) Add(d EliminationDossier) error {
	if b.done {
		return errors.New("bordereau: Add after Finish or Abort")
	}
	if b.err != nil {
		return b.err
	}
	r, ok := b.rules[d.Rule]
	if !ok {
		return fmt.Errorf("bordereau: dossier %s of class %s: rule %q is not among the header's rules", d.Key, d.Class, d.Rule)
	}
	end := d.End
	if end.IsZero() {
		end = d.Start
	}
	// A dossier of a sampling rule is proposed because the sampling did not select it.
	sampled := r.FinalAction == string(retention.Sample)
	k := lotKey{class: d.Class, rule: d.Rule, year: d.DUAEnd.Year, sampled: sampled}
	l := b.lots[k]
	if l == nil {
		fa := "destroy"
		if sampled {
			fa = "sample"
		}
		l = &lotAcc{Lot: Lot{Class: d.Class, Description: d.Description, Rule: r, DUAEndYear: d.DUAEnd.Year, FinalAction: fa}, n: len(b.order)}
		b.lots[k] = l
		b.order = append(b.order, l)
	}
	if !d.Start.IsZero() && (l.Start.IsZero() || d.Start.Before(l.Start)) {
		l.Start = d.Start
	}
	if !end.IsZero() && end.After(l.End) {
		l.End = end
	}
	l.Dossiers++
	l.Rows += d.Rows
	l.Bytes += d.Bytes
	h := sha256.Sum256(fmt.Appendf(nil, "%q %q %s %s %d %d", d.Key, d.Identity, d.Start, d.DUAEnd, d.Rows, d.Bytes))
	for i := range l.sum {
		l.sum[i] += binary.BigEndian.Uint64(h[8*i:])
	}
	line := spilled{N: l.n, AnnexLine: AnnexLine{Class: d.Class, Key: d.Key, Identity: d.Identity, Start: d.Start, DUAEnd: d.DUAEnd, Reason: d.Reason}}
	if err := b.enc.Encode(line); err != nil {
		b.err = fmt.Errorf("bordereau: annex spill file: %w", err)
		return b.err
	}
	return nil
}

// Finish closes the annex and returns the document: the lots ordered by class, rule, year of DUA
// end and final action, each with its identifier. The builder cannot be used after.
func (b *EliminationBuilder) Finish() (*Elimination, error) {
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
	if b.err != nil {
		os.Remove(b.f.Name())
		return nil, b.err
	}
	if len(b.order) == 0 && strings.TrimSpace(b.h.EmptyReason) == "" {
		os.Remove(b.f.Name())
		return nil, errors.New("bordereau: nothing is proposed for elimination and the header says not why (Header.EmptyReason)")
	}
	lots := slices.Clone(b.order)
	slices.SortFunc(lots, func(x, y *lotAcc) int {
		return cmp.Or(cmp.Compare(x.Class, y.Class), cmp.Compare(x.Rule.ID, y.Rule.ID),
			cmp.Compare(x.DUAEndYear, y.DUAEndYear), cmp.Compare(x.FinalAction, y.FinalAction))
	})
	// The identifier is a digest of what is proposed, so that the same dossiers give the same
	// proposal and lot ids, whatever order they came in.
	dig := sha256.New()
	fmt.Fprintf(dig, "%q %s\n", b.h.Profile, b.h.Date)
	for _, l := range lots {
		fmt.Fprintf(dig, "%q %q %d %s %d %x\n", l.Class, l.Rule.ID, l.DUAEndYear, l.FinalAction, l.Dossiers, l.sum)
	}
	id := fmt.Sprintf("ELIM-%s-%s-%s", idPart(b.h.Profile), compact(b.h.Date), strings.ToUpper(hex.EncodeToString(dig.Sum(nil))[:8]))
	doc := &Elimination{
		ID: id, Profile: b.h.Profile, Establishment: b.h.Establishment, Date: b.h.Date,
		Originating: b.h.Originating, Transferring: b.h.Transferring, Archival: b.h.Archival, ProposedBy: b.h.ProposedBy,
		Lots: []Lot{}, annex: b.f.Name(), lotID: make([]string, len(b.order)),
	}
	used := map[string]bool{}
	for i, l := range lots {
		l.ID = fmt.Sprintf("%s/L%03d", id, i+1)
		if l.Rule.Status == string(retention.ToConfirm) {
			l.Observations = append(l.Observations, ObsRuleToConfirm)
		}
		if l.FinalAction == "sample" {
			l.Observations = append(l.Observations, ObsNotSampled)
		}
		doc.lotID[l.n] = l.ID
		doc.Lots = append(doc.Lots, l.Lot)
		doc.Dossiers += l.Dossiers
		doc.Rows += l.Rows
		doc.Bytes += l.Bytes
		used[l.Rule.ID] = true
	}
	for _, r := range b.h.Rules {
		if used[r.ID] || len(lots) == 0 {
			doc.Rules = append(doc.Rules, r)
		}
	}
	if doc.Rules == nil {
		doc.Rules = []Rule{}
	}
	if len(lots) == 0 {
		doc.EmptyReason = b.h.EmptyReason
	}
	doc.Visa = []Visa{{Role: RoleArchives, Agency: doc.Archival}, {Role: RoleProducer, Agency: doc.Originating}}
	return doc, nil
}

// Abort removes the spill file of a proposal that will not be finished. After Finish it does
// nothing: the spill file is the document's (Elimination.Close removes it).
func (b *EliminationBuilder) Abort() {
	if b.done {
		return
	}
	b.done = true
	b.f.Close()
	os.Remove(b.f.Name())
}

// Observations of a lot, as codes (JSON keeps them; the page and the CSV write them in words).
const (
	ObsRuleToConfirm = "rule-to-confirm" // the rule's values were not checked against the legal source
	ObsNotSampled    = "not-sampled"     // a sampling rule's dossiers that the sampling left out
)

// Annex reads the annex back, in the order the dossiers were added. A read error ends the
// sequence with it.
func (e *Elimination) Annex() iter.Seq2[AnnexLine, error] {
	return func(yield func(AnnexLine, error) bool) {
		if e.annex == "" {
			return
		}
		f, err := os.Open(e.annex)
		if err != nil {
			yield(AnnexLine{}, fmt.Errorf("bordereau: annex: %w", err))
			return
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
		for {
			var s spilled
			err := dec.Decode(&s)
			if err == io.EOF {
				return
			}
			if err == nil && (s.N < 0 || s.N >= len(e.lotID)) {
				err = fmt.Errorf("lot %d out of range", s.N)
			}
			if err != nil {
				yield(AnnexLine{}, fmt.Errorf("bordereau: annex: %w", err))
				return
			}
			s.Lot = e.lotID[s.N]
			if !yield(s.AnnexLine, nil) {
				return
			}
		}
	}
}

// Close removes the annex's spill file; the annex is empty after.
func (e *Elimination) Close() error {
	if e.annex == "" {
		return nil
	}
	err := os.Remove(e.annex)
	e.annex = ""
	return err
}

// idPart is s upper-cased with what is not a letter or digit as "-".
func idPart(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "X"
	}
	return string(b)
}

func compact(d civil.Date) string { return strings.ReplaceAll(d.String(), "-", "") }

// VersementBuilder builds a bordereau de versement: the lots (class × tier) and the SIPs are few
// and stay in memory.
type VersementBuilder struct {
	h    VersementHeader
	lots map[[2]string]*vlot
	sips []SIP
	at   map[string]int
}

type vlot struct {
	VersementLot
	rules  map[string]bool
	access map[string]int
	sips   map[string]bool
}

// NewVersementBuilder starts the slip of a run.
func NewVersementBuilder(h VersementHeader) *VersementBuilder {
	return &VersementBuilder{h: h, lots: map[[2]string]*vlot{}, at: map[string]int{}}
}

// Add counts one transferred dossier in its lot.
func (b *VersementBuilder) Add(d VersementDossier) error {
	if d.Class == "" || d.Tier == "" {
		return fmt.Errorf("bordereau: dossier of SIP %s without class or tier", d.SIP)
	}
	k := [2]string{d.Class, d.Tier}
	l := b.lots[k]
	if l == nil {
		l = &vlot{VersementLot: VersementLot{Class: d.Class, Description: d.Description, Tier: d.Tier},
			rules: map[string]bool{}, access: map[string]int{}, sips: map[string]bool{}}
		b.lots[k] = l
	}
	end := d.End
	if end.IsZero() {
		end = d.Start
	}
	if !d.Start.IsZero() && (l.Start.IsZero() || d.Start.Before(l.Start)) {
		l.Start = d.Start
	}
	if end.After(l.End) {
		l.End = end
	}
	l.Dossiers++
	l.Rows += d.Rows
	l.Bytes += d.Bytes
	if d.Rule.ID != "" && !l.rules[d.Rule.ID] {
		l.rules[d.Rule.ID] = true
		l.Rules = append(l.Rules, d.Rule)
	}
	if d.Access.ID != "" {
		i, ok := l.access[d.Access.ID]
		if !ok {
			i = len(l.Access)
			l.access[d.Access.ID] = i
			l.Access = append(l.Access, Access{ID: d.Access.ID, Title: d.Access.Title})
		}
		if d.Access.End.After(l.Access[i].End) {
			l.Access[i].End = d.Access.End
		}
	}
	if d.SIP != "" && !l.sips[d.SIP] {
		l.sips[d.SIP] = true
		l.SIPs = append(l.SIPs, d.SIP)
	}
	return nil
}

// AddSIP records a SIP, or updates it (same ID) once its transfer and ATR are known.
func (b *VersementBuilder) AddSIP(s SIP) {
	if i, ok := b.at[s.ID]; ok {
		b.sips[i] = s
		return
	}
	b.at[s.ID] = len(b.sips)
	b.sips = append(b.sips, s)
}

// Finish returns the slip: lots ordered by class then tier, with ids "<run id>/V001"; SIPs in the
// order they were added.
func (b *VersementBuilder) Finish() (*Versement, error) {
	if b.h.RunID == "" {
		return nil, errors.New("bordereau: the transfer slip needs the run's identifier")
	}
	v := &Versement{ID: b.h.RunID, Date: b.h.Date, Profile: b.h.Profile, Establishment: b.h.Establishment,
		Originating: b.h.Originating, Transferring: b.h.Transferring, Archival: b.h.Archival,
		Agreement: b.h.Agreement, Lots: []VersementLot{}, SIPs: slices.Clone(b.sips)}
	if v.SIPs == nil {
		v.SIPs = []SIP{}
	}
	keys := make([][2]string, 0, len(b.lots))
	for k := range b.lots {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(tierRank(x[1]), tierRank(y[1])), cmp.Compare(x[1], y[1]))
	})
	for i, k := range keys {
		l := b.lots[k].VersementLot
		l.ID = fmt.Sprintf("%s/V%03d", v.ID, i+1)
		var sipBytes int64
		for _, s := range b.sips {
			if s.Class == k[0] && s.Tier == k[1] {
				sipBytes += s.Bytes
				if !slices.Contains(l.SIPs, s.ID) {
					l.SIPs = append(l.SIPs, s.ID)
				}
			}
		}
		if l.Bytes == 0 {
			l.Bytes = sipBytes
		}
		slices.Sort(l.SIPs)
		if l.Rules == nil {
			l.Rules = []Rule{}
		}
		v.Lots = append(v.Lots, l)
		v.Dossiers += l.Dossiers
		v.Rows += l.Rows
		v.Bytes += l.Bytes
	}
	v.Visa = []Visa{{Role: RoleTransferring, Agency: v.Transferring}, {Role: RoleArchives, Agency: v.Archival}}
	return v, nil
}

func tierRank(t string) int {
	switch t {
	case "intermediate":
		return 0
	case "final":
		return 1
	}
	return 2
}
