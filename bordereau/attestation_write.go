package bordereau

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"iter"
	"strconv"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
)

// The attestation has its own writers rather than a place in Document: its outputs are not a
// bordereau's (no visa boxes to fill, three lists of dossiers, a fourth file for the DBA), and
// every caller knows it holds an *Attestation.

//go:embed attestation.html.tmpl
var attestationTemplate string

var attestationPage = template.Must(template.New("attestation").Funcs(template.FuncMap{
	// Placeholders: the template is parsed once; every render binds the language's functions.
	"T": func(string, ...any) string { return "" }, "Val": func(string, string) string { return "" },
	"Date": func(civil.Date) string { return "" }, "Time": func(any) string { return "" },
	"Num": func(int64) string { return "" }, "Agency": agencyText, "Short": shortLot,
	"DUA": func(string) string { return "" }, "Reason": func(AttestationDossier) string { return "" },
	"Detail": func(AttestationDossier) string { return "" }, "OldState": func(RewrittenSIP) string { return "" },
	"Dossiers": func(string) iter.Seq[AttestationDossier] { return nil },
}).Parse(attestationTemplate))

// reason is why a dossier was spared, in words when the code is known.
func (t tr) reason(d AttestationDossier) string { return t.Val("spare", d.Reason) }

// detail is a dossier's detail: a date in the reader's format, the new tier of a dossier the
// schedule no longer destroys in words.
func (t tr) detail(d AttestationDossier) string {
	if d.Reason == "tier-changed" {
		return t.Val("tier", d.Detail)
	}
	if day, err := civil.Parse(d.Detail); err == nil {
		return t.Date(day)
	}
	return d.Detail
}

// oldState says what became of the old SIP at the target.
func (t tr) oldState(s RewrittenSIP, dryRun bool) string {
	switch {
	case dryRun:
		return t.Val("oldsip", "simulation")
	case s.Deleted:
		return t.Val("oldsip", "deleted")
	case !s.LockedUntil.IsZero():
		return t.T("locked until %s: deleted when the lock ends", t.Date(s.LockedUntil))
	}
	return t.Val("oldsip", "pending")
}

// statement is the certificate proper.
func (t tr) statement(a *Attestation) string {
	msg := certificateDone
	if a.DryRun {
		msg = certificateDryRun
	}
	return t.T(msg, t.Date(a.Date), a.Visa.Reference, t.Date(a.Visa.Date))
}

const ledgerHeadNote = "Ledger head when this attestation was written: %s. The ledger's next entry records the execution with the SHA-256 of this attestation's JSON; `versement verify --ledger LEDGER --head %s` checks the chain."

// WriteAttestationHTML writes the attestation as one printable HTML page (A4, inline CSS, no
// script, nothing fetched from elsewhere), in French when tag is French, English otherwise: the
// header, the visa, the lots and their decisions, the SIPs rewritten, VITAM's operations, the
// dossiers destroyed, spared (with why) and in the source, then the certificate and the ledger's
// head. A dry run says at its top that nothing was destroyed.
func WriteAttestationHTML(w io.Writer, a *Attestation, tag language.Tag) error {
	t := newTr(tag)
	var listErr error
	data := map[string]any{"Lang": "en", "A": a, "Title": t.T("Attestation of elimination"),
		"Statement": t.statement(a), "Locked": a.SparedBy["locked"]}
	if t.fr {
		data["Lang"] = "fr"
	}
	if a.LedgerHead != "" {
		data["Head"] = t.T(ledgerHeadNote, a.LedgerHead, a.LedgerHead)
	}
	tpl, err := attestationPage.Clone()
	if err != nil {
		return err
	}
	tpl.Funcs(template.FuncMap{
		"T": t.T, "Val": t.Val, "Date": t.Date, "Time": t.Time, "Num": t.Num, "DUA": t.DUA,
		"Reason": t.reason, "Detail": t.detail,
		"OldState": func(s RewrittenSIP) string { return t.oldState(s, a.DryRun) },
		"Dossiers": func(o string) iter.Seq[AttestationDossier] { return a.outcome(o, &listErr) },
	})
	if err := tpl.Execute(w, data); err != nil {
		return err
	}
	return listErr
}

// WriteAttestationCSV writes the attestation as one CSV file for French spreadsheets: the header
// block with the visa and the totals, the lots, the SIPs rewritten, VITAM's operations, every
// dossier with its outcome, then the certificate and the ledger's head.
func WriteAttestationCSV(w io.Writer, a *Attestation, tag language.Tag) error {
	c, err := newCSV(w, tag)
	if err != nil {
		return err
	}
	t := c.t
	T := t.T
	c.row(T("Attestation of elimination"))
	if a.DryRun {
		c.row(T("SIMULATION — nothing was destroyed"))
	}
	c.row(T("Attestation identifier"), a.ID)
	c.row(T("Proposal identifier"), a.Proposal)
	c.row(T("Date of execution"), t.Date(a.Date))
	c.row(T("Establishment"), a.Establishment)
	c.row(T("Profile"), a.Profile)
	c.row(T("Originating agency"), a.Originating.ID, a.Originating.Name)
	c.row(T("Transferring agency"), a.Transferring.ID, a.Transferring.Name)
	c.row(T("Archival agency"), a.Archival.ID, a.Archival.Name)
	c.row(T("Visa reference"), a.Visa.Reference)
	c.row(T("Visa date"), t.Date(a.Visa.Date))
	c.row(T("Signatory"), a.Visa.Signatory)
	c.row(T("Visa recorded by"), a.Visa.ImportedBy)
	c.row(T("Visa recorded on"), t.Time(a.Visa.ImportedAt))
	c.row(T("Executed by"), a.Executor)
	c.row(T("Destroyed"), num(a.Destroyed))
	c.row(T("Spared"), num(a.Spared))
	c.row(T("In the source"), num(a.InSource))
	c.row(T("Ledger head"), a.LedgerHead)
	c.row()
	c.row(T("Lots and decisions of the visa"))
	c.row(T("Line id"), T("Class"), T("Rule"), T("DUA"), T("Year of DUA end"), T("Decision"), T("Proposed"), T("Destroyed"), T("Spared"), T("In the source"))
	for _, l := range a.Lots {
		c.row(l.LineID, l.Class, l.Rule.ID, t.DUA(l.Rule.DUA), strconv.Itoa(l.DUAEndYear), t.Val("decision", l.Decision),
			num(l.Proposed), num(l.Destroyed), num(l.Spared), num(l.InSource))
	}
	c.row()
	c.row(T("SIPs rewritten"))
	c.row(T("Old SIP"), T("Old SHA-256"), T("New SIP"), T("New SHA-256"), T("Target"), T("Removed"), T("Kept"), T("Old SIP's state"))
	for _, s := range a.SIPs {
		newSIP := s.New
		if newSIP == "" {
			newSIP = T("deleted whole: every dossier was destroyed")
		}
		c.row(s.Old, s.OldSHA256, newSIP, s.NewSHA256, s.Target, strconv.Itoa(s.Removed), strconv.Itoa(s.Kept), t.oldState(s, a.DryRun))
	}
	if len(a.Operations) > 0 {
		c.row()
		c.row(T("VITAM operations"))
		c.row(T("Kind"), T("Operation identifier"), T("Status"), T("Units"))
		for _, op := range a.Operations {
			c.row(t.Val("vitam", op.Kind), op.ID, op.Status, strconv.Itoa(op.Units))
		}
	}
	c.row()
	c.row(T("Dossiers and their outcome"))
	c.row(T("Lot"), T("Class"), T("Key"), T("Identity"), T("Start"), T("DUA end"), T("Rule"), T("Outcome"), T("Reason"), T("Detail"), T("SIP"))
	for d, err := range a.Dossiers() {
		if err != nil {
			return err
		}
		reason := ""
		if d.Reason != "" {
			reason = t.reason(d)
		}
		c.row(d.Lot, d.Class, d.Key, d.Identity, t.Date(d.Start), t.Date(d.DUAEnd), d.Rule, t.Val("outcome", d.Outcome), reason, t.detail(d), d.SIP)
	}
	c.row()
	c.row(T("Certificate"), t.statement(a))
	if a.LedgerHead != "" {
		c.row(T("Ledger head"), T(ledgerHeadNote, a.LedgerHead, a.LedgerHead))
	}
	return c.done()
}

// WriteSourceKeysCSV writes the keys of the dossiers still in the source, never archived, for the
// application's administrator, who deletes them (versement deletes no source data): one line per
// dossier with its class (the profile's class, that is its tables), key, lot and end of DUA.
func WriteSourceKeysCSV(w io.Writer, a *Attestation, tag language.Tag) error {
	c, err := newCSV(w, tag)
	if err != nil {
		return err
	}
	t := c.t
	c.row(t.T("Class"), t.T("Key"), t.T("Lot"), t.T("DUA end"))
	for d, err := range a.Dossiers() {
		if err != nil {
			return err
		}
		if d.Outcome == OutcomeInSource {
			c.row(d.Class, d.Key, d.Lot, t.Date(d.DUAEnd))
		}
	}
	return c.done()
}

// SourceTable is one table of a class's dossiers in the application's database and the column
// that holds the dossier's key there (the root's key, or a child table's join column).
type SourceTable struct{ Table, Column string }

// WriteSourceTablesCSV writes, for the application's administrator, the keys of the dossiers
// still in the source table by table: one line per table and dossier, with the column to match.
// tables gives a class's tables in the order they can be deleted in (child tables before the
// root, whose rows they reference); a class it gives none for is listed under its own name.
func WriteSourceTablesCSV(w io.Writer, a *Attestation, tables func(class string) []SourceTable, tag language.Tag) error {
	c, err := newCSV(w, tag)
	if err != nil {
		return err
	}
	t := c.t
	c.row(t.T("Table"), t.T("Key column"), t.T("Key"), t.T("Class"), t.T("Lot"), t.T("DUA end"))
	// One pass per table of each class, so that a DBA's script can take the file in order.
	var classes []string
	seen := map[string]bool{}
	for d, err := range a.Dossiers() {
		if err != nil {
			return err
		}
		if d.Outcome == OutcomeInSource && !seen[d.Class] {
			seen[d.Class] = true
			classes = append(classes, d.Class)
		}
	}
	for _, class := range classes {
		ts := tables(class)
		if len(ts) == 0 {
			ts = []SourceTable{{Table: class}}
		}
		for _, st := range ts {
			for d, err := range a.Dossiers() {
				if err != nil {
					return err
				}
				if d.Outcome == OutcomeInSource && d.Class == class {
					c.row(st.Table, st.Column, d.Key, d.Class, d.Lot, t.Date(d.DUAEnd))
				}
			}
		}
	}
	return c.done()
}

// WriteAttestationJSON writes the attestation for machines: stable English field names, codes not
// words, ISO dates; the dossiers are its "dossiers" array, streamed from the spill file.
func WriteAttestationJSON(w io.Writer, a *Attestation) error {
	head, err := json.MarshalIndent(struct {
		Document string `json:"document"`
		*Attestation
	}{"attestation-elimination", a}, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(bytes.TrimSuffix(head, []byte("\n}")))
	bw.WriteString(",\n  \"dossiers\": [")
	n := 0
	for d, err := range a.Dossiers() {
		if err != nil {
			return err
		}
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(b)
		n++
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}
