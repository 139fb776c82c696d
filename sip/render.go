package sip

import (
	"io"

	"github.com/versement/versement/extract"
)

// A Rendering writes a dossier as one data object of its SIP: the document that holds its rows.
// lobName gives the name of the object holding each of its LOBs, for the document to refer to.
type Rendering interface {
	Format() Format
	Render(w io.Writer, d *extract.Dossier, lobName func(extract.LOBRef) string) error
}

// JSON is the dossier's archival JSON document (docs/extract.md, "The dossier document").
var JSON Rendering = jsonRendering{}

type jsonRendering struct{}

func (jsonRendering) Format() Format { return FormatOf("application/json") }

func (jsonRendering) Render(w io.Writer, d *extract.Dossier, lobName func(extract.LOBRef) string) error {
	return d.WriteJSON(w, lobName)
}
