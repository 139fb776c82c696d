package eliminate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer/ledger"
)

// Dir is where a proposal's files live in a state folder: the bordereau's JSON as imported, the
// visa, the rewritten SIPs while they are made.
func Dir(stateDir, proposal string) string {
	return filepath.Join(stateDir, "eliminations", sip.FileSafe(proposal))
}

// Files of a proposal's folder.
const (
	proposalFile = "proposal.json"
	visaFile     = "visa.json"
)

// ImportOptions say what ImportVisa reads and who records it.
type ImportOptions struct {
	Visa string // the visa file (CSV or JSON)
	// Decision, when not nil, is the visa itself (entered in the web UI) instead of a file; it
	// is checked as a file's would be.
	Decision *Visa
	Proposal string // the bordereau d'élimination's JSON the visa answers
	State    string // the state folder
	Ledger   *ledger.Ledger
	// Roles, when not nil, is the roles file: the importer must hold an archives-service role
	// and must not be who made the proposal (four eyes). Nil: no roles are configured and the
	// ledger records who imported, unchecked.
	Roles *roles.Policy
	User  roles.User // who records the visa
	Now   time.Time  // zero: time.Now
	Lang  language.Tag
}

// Imported is what ImportVisa recorded.
type Imported struct {
	Visa                          *Visa
	Proposal                      *Proposal
	Entry                         ledger.Entry // the ledger's visa entry
	Already                       bool         // the same visa was recorded before: nothing was written
	Accepted, Refused, Unanswered int
	Dossiers                      int64 // in the accepted lots
}

// ImportError is a refusal to record a visa, said in the reader's language.
type ImportError struct {
	format string
	args   []any
}

func (e *ImportError) Error() string { return e.Message(lang.English) }

// Message is the refusal in tag's language.
func (e *ImportError) Message(tag language.Tag) string {
	return lang.Printer(tag).Sprintf(e.format, e.args...)
}

func refuse(format string, args ...any) error { return &ImportError{format: format, args: args} }

func init() {
	lang.Translate(map[string]string{
		"the visa answers proposal %s, but %s is proposal %s: give the bordereau the archivist signed":                          "le visa répond à la proposition %s, mais %s est la proposition %s : donnez le bordereau que l'archiviste a visé",
		"the visa answers lot %s, which proposal %s does not have":                                                              "le visa répond au lot %s, que la proposition %s n'a pas",
		"proposal %s was already executed under visa %s (ledger entry %d): it cannot be visaed again":                           "la proposition %s a déjà été exécutée sous le visa %s (entrée %d du journal) : elle ne peut plus être visée",
		"proposal %s already has visa %s (ledger entry %d): a different decision needs a new proposal":                          "la proposition %s a déjà le visa %s (entrée %d du journal) : une autre décision demande une nouvelle proposition",
		"visa reference %s is already recorded for proposal %s (ledger entry %d)":                                               "la référence de visa %s est déjà enregistrée pour la proposition %s (entrée %d du journal)",
		"the visa is dated %s, after today (%s)":                                                                                "le visa est daté du %s, après aujourd'hui (%s)",
		"the visa is dated %s, before the proposal it answers (%s)":                                                             "le visa est daté du %s, avant la proposition à laquelle il répond (%s)",
		"%s may not record a visa: %s":                                                                                          "%s ne peut pas enregistrer de visa : %s",
		"four eyes: %s made proposal %s, so the visa must be recorded by someone else of the archives service":                  "double regard : %s a fait la proposition %s, le visa doit donc être enregistré par une autre personne du service d'archives",
		"proposal %s in the state folder differs from %s (sha256 %s, recorded %s): give the bordereau the visa was recorded on": "la proposition %s du dossier d'état diffère de %s (sha256 %s, enregistré %s) : donnez le bordereau sur lequel le visa a été enregistré",
	})
}

// ImportVisa checks a visa against the proposal it answers and records it: the proposal and the
// visa are kept in the state folder (Dir), then a visa entry is appended to the ledger. Importing
// the same visa again records nothing (Imported.Already). It refuses: a visa file that answers
// another proposal or a lot the proposal does not have, a decision without visa reference and
// date (ParseVisa), a visa dated in the future or before the proposal, a proposal already
// executed or already visaed differently, and, with roles, an importer who is not of the archives
// service or who made the proposal.
func ImportVisa(ctx context.Context, o ImportOptions) (*Imported, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	v := o.Decision
	if v == nil {
		f, err := os.Open(o.Visa)
		if err != nil {
			return nil, fmt.Errorf("visa: %w", err)
		}
		v, err = ParseVisa(f, filepath.Base(o.Visa))
		f.Close()
		if err != nil {
			return nil, err
		}
	} else if err := v.check(); err != nil {
		return nil, err
	}
	p, err := ReadProposal(o.Proposal)
	if err != nil {
		return nil, err
	}
	if v.Proposal != p.ID {
		return nil, refuse("the visa answers proposal %s, but %s is proposal %s: give the bordereau the archivist signed", v.Proposal, filepath.Base(o.Proposal), p.ID)
	}
	res := &Imported{Visa: v, Proposal: p}
	for _, a := range v.Lines {
		l, ok := p.Lot(a.Line)
		if !ok {
			return nil, refuse("the visa answers lot %s, which proposal %s does not have", a.Line, p.ID)
		}
		if a.Accepted {
			res.Accepted++
			res.Dossiers += l.Dossiers
		} else {
			res.Refused++
		}
	}
	res.Unanswered = len(p.Lots) - len(v.Lines)
	today := civil.Of(o.Now)
	if v.Date.After(today) {
		return nil, refuse("the visa is dated %s, after today (%s)", v.Date, today)
	}
	if v.Date.Before(p.Date) {
		return nil, refuse("the visa is dated %s, before the proposal it answers (%s)", v.Date, p.Date)
	}
	if err := MayRecord(o.Roles, o.User, p, o.Lang); err != nil {
		return nil, err
	}
	// What the ledger already says of this proposal and this reference.
	var prior *ledger.Entry
	err = o.Ledger.Entries(func(e ledger.Entry) error {
		el := e.Elimination
		if el == nil {
			return nil
		}
		switch {
		case e.Kind == ledger.KindElimination && el.Proposal == p.ID && !el.DryRun:
			return refuse("proposal %s was already executed under visa %s (ledger entry %d): it cannot be visaed again", p.ID, el.Reference, e.Seq)
		case e.Kind == ledger.KindVisa && el.Proposal == p.ID:
			if el.Reference != v.Reference || el.ProposalSHA256 != p.SHA256 || !sameLines(el, v) {
				return refuse("proposal %s already has visa %s (ledger entry %d): a different decision needs a new proposal", p.ID, el.Reference, e.Seq)
			}
			e := e
			prior = &e
		case e.Kind == ledger.KindVisa && el.Reference == v.Reference:
			return refuse("visa reference %s is already recorded for proposal %s (ledger entry %d)", v.Reference, el.Proposal, e.Seq)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The files first, the ledger last: a crash between them leaves files a second import
	// finds the same, and then records.
	dir := Dir(o.State, p.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("visa: %w", err)
	}
	data, err := os.ReadFile(o.Proposal)
	if err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	kept := filepath.Join(dir, proposalFile)
	if old, err := os.ReadFile(kept); err == nil && string(old) != string(data) && prior != nil {
		return nil, refuse("proposal %s in the state folder differs from %s (sha256 %s, recorded %s): give the bordereau the visa was recorded on", p.ID, o.Proposal, p.SHA256, prior.Elimination.ProposalSHA256)
	}
	if err := atomicfile.WriteFile(kept, data); err != nil {
		return nil, err
	}
	vj, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, visaFile), append(vj, '\n')); err != nil {
		return nil, err
	}
	if prior != nil {
		res.Entry, res.Already = *prior, true
		return res, nil
	}
	el := &ledger.Elimination{Proposal: p.ID, ProposalSHA256: p.SHA256, Reference: v.Reference, Date: v.Date.String(),
		Signatory: v.Signatory, ImportedBy: o.User.ID, ProposedBy: p.ProposedBy}
	for _, a := range v.Lines {
		if a.Accepted {
			el.Accepted = append(el.Accepted, a.Line)
		} else {
			el.Refused = append(el.Refused, a.Line)
		}
	}
	note := "roles checked: archives service, not the proposer"
	if o.Roles == nil {
		note = "no roles file: who imported is recorded, not checked"
	}
	e, err := o.Ledger.Append(ledger.Entry{Kind: ledger.KindVisa, Status: ledger.StatusRecorded, Profile: p.Profile, Elimination: el, Note: note})
	if err != nil {
		return nil, fmt.Errorf("visa: %w", err)
	}
	res.Entry = e
	return res, nil
}

// MayRecord says whether u may record a visa on proposal p under the roles file pol (nil: no
// roles configured, anyone may, and the ledger records who): an archives-service role, and not
// the person who made the proposal (four eyes). The refusal is an *ImportError, said in tag's
// language where a role's reason is given; the web UI asks before showing its form.
func MayRecord(pol *roles.Policy, u roles.User, p *Proposal, tag language.Tag) error {
	if pol == nil {
		return nil
	}
	if d := pol.MayRecordVisa(u); !d.Allowed {
		return refuse("%s may not record a visa: %s", u.ID, d.Message(tag))
	}
	if p.ProposedBy != "" && strings.EqualFold(p.ProposedBy, u.ID) {
		return refuse("four eyes: %s made proposal %s, so the visa must be recorded by someone else of the archives service", u.ID, p.ID)
	}
	return nil
}

func sameLines(el *ledger.Elimination, v *Visa) bool {
	var acc, ref []string
	for _, a := range v.Lines {
		if a.Accepted {
			acc = append(acc, a.Line)
		} else {
			ref = append(ref, a.Line)
		}
	}
	return strings.Join(acc, "\n") == strings.Join(el.Accepted, "\n") && strings.Join(ref, "\n") == strings.Join(el.Refused, "\n")
}

// Load reads back a visa recorded in the ledger and the proposal it answers, from the state
// folder, checking the proposal is the one recorded.
func Load(stateDir string, led *ledger.Ledger, ref string) (*Visa, *Proposal, ledger.Entry, error) {
	e, ok := led.Visa(ref)
	if !ok {
		return nil, nil, e, refuse("no visa %s in the ledger %s: record it first (versement eliminate import-visa)", ref, led.Path())
	}
	dir := Dir(stateDir, e.Elimination.Proposal)
	p, err := ReadProposal(filepath.Join(dir, proposalFile))
	if err != nil {
		return nil, nil, e, err
	}
	if p.SHA256 != e.Elimination.ProposalSHA256 {
		return nil, nil, e, fmt.Errorf("proposal %s in %s: sha256 %s, the ledger recorded %s (entry %d): the file was changed", p.ID, dir, p.SHA256, e.Elimination.ProposalSHA256, e.Seq)
	}
	b, err := os.ReadFile(filepath.Join(dir, visaFile))
	if err != nil {
		return nil, nil, e, fmt.Errorf("visa %s: %w", ref, err)
	}
	var v Visa
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, nil, e, fmt.Errorf("visa %s: %w", ref, err)
	}
	if v.Reference != ref || !sameLines(e.Elimination, &v) {
		return nil, nil, e, fmt.Errorf("visa %s in %s differs from the ledger's entry %d", ref, dir, e.Seq)
	}
	return &v, p, e, nil
}

func init() {
	lang.Translate(map[string]string{
		"no visa %s in the ledger %s: record it first (versement eliminate import-visa)": "aucun visa %s dans le journal %s : enregistrez-le d'abord (versement eliminate import-visa)",
	})
}
