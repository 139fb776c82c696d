package pipeline

import (
	"encoding/csv"
	"io"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/retention"
)

// UndeterminedHeader is the first line of the undetermined list (run --undetermined FILE), in
// English; French readers get it translated, with the separator and byte-order mark French
// spreadsheets expect.
var UndeterminedHeader = []string{"class", "key", "rule", "reason"}

func init() {
	lang.Translate(map[string]string{"class": "classe", "key": "clé", "rule": "règle", "reason": "motif"})
}

// undeterminedWriter lists every undetermined dossier of a run, with its reason, in key order
// within each class: the report keeps the first MaxUndeterminedListed only.
type undeterminedWriter struct {
	out io.Writer
	w   *csv.Writer
	p   *message.Printer
	fr  bool
	n   int
}

func newUndeterminedWriter(w io.Writer, tag language.Tag) *undeterminedWriter {
	u := &undeterminedWriter{out: w, w: csv.NewWriter(w), p: lang.Printer(tag), fr: lang.IsFrench(tag)}
	if u.fr {
		u.w.Comma, u.w.UseCRLF = ';', true
	}
	return u
}

func (u *undeterminedWriter) header() error {
	if u.fr {
		if _, err := io.WriteString(u.out, "\ufeff"); err != nil {
			return err
		}
	}
	h := make([]string, len(UndeterminedHeader))
	for i, c := range UndeterminedHeader {
		h[i] = u.p.Sprintf(c)
	}
	return u.w.Write(h)
}

func (u *undeterminedWriter) write(class, key string, dec retention.Decision) error {
	if u.n == 0 {
		if err := u.header(); err != nil {
			return err
		}
	}
	u.n++
	return u.w.Write([]string{class, textsafe.CSVCell(key), dec.Rule, textsafe.CSVCell(dec.Reason)})
}

func (u *undeterminedWriter) flush() error {
	if u.n == 0 {
		// An empty list still says what its columns are.
		if err := u.header(); err != nil {
			return err
		}
	}
	u.w.Flush()
	return u.w.Error()
}
