package bordereau

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/textsafe"
)

// csvOut writes what French spreadsheets open as they are: UTF-8 with a BOM, ';' between cells,
// CRLF line ends; every cell defused (textsafe.CSVCell) so that a name never runs as a formula.
type csvOut struct {
	w *csv.Writer
	t tr
}

func newCSV(w io.Writer, tag language.Tag) (*csvOut, error) {
	c, err := textsafe.SpreadsheetCSV(w)
	if err != nil {
		return nil, err
	}
	return &csvOut{w: c, t: newTr(tag)}, nil
}

func (c *csvOut) row(cells ...string) {
	for i, s := range cells {
		cells[i] = textsafe.CSVCell(s)
	}
	c.w.Write(cells) // errors are sticky: done returns them
}

func (c *csvOut) done() error {
	c.w.Flush()
	return c.w.Error()
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

// bytesCell is a volume in bytes, blank when unknown (0: a dry run renders no data object).
func bytesCell(n int64) string {
	if n == 0 {
		return ""
	}
	return num(n)
}

// The columns a visa answers a lot with (docs/bordereaux.md): the lots' CSV carries them empty, so
// that the archivist may fill it in and return it as the visa file.
var visaColumns = []string{"Decision", "Visa reference", "Visa date", "Signatory"}

func (c *csvOut) header(title, idLabel, id string, date string, est, profile string, o, t, a Agency) {
	T := c.t.T
	c.row(title)
	c.row(T(idLabel), id)
	c.row(T("Date"), date)
	c.row(T("Establishment"), est)
	c.row(T("Profile"), profile)
	c.row(T("Originating agency"), o.ID, o.Name)
	c.row(T("Transferring agency"), t.ID, t.Name)
	c.row(T("Archival agency"), a.ID, a.Name)
}

func (c *csvOut) visa(vs []Visa, transfer bool) {
	T := c.t.T
	for _, v := range vs {
		c.row(c.t.visaTitle(v, transfer), agencyText(v.Agency), T("Name:"), v.Name, T("Position:"), v.Title, T("Date:"), v.Date, T("Signature:"), "")
	}
}

// WriteCSV writes doc as one CSV file: the header block, then its lots with their line ids, then
// the visa block (for a transfer slip, the SIPs before the visa). The elimination's annex is a
// second file (WriteAnnexCSV).
func WriteCSV(w io.Writer, doc Document, tag language.Tag) error {
	c, err := newCSV(w, tag)
	if err != nil {
		return err
	}
	t := c.t
	T := t.T
	switch d := doc.(type) {
	case *Elimination:
		c.header(T("Proposal of elimination"), "Proposal identifier", d.ID, t.Date(d.Date), d.Establishment, d.Profile, d.Originating, d.Transferring, d.Archival)
		c.row(T("Dossiers"), num(d.Dossiers))
		c.row(T("Rows"), num(d.Rows))
		c.row(T("Bytes"), bytesCell(d.Bytes))
		c.row()
		c.row(T("Retention rules concerned"))
		c.row(T("Rule"), T("Title"), T("DUA"), T("Final action"), T("Legal reference"), T("Status"))
		for _, r := range d.Rules {
			c.row(r.ID, r.Title, t.DUA(r.DUA), t.Val("final", r.FinalAction), r.Basis, t.Val("status", r.Status))
		}
		c.row()
		if len(d.Lots) == 0 {
			c.row(T("Nothing is proposed for elimination: %s", t.V(d.EmptyReason)))
		} else {
			c.row(T("Lots"))
			head := []string{T("Line id"), T("Class"), T("Description"), T("Extreme dates: start"), T("Extreme dates: end"), T("Year of DUA end"), T("Dossiers"), T("Rows"), T("Bytes"), T("DUA"), T("Rule"), T("Legal reference"), T("Final action"), T("Observations")}
			for _, v := range visaColumns {
				head = append(head, T(v))
			}
			c.row(head...)
			for _, l := range d.Lots {
				obs := make([]string, len(l.Observations))
				for i, o := range l.Observations {
					obs[i] = t.Val("obs", o)
				}
				c.row(l.ID, l.Class, l.Description, t.Date(l.Start), t.Date(l.End), strconv.Itoa(l.DUAEndYear),
					num(l.Dossiers), num(l.Rows), bytesCell(l.Bytes), t.DUA(l.Rule.DUA), l.Rule.ID, l.Rule.Basis,
					t.Val("final", l.FinalAction), strings.Join(obs, "; "), "", "", "", "")
			}
		}
		c.row()
		c.row(T("Visa"), T("No elimination without the visa of the archives service (Code du patrimoine, R212-14). Each lot is answered by its line id: accepted or rejected."))
		c.visa(d.Visa, false)
	case *Versement:
		c.header(T("Transfer slip"), "Transfer identifier", d.ID, t.Date(d.Date), d.Establishment, d.Profile, d.Originating, d.Transferring, d.Archival)
		c.row(T("Ingest contract"), d.Agreement)
		c.row(T("Dossiers"), num(d.Dossiers))
		c.row(T("Rows"), num(d.Rows))
		c.row(T("Bytes"), bytesCell(d.Bytes))
		c.row()
		c.row(T("Lots"))
		c.row(T("Line id"), T("Class"), T("Description"), T("Tier"), T("Extreme dates: start"), T("Extreme dates: end"), T("Dossiers"), T("Rows"), T("Bytes"),
			T("Rule"), T("DUA"), T("Final action"), T("Legal reference"), T("Access rule"), T("Communicable after"), T("SIPs"))
		for _, l := range d.Lots {
			var ids, duas, fas, bases, acc, accEnd []string
			for _, r := range l.Rules {
				ids, duas, fas, bases = append(ids, r.ID), append(duas, t.DUA(r.DUA)), append(fas, t.Val("final", r.FinalAction)), append(bases, r.Basis)
			}
			for _, a := range l.Access {
				acc, accEnd = append(acc, a.ID), append(accEnd, t.Date(a.End))
			}
			c.row(l.ID, l.Class, l.Description, t.Val("tier", l.Tier), t.Date(l.Start), t.Date(l.End), num(l.Dossiers), num(l.Rows), bytesCell(l.Bytes),
				strings.Join(ids, " | "), strings.Join(duas, " | "), strings.Join(fas, " | "), strings.Join(bases, " | "),
				strings.Join(acc, " | "), strings.Join(accEnd, " | "), strings.Join(l.SIPs, " "))
		}
		c.row()
		c.row(T("Packages (SIPs)"))
		c.row(T("SIP identifier"), T("File"), T("SHA-256"), T("Size (bytes)"), T("Dossiers"), T("Target"), T("VITAM operation"), T("ATR"))
		for _, s := range d.SIPs {
			c.row(s.ID, s.File, s.SHA256, num(s.Bytes), num(s.Dossiers), s.Target, s.Operation, s.ATR)
		}
		c.row()
		c.row(T("Visa"))
		c.visa(d.Visa, true)
	default:
		return fmt.Errorf("bordereau: unknown document %T", doc)
	}
	return c.done()
}

// WriteAnnexCSV writes the elimination's annex: one line per dossier with its lot's line id.
func WriteAnnexCSV(w io.Writer, e *Elimination, tag language.Tag) error {
	c, err := newCSV(w, tag)
	if err != nil {
		return err
	}
	t := c.t
	T := t.T
	c.row(T("Lot"), T("Class"), T("Key"), T("Identity"), T("Start"), T("DUA end"), T("Reason"))
	for l, err := range e.Annex() {
		if err != nil {
			return err
		}
		c.row(l.Lot, l.Class, l.Key, l.Identity, t.Date(l.Start), t.Date(l.DUAEnd), l.Reason)
	}
	return c.done()
}

// WriteJSON writes doc for machines: stable English field names, codes not words (destroy,
// to-confirm), ISO dates; an elimination's annex is its "annex" array, streamed.
func WriteJSON(w io.Writer, doc Document) error {
	var head []byte
	var err error
	var e *Elimination
	switch d := doc.(type) {
	case *Elimination:
		e = d
		head, err = json.MarshalIndent(struct {
			Document string `json:"document"`
			*Elimination
		}{"elimination", d}, "", "  ")
	case *Versement:
		head, err = json.MarshalIndent(struct {
			Document string `json:"document"`
			*Versement
		}{"versement", d}, "", "  ")
	default:
		return fmt.Errorf("bordereau: unknown document %T", doc)
	}
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if e == nil {
		bw.Write(head)
		bw.WriteString("\n")
		return bw.Flush()
	}
	bw.Write(bytes.TrimSuffix(head, []byte("\n}")))
	bw.WriteString(",\n  \"annex\": [")
	n := 0
	for l, err := range e.Annex() {
		if err != nil {
			return err
		}
		b, err := json.Marshal(l)
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
