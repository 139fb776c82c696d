package bordereau

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"iter"
	"strings"

	"golang.org/x/text/language"
)

// Document is a bordereau: *Elimination or *Versement.
type Document interface {
	isDocument()
}

func (*Elimination) isDocument() {}
func (*Versement) isDocument()   {}

//go:embed bordereau.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	// Placeholders: the template is parsed once; every render binds the language's functions.
	"T": func(string, ...any) string { return "" }, "V": func(string) string { return "" },
	"Val": func(string, string) string { return "" }, "Date": func(any) string { return "" },
	"Span": func(any, any) string { return "" }, "Num": func(int64) string { return "" },
	"DUA": func(string) string { return "" }, "Agency": agencyText,
	"VisaTitle": func(Visa) string { return "" }, "Annex": func() iter.Seq[AnnexLine] { return nil }, "Short": shortLot, "Bytes": func(int64) string { return "" },
}).Parse(pageTemplate))

// WriteHTML writes doc as one printable HTML page (A4, inline CSS, no script, nothing fetched
// from elsewhere), in French when tag is French, English otherwise. The elimination's annex
// starts on a new page; each visa box is kept on one page.
func WriteHTML(w io.Writer, doc Document, tag language.Tag) error {
	t := newTr(tag)
	var annexErr error
	data := map[string]any{"Lang": "en", "Elim": nil, "Vers": nil}
	if t.fr {
		data["Lang"] = "fr"
	}
	annex := func() iter.Seq[AnnexLine] { return func(func(AnnexLine) bool) {} }
	transfer := false
	switch d := doc.(type) {
	case *Elimination:
		data["Elim"] = d
		data["Title"] = t.T("Proposal of elimination")
		annex = func() iter.Seq[AnnexLine] {
			return func(yield func(AnnexLine) bool) {
				for l, err := range d.Annex() {
					if err != nil {
						annexErr = err
						return
					}
					if !yield(l) {
						return
					}
				}
			}
		}
	case *Versement:
		data["Vers"] = d
		data["Title"] = t.T("Transfer slip")
		transfer = true
	default:
		return fmt.Errorf("bordereau: unknown document %T", doc)
	}
	tpl, err := page.Clone()
	if err != nil {
		return err
	}
	tpl.Funcs(template.FuncMap{
		"T": t.T, "V": t.V, "Val": t.Val, "Num": t.Num, "DUA": t.DUA,
		"Bytes": func(n int64) string {
			if n == 0 {
				return "" // unknown: a dry run renders no data object
			}
			return t.Num(n)
		},
		"Date": t.Date, "Span": t.Span,
		"VisaTitle": func(v Visa) string { return t.visaTitle(v, transfer) },
		"Annex":     annex,
	})
	if err := tpl.Execute(w, data); err != nil {
		return err
	}
	return annexErr
}

// shortLot is the lot's part of a line id ("L003"), which the annex prints under the proposal's id.
func shortLot(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
