package eliminate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
)

// Visa is the archives' decision on a proposal: one visa (reference, date, signatory) and, per
// lot answered, accepted or refused. A lot not answered stays proposed: nothing is destroyed
// without an "accepté".
type Visa struct {
	Proposal  string     `json:"proposal"`
	Reference string     `json:"reference"`
	Date      civil.Date `json:"date"`
	Signatory string     `json:"signatory,omitempty"`
	Lines     []Answer   `json:"lines"`
}

// Answer is one lot's decision.
type Answer struct {
	Line     string `json:"line"`
	Accepted bool   `json:"accepted"`
}

// Decisions, as a visa file spells them and as the JSON records them.
const (
	Accepted = "accepted"
	Refused  = "refused"
)

// Accepts reports whether the visa accepts the lot with that line id.
func (v *Visa) Accepts(line string) bool {
	for _, a := range v.Lines {
		if a.Line == line {
			return a.Accepted
		}
	}
	return false
}

// Answered reports whether the visa answers the lot, and how.
func (v *Visa) Answered(line string) (accepted, answered bool) {
	for _, a := range v.Lines {
		if a.Line == line {
			return a.Accepted, true
		}
	}
	return false, false
}

// MaxVisaFile is the largest visa file read: a bordereau has lots, not dossiers.
const MaxVisaFile = 16 << 20

// VisaError is a visa file's fault, said to the archivist in their language.
type VisaError struct {
	File   string
	Row    int // 1-based line of a CSV, 0 for the file as a whole
	format string
	args   []any
}

func (e *VisaError) Error() string { return e.Message(lang.English) }

// Message says what is wrong in tag's language.
func (e *VisaError) Message(tag language.Tag) string {
	pr := lang.Printer(tag)
	msg := pr.Sprintf(e.format, e.args...)
	if e.Row > 0 {
		return pr.Sprintf("visa %s, line %d: %s", e.File, e.Row, msg)
	}
	return pr.Sprintf("visa %s: %s", e.File, msg)
}

func visaErr(file string, row int, format string, args ...any) error {
	return &VisaError{File: file, Row: row, format: format, args: args}
}

func init() {
	lang.Translate(map[string]string{
		"visa %s, line %d: %s": "visa %s, ligne %d : %s",
		"visa %s: %s":          "visa %s : %s",
		"no header with the columns %s: the visa file is the lots table of the bordereau's CSV, with %s filled in": "aucun en-tête avec les colonnes %s : le fichier de visa est le tableau des lots du CSV du bordereau, avec %s remplis",
		"decision %q: want accepté or refusé (accepted or rejected)":                                               "décision %q : attendu accepté ou refusé",
		"lot %s is answered without a visa reference":                                                              "le lot %s a une décision sans référence du visa",
		"lot %s is answered without a visa date":                                                                   "le lot %s a une décision sans date du visa",
		"visa date %q: want DD/MM/YYYY or YYYY-MM-DD":                                                              "date du visa %q : attendu JJ/MM/AAAA ou AAAA-MM-JJ",
		"lot %s is answered twice (line %d and line %d)":                                                           "le lot %s a deux décisions (lignes %d et %d)",
		"%q is not a line id of a proposal (want PROPOSAL/L001)":                                                   "%q n'est pas un identifiant de ligne d'une proposition (attendu PROPOSITION/L001)",
		"it answers more than one proposal (%s and %s): one visa file per bordereau":                               "il répond à plus d'une proposition (%s et %s) : un fichier de visa par bordereau",
		"lines under two visa references (%s and %s): one visa per file":                                           "des lignes sous deux références de visa (%s et %s) : un visa par fichier",
		"lines under two visa dates (%s and %s): one visa per file":                                                "des lignes sous deux dates de visa (%s et %s) : un visa par fichier",
		"no lot is answered: fill in Décision, Référence du visa and Date du visa for the lots the visa answers":   "aucun lot n'a de décision : remplissez Décision, Référence du visa et Date du visa pour les lots visés",
		"larger than %d MiB: a visa file answers lots, not dossiers":                                               "plus de %d Mio : un fichier de visa répond à des lots, pas à des dossiers",
		"not a CSV the importer can read: %v":                                                                      "pas un CSV lisible : %v",
		"not a visa JSON: %v":                                                                                      "pas un JSON de visa : %v",
	})
}

// column headers, folded (lower case, accents kept, spaces trimmed), in both languages.
var (
	colLine      = []string{"id ligne", "line id"}
	colDecision  = []string{"décision", "decision"}
	colReference = []string{"référence du visa", "visa reference"}
	colDate      = []string{"date du visa", "visa date"}
	colSignatory = []string{"signataire", "signatory"}
)

// ParseVisa reads a visa file: the lots table of the bordereau's CSV with its last columns filled
// in (docs/bordereaux.md: headers in French or English, ';' or ',', with or without a BOM, any
// other column ignored), or JSON ({"reference", "date", "signatory", "lines": [{"line",
// "decision"}]}, each line may carry its own "reference", "date", "signatory"). name is the file's
// name, for messages.
func ParseVisa(r io.Reader, name string) (*Visa, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxVisaFile+1))
	if err != nil {
		return nil, fmt.Errorf("visa %s: %w", name, err)
	}
	if len(data) > MaxVisaFile {
		return nil, visaErr(name, 0, "larger than %d MiB: a visa file answers lots, not dossiers", MaxVisaFile>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var rows []visaRow
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		rows, err = jsonRows(data, name)
	} else {
		rows, err = csvRows(data, name)
	}
	if err != nil {
		return nil, err
	}
	return fromRows(rows, name)
}

// visaRow is one answered line, as read.
type visaRow struct {
	row                                  int
	line, decision, ref, date, signatory string
}

func fold(s string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFC.String(s)))
}

func csvRows(data []byte, name string) ([]visaRow, error) {
	sep := ';'
	if first, _, _ := bytes.Cut(headerLine(data), []byte("\n")); bytes.Count(first, []byte(",")) > bytes.Count(first, []byte(";")) {
		sep = ','
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = sep, -1, true
	var cols map[string]int
	var out []visaRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, visaErr(name, 0, "not a CSV the importer can read: %v", err)
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			cols = header(rec)
			continue
		}
		blank := true
		for _, c := range rec {
			if strings.TrimSpace(c) != "" {
				blank = false
			}
		}
		if blank {
			break // the end of the lots table: the visa boxes follow in a bordereau's CSV
		}
		get := func(col string) string {
			if i, ok := cols[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		out = append(out, visaRow{row: line, line: get("line"), decision: get("decision"), ref: get("ref"), date: get("date"), signatory: get("signatory")})
	}
	if cols == nil {
		return nil, visaErr(name, 0, "no header with the columns %s: the visa file is the lots table of the bordereau's CSV, with %s filled in",
			"Id ligne, Décision, Référence du visa, Date du visa", "Décision, Référence du visa, Date du visa, Signataire")
	}
	return out, nil
}

// headerLine is the line of data holding the header, for guessing the separator: the first
// line that names a line-id column (a bordereau's CSV has its header block before).
func headerLine(data []byte) []byte {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxVisaFile)
	for sc.Scan() {
		l := fold(sc.Text())
		if strings.Contains(l, colLine[0]) || strings.Contains(l, colLine[1]) {
			return sc.Bytes()
		}
	}
	return nil
}

// header maps a record's columns when it is the visa's header (a line id and a decision column);
// nil otherwise.
func header(rec []string) map[string]int {
	cols := map[string]int{}
	for i, c := range rec {
		f := fold(c)
		for col, names := range map[string][]string{"line": colLine, "decision": colDecision, "ref": colReference, "date": colDate, "signatory": colSignatory} {
			for _, n := range names {
				if f == n {
					if _, dup := cols[col]; !dup {
						cols[col] = i
					}
				}
			}
		}
	}
	_, l := cols["line"]
	_, d := cols["decision"]
	if !l || !d {
		return nil
	}
	return cols
}

func jsonRows(data []byte, name string) ([]visaRow, error) {
	var doc struct {
		Reference string `json:"reference"`
		Date      string `json:"date"`
		Signatory string `json:"signatory"`
		Lines     []struct {
			Line      string `json:"line"`
			Decision  string `json:"decision"`
			Reference string `json:"reference"`
			Date      string `json:"date"`
			Signatory string `json:"signatory"`
		} `json:"lines"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, visaErr(name, 0, "not a visa JSON: %v", err)
	}
	var out []visaRow
	for i, l := range doc.Lines {
		r := visaRow{row: 0, line: strings.TrimSpace(l.Line), decision: l.Decision, ref: l.Reference, date: l.Date, signatory: l.Signatory}
		if r.ref == "" {
			r.ref = doc.Reference
		}
		if r.date == "" {
			r.date = doc.Date
		}
		if r.signatory == "" {
			r.signatory = doc.Signatory
		}
		r.row = -(i + 1) // a JSON line has no row in a file; its rank is kept for "answered twice"
		out = append(out, r)
	}
	return out, nil
}

// fromRows checks the rows and makes them one visa.
func fromRows(rows []visaRow, name string) (*Visa, error) {
	v := &Visa{}
	seen := map[string]int{}
	row := func(r visaRow) int {
		if r.row < 0 {
			return 0
		}
		return r.row
	}
	for _, r := range rows {
		if r.decision == "" {
			continue // not answered: the lot stays proposed
		}
		var accepted bool
		switch fold(r.decision) {
		case "accepté", "acceptée", "accepte", "accepted", "accept":
			accepted = true
		case "refusé", "refusée", "refuse", "refused", "rejected", "reject":
		default:
			return nil, visaErr(name, row(r), "decision %q: want accepté or refusé (accepted or rejected)", r.decision)
		}
		proposal, _, ok := strings.Cut(r.line, "/L")
		if !ok || proposal == "" {
			return nil, visaErr(name, row(r), "%q is not a line id of a proposal (want PROPOSAL/L001)", r.line)
		}
		if r.ref == "" {
			return nil, visaErr(name, row(r), "lot %s is answered without a visa reference", r.line)
		}
		if r.date == "" {
			return nil, visaErr(name, row(r), "lot %s is answered without a visa date", r.line)
		}
		d, err := parseDate(r.date)
		if err != nil {
			return nil, visaErr(name, row(r), "visa date %q: want DD/MM/YYYY or YYYY-MM-DD", r.date)
		}
		if prev, dup := seen[r.line]; dup {
			return nil, visaErr(name, 0, "lot %s is answered twice (line %d and line %d)", r.line, prev, row(r))
		}
		seen[r.line] = row(r)
		switch {
		case v.Proposal == "":
			v.Proposal, v.Reference, v.Date, v.Signatory = proposal, r.ref, d, r.signatory
		case v.Proposal != proposal:
			return nil, visaErr(name, row(r), "it answers more than one proposal (%s and %s): one visa file per bordereau", v.Proposal, proposal)
		case v.Reference != r.ref:
			return nil, visaErr(name, row(r), "lines under two visa references (%s and %s): one visa per file", v.Reference, r.ref)
		case v.Date != d:
			return nil, visaErr(name, row(r), "lines under two visa dates (%s and %s): one visa per file", v.Date, d)
		}
		if v.Signatory == "" {
			v.Signatory = r.signatory
		}
		v.Lines = append(v.Lines, Answer{Line: r.line, Accepted: accepted})
	}
	if len(v.Lines) == 0 {
		return nil, visaErr(name, 0, "no lot is answered: fill in Décision, Référence du visa and Date du visa for the lots the visa answers")
	}
	return v, nil
}

func parseDate(s string) (civil.Date, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("02/01/2006", s); err == nil {
		return civil.Of(t), nil
	}
	if t, err := time.Parse("2/1/2006", s); err == nil {
		return civil.Of(t), nil
	}
	return civil.Parse(s)
}

// check refuses a visa given whole (the web UI's form) that a file would not pass: no reference,
// no date, no lot answered, a lot answered twice or of another proposal.
func (v *Visa) check() error {
	switch {
	case strings.TrimSpace(v.Reference) == "":
		return refuse("the visa has no reference: nothing is destroyed without the archives' visa number")
	case v.Date.IsZero():
		return refuse("visa %s has no date", v.Reference)
	case len(v.Lines) == 0:
		return refuse("visa %s answers no lot", v.Reference)
	}
	seen := map[string]bool{}
	for _, a := range v.Lines {
		if !strings.HasPrefix(a.Line, v.Proposal+"/L") {
			return refuse("visa %s answers lot %s, which is not of proposal %s", v.Reference, a.Line, v.Proposal)
		}
		if seen[a.Line] {
			return refuse("visa %s answers lot %s twice", v.Reference, a.Line)
		}
		seen[a.Line] = true
	}
	return nil
}

func init() {
	lang.Translate(map[string]string{
		"the visa has no reference: nothing is destroyed without the archives' visa number": "le visa n'a pas de référence : rien n'est détruit sans le numéro du visa des archives",
		"visa %s has no date":                                 "le visa %s n'a pas de date",
		"visa %s answers no lot":                              "le visa %s ne répond à aucun lot",
		"visa %s answers lot %s, which is not of proposal %s": "le visa %s répond au lot %s, qui n'est pas de la proposition %s",
		"visa %s answers lot %s twice":                        "le visa %s répond deux fois au lot %s",
	})
}
