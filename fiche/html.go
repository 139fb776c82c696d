package fiche

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"

	"golang.org/x/text/language"
)

//go:embed fiche.html.tmpl
var pageTemplate string

var pages = template.Must(template.New("fiche").Funcs(template.FuncMap{
	// Placeholders: the template is parsed once; every render binds the language's functions.
	"T": func(string, ...any) string { return "" }, "Val": func(string, string) string { return "" },
	"Date": func(string) string { return "" }, "Size": func(int64) string { return "" },
	"Cell": func(Cell, Column) shown { return shown{} }, "Images": func() []template.URL { return nil },
}).Parse(pageTemplate))

// shown is a cell as the template prints it.
type shown struct {
	Text    string
	Invalid bool
	Image   template.URL // a photo, inlined as a data: URL (the page fetches nothing)
}

// maxInline is the largest image inlined in a sheet; a larger one is listed, not shown.
const maxInline = 2 << 20

func (f *Fiche) bind(tag language.Tag) (*template.Template, map[string]any) {
	t := newTr(tag)
	verified := 0
	for _, o := range f.Objects {
		if o.Verified {
			verified++
		}
	}
	tpl := template.Must(pages.Clone()).Funcs(template.FuncMap{
		"T": t.T, "Val": t.value, "Date": t.date, "Size": t.size,
		"Cell": func(c Cell, col Column) shown {
			if c.Object != "" {
				if o, ok := f.Object(c.Object); ok {
					if u := inline(o); u != "" {
						return shown{Image: u}
					}
				}
			}
			return shown{Text: t.text(c, col.Kind), Invalid: c.Invalid}
		},
		// The photos, shown again beside the context: what a person checks first.
		"Images": func() []template.URL {
			var out []template.URL
			for _, o := range f.Objects {
				if u := inline(o); u != "" {
					out = append(out, u)
				}
			}
			return out
		},
	})
	data := map[string]any{"F": f, "Lang": "en", "Verified": verified}
	if t.fr {
		data["Lang"] = "fr"
	}
	return tpl, data
}

// inline is an image object as a data: URL, or "" for one not shown: not an image, too large,
// or not checked against the manifest. The MIME type is the manifest's, from versement's own
// sniffing: one of a short list of image types, never text/html.
func inline(o Object) template.URL {
	if !o.Verified || o.Data == nil || len(o.Data) > maxInline || !strings.HasPrefix(o.MIME, "image/") {
		return ""
	}
	return template.URL("data:" + o.MIME + ";base64," + base64.StdEncoding.EncodeToString(o.Data))
}

// WritePage writes the sheet as one printable HTML page (A4, inline CSS, no script, nothing
// fetched from elsewhere). footer, when not empty, is printed at the bottom (who printed it, when).
func (f *Fiche) WritePage(w io.Writer, tag language.Tag, footer string) error {
	tpl, data := f.bind(tag)
	data["Footer"], data["Standalone"] = footer, true
	return tpl.ExecuteTemplate(w, "page", data)
}

// Fragment is the sheet as an HTML fragment (an <article>), without styles or title: the page that
// embeds it gives both.
func (f *Fiche) Fragment(tag language.Tag) (template.HTML, error) {
	tpl, data := f.bind(tag)
	var b bytes.Buffer
	if err := tpl.ExecuteTemplate(&b, "fiche", data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
