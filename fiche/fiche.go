// Package fiche is the readable sheet of one archived dossier, for the people who consult it (a
// scolarité agent answering a former student, an archivist, an auditor): the dossier's tables
// with the data dictionary's meanings as labels, its photo, and the archival context (tier, rules,
// end of the DUA and of the access restriction, the SIP, the digests checked). It is built from
// what the SIP holds — the dossier's JSON document (docs/extract.md, "The dossier document") and
// the class's data dictionary — and written as a printable HTML page, an HTML fragment for
// `versement serve`, or text for `versement consult`, in French or English.
package fiche

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxDocument is the largest dossier document Build reads: a dossier is a few kilobytes, a legacy
// base's huge comments make it megabytes; beyond this it is refused rather than held in memory.
const MaxDocument = 64 << 20

// Fiche is one dossier as a person reads it.
type Fiche struct {
	Title    string
	Context  Context
	Sections []Section
	// Objects are the dossier's data objects (its document, its LOBs), as the manifest lists them.
	Objects []Object
}

// Context is where the dossier is archived and under which rules.
type Context struct {
	Profile, Class, Tier, Key string
	Rule, FinalAction         string // appraisal rule and its final action (keep, destroy, sample)
	RuleStart, DUAEnd         string // YYYY-MM-DD
	AccessRule                string
	AccessStart, AccessEnd    string // the restriction runs until AccessEnd (communicable from then)
	SIP, SIPDigest, Target    string
	Operation                 string // VITAM ingest operation, when archived there
	Identifiers               []string
}

// Object is one data object of the dossier.
type Object struct {
	Name      string // file name under Content/ in the SIP
	MIME      string
	Size      int64
	Algorithm string
	Digest    string
	Verified  bool   // its bytes were read and matched Digest and Size
	Data      []byte // for images shown in the sheet (photos); nil otherwise
}

// Section is one table of the dossier.
type Section struct {
	Table   string
	Title   string // the table's comment in the dictionary, or its name
	Absent  bool   // an optional table the database did not have
	Columns []Column
	Rows    [][]Cell
}

// Column is one column of a section.
type Column struct {
	Name  string
	Label string // the dictionary's meaning, or the column name
	Kind  string // integer, text, date, binary…
}

// Cell is one value.
type Cell struct {
	Text    string
	Null    bool
	Invalid bool   // text whose bytes were not UTF-8: Text has U+FFFD for them
	Object  string // a LOB: the name of its data object
	Size    int64
}

// Single reports whether the section reads best as one record (label: value) rather than a table.
func (s Section) Single() bool { return len(s.Rows) == 1 && len(s.Columns) > 4 }

// document is the dossier's JSON document.
type document struct {
	Format string `json:"format"`
	Class  string `json:"class"`
	Tables []struct {
		Name    string              `json:"name"`
		Absent  bool                `json:"absent"`
		Columns []string            `json:"columns"`
		Types   []string            `json:"types"`
		Rows    [][]json.RawMessage `json:"rows"`
	} `json:"tables"`
}

// dictionary is the class's data dictionary (Content/dictionary-CLASS.json).
type dictionary struct {
	Format string `json:"format"`
	Tables []struct {
		Name    string `json:"name"`
		Comment string `json:"comment"`
		Columns []struct {
			Name    string `json:"name"`
			Meaning string `json:"meaning"`
		} `json:"columns"`
	} `json:"tables"`
}

// Build reads a dossier's document and, when dict is not nil, the class's dictionary, and returns
// its sheet with the given context and objects.
func Build(doc, dict io.Reader, ctx Context, title string, objects []Object) (*Fiche, error) {
	var d document
	if err := decodeLimited(doc, &d); err != nil {
		return nil, fmt.Errorf("fiche: the dossier document: %w", err)
	}
	if !strings.HasPrefix(d.Format, "versement-dossier/") {
		return nil, fmt.Errorf("fiche: the dossier document is %q, not a versement-dossier document", d.Format)
	}
	labels, comments := map[string]string{}, map[string]string{}
	if dict != nil {
		var dc dictionary
		if err := decodeLimited(dict, &dc); err != nil {
			return nil, fmt.Errorf("fiche: the data dictionary: %w", err)
		}
		for _, t := range dc.Tables {
			comments[t.Name] = t.Comment
			for _, c := range t.Columns {
				if c.Meaning != "" {
					labels[t.Name+"."+c.Name] = c.Meaning
				}
			}
		}
	}
	f := &Fiche{Title: title, Context: ctx, Objects: objects}
	for _, t := range d.Tables {
		s := Section{Table: t.Name, Title: comments[t.Name], Absent: t.Absent}
		if s.Title == "" {
			s.Title = t.Name
		}
		for i, c := range t.Columns {
			col := Column{Name: c, Label: labels[t.Name+"."+c]}
			if col.Label == "" {
				col.Label = c
			}
			if i < len(t.Types) {
				col.Kind = t.Types[i]
			}
			s.Columns = append(s.Columns, col)
		}
		for ri, r := range t.Rows {
			if len(r) != len(t.Columns) {
				return nil, fmt.Errorf("fiche: table %s, row %d: %d values for %d columns", t.Name, ri+1, len(r), len(t.Columns))
			}
			row := make([]Cell, len(r))
			for i, v := range r {
				c, err := cell(v)
				if err != nil {
					return nil, fmt.Errorf("fiche: table %s, row %d, column %s: %w", t.Name, ri+1, t.Columns[i], err)
				}
				row[i] = c
			}
			s.Rows = append(s.Rows, row)
		}
		f.Sections = append(f.Sections, s)
	}
	return f, nil
}

func decodeLimited(r io.Reader, v any) error {
	lr := &io.LimitedReader{R: r, N: MaxDocument + 1}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("larger than %d MiB", MaxDocument>>20)
		}
		return err
	}
	return nil
}

// cell reads one value of the document (docs/extract.md lists the shapes).
func cell(v json.RawMessage) (Cell, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return Cell{Null: true}, nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return Cell{Text: s}, err
	case v[0] == '{':
		var o struct {
			Object  string `json:"object"`
			Size    int64  `json:"size"`
			Invalid string `json:"invalid_utf8_base64"`
			Approx  string `json:"approx"`
		}
		if err := json.Unmarshal(v, &o); err != nil {
			return Cell{}, err
		}
		switch {
		case o.Object != "":
			return Cell{Object: o.Object, Size: o.Size}, nil
		case o.Invalid != "":
			return Cell{Text: o.Approx, Invalid: true}, nil
		}
		return Cell{}, errors.New("an object that is neither a LOB nor invalid text")
	case string(v) == "true" || string(v) == "false":
		return Cell{Text: string(v)}, nil
	}
	if _, err := strconv.ParseFloat(string(v), 64); err != nil {
		return Cell{}, fmt.Errorf("not a value: %.40s", v)
	}
	return Cell{Text: string(v)}, nil
}

// Object returns the data object named name, if the dossier has it.
func (f *Fiche) Object(name string) (Object, bool) {
	for _, o := range f.Objects {
		if o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}
