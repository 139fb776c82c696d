package pipeline

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
)

// Documents asks a run for the documents the archivist signs (docs/bordereaux.md): the bordereau
// d'élimination of the dossiers due for destruction, and, for a run that sends SIPs, the bordereau
// de versement. Each in HTML (printable, A4), CSV (as French spreadsheets open it) and JSON.
type Documents struct {
	Dir           string       // the folder they are written to (created if needed)
	Lang          language.Tag // the reader's language; the zero Tag is English
	Establishment string       // the établissement, printed in the header
	// ProposedBy is who runs the proposal (the system user), recorded in the bordereau
	// d'élimination's JSON so that the visa's import can check it is someone else; empty: the
	// system user running the process.
	ProposedBy string
}

// The documents' file names, in Documents.Dir.
const (
	EliminationFile      = "bordereau-elimination"            // .html, .csv, .json
	EliminationAnnexFile = "bordereau-elimination-annexe.csv" // one line per dossier
	// VersementFile is followed by "-", the run's identifier and .html, .csv or .json: a slip is
	// the record of one run, and the next run must not replace it.
	VersementFile = "bordereau-versement"
)

// documents is what a run gathers for its documents, in constant memory (the proposal's dossiers
// are spilled by the builder).
type documents struct {
	cfg   Documents
	p     *profiles.Profile
	elim  *bordereau.EliminationBuilder
	vers  *bordereau.VersementBuilder
	runID string
	sent  int // dossiers added to the slip
}

func newDocuments(cfg Config) (*documents, error) {
	d := cfg.Documents
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	h := bordereau.HeaderFor(cfg.Profile, cfg.AsOf)
	h.Establishment = d.Establishment
	h.ProposedBy = d.ProposedBy
	if h.ProposedBy == "" {
		if u, err := user.Current(); err == nil {
			h.ProposedBy = u.Username
		}
	}
	h.EmptyReason = emptyReason(cfg.Profile, cfg.AsOf, d.Lang)
	eb, err := bordereau.NewEliminationBuilder(h, d.Dir)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	docs := &documents{cfg: *d, p: cfg.Profile, elim: eb}
	if !cfg.DryRun {
		vh := bordereau.VersementHeaderFor(cfg.Profile, runID(cfg.Profile, time.Now()), cfg.AsOf)
		vh.Establishment = d.Establishment
		docs.vers, docs.runID = bordereau.NewVersementBuilder(vh), vh.RunID
	}
	return docs, nil
}

// runID names a run on its transfer slip: the profile and the time it started.
func runID(p *profiles.Profile, t time.Time) string {
	return fmt.Sprintf("VERS-%s-%s", sip.FileSafe(p.Name), t.UTC().Format("20060102T150405Z"))
}

// emptyReason is what an empty proposal says: why no dossier is due.
func emptyReason(p *profiles.Profile, asOf civil.Date, tag language.Tag) string {
	if s := p.Schedule(); s != nil {
		for _, c := range p.Classes {
			if r, ok := s.Rule(c.Rule); ok && r.FinalAction == retention.Sample && !r.Sampling.HasCriteria() {
				return bordereau.ReasonNoSamplingCriteria
			}
		}
	}
	return lang.Printer(tag).Sprintf("no dossier's retention period has ended in destruction as of %s", asOf)
}

func init() {
	lang.Translate(map[string]string{
		"no dossier's retention period has ended in destruction as of %s": "aucun dossier n'a atteint, au %s, la fin d'une durée d'utilité administrative suivie d'une destruction",
	})
}

// proposed adds a dossier of the destroy tier to the proposal.
func (d *documents) proposed(c *profiles.Class, dd decided) error {
	e := bordereau.EliminationDossierOf(c, dd.d, dd.desc, dd.dec, 0)
	e.Reason = dd.dec.ExplainIn(d.cfg.Lang)
	return d.elim.Add(e)
}

// archived adds a dossier handed to the archiver to the transfer slip.
func (d *documents) archived(c *profiles.Class, dd decided, tier retention.Tier) error {
	if d.vers == nil {
		return nil
	}
	var rule retention.Rule
	if s := d.p.Schedule(); s != nil {
		if r, ok := s.Rule(dd.dec.Rule); ok {
			rule = r.Rule
		}
	}
	d.sent++
	return d.vers.Add(bordereau.VersementDossierOf(c, dd.d, dd.desc, dd.dec, rule, string(tier), "", 0))
}

// abort drops what was gathered (a failed run writes no document).
func (d *documents) abort() { d.elim.Abort() }

// write writes the documents of a run that succeeded, each file replaced whole, and returns their
// paths.
func (d *documents) write(sips []SIP) ([]string, error) {
	var written []string
	put := func(name string, render func(io.Writer) error) error {
		path := filepath.Join(d.cfg.Dir, name)
		if err := atomicfile.Write(path, render); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	three := func(base string, doc bordereau.Document) error {
		if err := put(base+".html", func(w io.Writer) error { return bordereau.WriteHTML(w, doc, d.cfg.Lang) }); err != nil {
			return err
		}
		if err := put(base+".csv", func(w io.Writer) error { return bordereau.WriteCSV(w, doc, d.cfg.Lang) }); err != nil {
			return err
		}
		return put(base+".json", func(w io.Writer) error { return bordereau.WriteJSON(w, doc) })
	}
	e, err := d.elim.Finish()
	if err != nil {
		return nil, fmt.Errorf("bordereau d'élimination: %w", err)
	}
	defer e.Close()
	if err := three(EliminationFile, e); err != nil {
		return written, err
	}
	if err := put(EliminationAnnexFile, func(w io.Writer) error { return bordereau.WriteAnnexCSV(w, e, d.cfg.Lang) }); err != nil {
		return written, err
	}
	// A run that sent nothing new (a rerun, SIPs an earlier run had sent) has no slip of its own.
	if d.vers == nil || d.sent == 0 {
		return written, nil
	}
	for _, s := range sips {
		d.vers.AddSIP(bordereau.SIP{ID: s.ID, File: s.Name, SHA256: s.Digest, Bytes: s.Bytes, Dossiers: int64(s.Dossiers),
			Target: s.Target, Operation: s.Receipt.Operation, ATR: s.Receipt.ReplyCode, Class: s.Class, Tier: string(s.Tier)})
	}
	v, err := d.vers.Finish()
	if err != nil {
		return written, fmt.Errorf("bordereau de versement: %w", err)
	}
	return written, three(VersementFile+"-"+d.runID, v)
}
