package fiche

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/language"
)

// WriteText writes the sheet for a terminal: the context, then each table (one record as
// label: value lines, several rows as columns).
func (f *Fiche) WriteText(w io.Writer, tag language.Tag) error {
	t := newTr(tag)
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s\n%s\n\n", f.Title, strings.Repeat("=", len([]rune(f.Title))))
	c := f.Context
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	fmt.Fprintf(tw, "%s\n", t.T("Archival context"))
	line(t.T("Profile and class"), c.Profile+" / "+c.Class)
	line(t.T("Key"), c.Key)
	if len(c.Identifiers) > 0 {
		line(t.T("Identifiers"), strings.Join(c.Identifiers, ", "))
	}
	line(t.T("Tier"), t.value("tier", c.Tier))
	if c.Rule != "" {
		v := t.T("%s, from %s, end of the DUA %s", c.Rule, t.date(c.RuleStart), t.date(c.DUAEnd))
		if c.FinalAction != "" {
			v += "; " + t.T("final action: %s", t.value("final", c.FinalAction))
		}
		line(t.T("Appraisal rule"), v)
	}
	if c.AccessRule != "" {
		line(t.T("Access rule"), t.T("%s, from %s, communicable from %s", c.AccessRule, t.date(c.AccessStart), t.date(c.AccessEnd)))
	}
	line(t.T("Package (SIP)"), c.SIP+" (SHA-256 "+c.SIPDigest+")")
	line(t.T("Kept at"), c.Target)
	if c.Operation != "" {
		line(t.T("VITAM operation"), c.Operation)
	}
	verified := 0
	for _, o := range f.Objects {
		if o.Verified {
			verified++
		}
	}
	line(t.T("Digests checked"), t.T("%d of %d objects read and checked against the manifest", verified, len(f.Objects)))
	tw.Flush()
	for _, s := range f.Sections {
		fmt.Fprintf(ew, "\n%s (%s)\n", s.Title, s.Table)
		switch {
		case s.Absent:
			fmt.Fprintf(ew, "  %s\n", t.T("absent from the database"))
			continue
		case len(s.Rows) == 0:
			fmt.Fprintf(ew, "  %s\n", t.T("no row"))
			continue
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		if len(s.Rows) == 1 {
			for i, col := range s.Columns {
				fmt.Fprintf(tw, "  %s\t%s\n", col.Label, oneLine(t.text(s.Rows[0][i], col.Kind)))
			}
		} else {
			// Column names, not meanings: several rows read as a table, and meanings are long.
			var head []string
			for _, col := range s.Columns {
				head = append(head, col.Name)
			}
			fmt.Fprintf(tw, "  %s\n", strings.Join(head, "\t"))
			for _, r := range s.Rows {
				var vs []string
				for i, col := range s.Columns {
					vs = append(vs, oneLine(t.text(r[i], col.Kind)))
				}
				fmt.Fprintf(tw, "  %s\n", strings.Join(vs, "\t"))
			}
		}
		tw.Flush()
	}
	return ew.err
}

// oneLine keeps a long comment from breaking the layout: its lines joined, cut at 200 runes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
