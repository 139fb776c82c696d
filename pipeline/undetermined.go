package pipeline

import (
	"encoding/csv"
	"io"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/retention"
)

// UndeterminedHeader is the first line of the undetermined list (run --undetermined FILE), in
// English; French readers get it translated (see csvList).
var UndeterminedHeader = []string{"class", "key", "rule", "reason"}

func init() {
	lang.Translate(map[string]string{"class": "classe", "key": "clé", "rule": "règle", "reason": "motif"})
}

// undeterminedWriter lists every undetermined dossier of a run, with its reason, in key order
// within each class: the report keeps the first MaxUndeterminedListed only.
type undeterminedWriter struct {
	*csvList
	lang language.Tag
}

func newUndeterminedWriter(w io.Writer, tag language.Tag) *undeterminedWriter {
	return &undeterminedWriter{csvList: newCSVList(w, tag, UndeterminedHeader), lang: tag}
}

func (u *undeterminedWriter) write(class, key string, dec retention.Decision) error {
	return u.row(class, textsafe.CSVCell(key), dec.Rule, textsafe.CSVCell(dec.ReasonIn(u.lang)))
}

// csvList is a list a person opens in a spreadsheet: its header in the reader's language, and in
// French laid out as French spreadsheets open it (textsafe.SpreadsheetCSV); English keeps the
// comma layout scripts read. A list with no row still says what its columns are.
type csvList struct {
	out    io.Writer
	w      *csv.Writer
	fr     bool
	header []string
	n      int
}

func newCSVList(w io.Writer, tag language.Tag, header []string) *csvList {
	l := &csvList{out: w, fr: lang.IsFrench(tag)}
	p := lang.Printer(tag)
	for _, c := range header {
		l.header = append(l.header, p.Sprintf(c))
	}
	return l
}

func (l *csvList) writeHeader() error {
	if l.fr {
		c, err := textsafe.SpreadsheetCSV(l.out)
		if err != nil {
			return err
		}
		l.w = c
	} else {
		l.w = csv.NewWriter(l.out)
	}
	return l.w.Write(l.header)
}

func (l *csvList) row(cells ...string) error {
	if l.n == 0 {
		if err := l.writeHeader(); err != nil {
			return err
		}
	}
	l.n++
	return l.w.Write(cells)
}

func (l *csvList) flush() error {
	if l.n == 0 {
		if err := l.writeHeader(); err != nil {
			return err
		}
	}
	l.w.Flush()
	return l.w.Error()
}
