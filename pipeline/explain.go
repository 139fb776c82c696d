package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
)

// Explanation is the decision for one dossier, and everything a person needs to check it.
type Explanation struct {
	Class       string
	Key         string
	Description profiles.Description
	Decision    retention.Decision
	Tier        retention.Tier // where a run puts it (decommission mode included)
	Rule        *retention.CompiledRule
	Rows        map[string]int // rows per table, as read
	// Seen are the values the rule's expressions read in the dossier, table by table (at most
	// seenRows rows each): what explain shows so that a surprising decision can be traced to data.
	Seen []SeenTable `json:"seen,omitempty"`
}

// SeenTable is what a rule read in one table of a dossier.
type SeenTable struct {
	Table   string     `json:"table"`
	Columns []string   `json:"columns,omitempty"`
	Rows    [][]string `json:"rows"`  // the first seenRows rows, values as text (NULL for NULL)
	Total   int        `json:"total"` // the rows the dossier has in the table
}

// seenRows bounds the rows explain shows per table.
const seenRows = 10

// seen lists what the rule reads in the dossier.
func seen(r *retention.CompiledRule, d *extract.Dossier) []SeenTable {
	if r == nil {
		return nil
	}
	var out []SeenTable
	for _, tc := range profiles.RuleReads(r.Rule) {
		st := SeenTable{Table: tc.Table, Columns: tc.Columns, Rows: [][]string{}}
		for _, t := range d.Tables {
			if !strings.EqualFold(t.Table, tc.Table) {
				continue
			}
			idx := make([]int, len(tc.Columns))
			for i, c := range tc.Columns {
				idx[i] = slices.IndexFunc(t.Columns, func(col extract.Column) bool { return strings.EqualFold(col.Name, c) })
			}
			st.Total = len(t.Rows)
			for _, row := range t.Rows[:min(len(t.Rows), seenRows)] {
				vals := make([]string, len(idx))
				for i, j := range idx {
					vals[i] = "?"
					if j >= 0 && j < len(row) {
						vals[i] = valueText(row[j])
					}
				}
				st.Rows = append(st.Rows, vals)
			}
		}
		out = append(out, st)
	}
	return out
}

// valueText is a column value as explain prints it.
func valueText(v extract.Value) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if strings.TrimSpace(x) == "" {
			return fmt.Sprintf("%q", x)
		}
		return textsafe.Terminal(x)
	case time.Time:
		return x.Format("2006-01-02T15:04:05")
	}
	return textsafe.Terminal(fmt.Sprint(v))
}

// ErrNoDossier is returned by Explain when no class of the profile has a dossier with that key.
var ErrNoDossier = errors.New("no dossier with that key")

// ExplainQuery names the dossier Explain reads: its key, in every class of the profile or in the one
// named, decided as of AsOf (in decommission mode when Decommission is set).
type ExplainQuery struct {
	Class, Key   string
	AsOf         civil.Date
	Decommission bool
}

// Explain reads the dossier q names and decides it.
func Explain(ctx context.Context, p *profiles.Profile, src extract.Source, q ExplainQuery) ([]Explanation, error) {
	class, key, asOf, decommission := q.Class, q.Key, q.AsOf, q.Decommission
	classes, err := selectClasses(p, nonEmpty(class))
	if err != nil {
		return nil, err
	}
	var out []Explanation
	for _, c := range classes {
		d, err := readOne(ctx, src, c, key)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		if d == nil {
			continue
		}
		dec := Decide(p, c, d, asOf)
		desc, err := c.Describe(d)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		rule, _ := p.Schedule().Rule(c.Rule)
		rows := map[string]int{}
		for _, t := range d.Tables {
			rows[t.Table] = len(t.Rows)
		}
		out = append(out, Explanation{Class: c.Name, Key: profiles.KeyString(d.Key), Description: desc,
			Decision: dec, Tier: ArchiveTier(dec, decommission), Rule: rule, Rows: rows, Seen: seen(rule, d)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %s in profile %s", ErrNoDossier, key, p.Name)
	}
	return out, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// readOne reads the single dossier with that key.
func readOne(ctx context.Context, src extract.Source, c *profiles.Class, key string) (*extract.Dossier, error) {
	// The source filters every table on the key, with the key column spelled as the database
	// folds it (a base migrated with unquoted DDL has cod_ind, not COD_IND) and the key written as
	// a literal of its kind.
	ec := c.ExtractSpec()
	ec.Only = key
	for d, err := range src.Dossiers(ctx, ec) {
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, nil
}

// WriteText prints an explanation for a person, in English: the dossier, the one-line decision,
// the rule's legal basis and what is still to confirm.
func (e Explanation) WriteText(w io.Writer) error { return e.WriteTextIn(w, lang.English) }

// WriteTextIn is WriteText in the reader's language.
func (e Explanation) WriteTextIn(w io.Writer, tag language.Tag) error {
	p := lang.Printer(tag)
	var b strings.Builder
	p.Fprintf(&b, "dossier %s (class %s): %s\n", textsafe.Terminal(e.Key), e.Class, textsafe.Terminal(e.Description.Title))
	if !e.Description.StartDate.IsZero() || !e.Description.EndDate.IsZero() {
		p.Fprintf(&b, "dates: %s … %s\n", dateOrDash(e.Description.StartDate), dateOrDash(e.Description.EndDate))
	}
	var tables []string
	for t, n := range e.Rows {
		tables = append(tables, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(tables)
	p.Fprintf(&b, "rows: %s\n", strings.Join(tables, ", "))
	p.Fprintf(&b, "as of %s: %s\n", e.Decision.AsOf, textsafe.Terminal(e.Decision.ExplainIn(tag)))
	for _, st := range e.Seen {
		what := st.Table
		if len(st.Columns) > 0 {
			what += " (" + strings.Join(st.Columns, ", ") + ")"
		}
		if st.Total == 0 {
			p.Fprintf(&b, "  the rule read %s: no rows\n", what)
			continue
		}
		rows := make([]string, len(st.Rows))
		for i, r := range st.Rows {
			cells := make([]string, len(r))
			for j, v := range r {
				cells[j] = st.Columns[j] + "=" + v
			}
			rows[i] = strings.Join(cells, " ")
		}
		line := strings.Join(rows, "; ")
		if st.Total > len(st.Rows) {
			line += p.Sprintf("; and %d more rows", st.Total-len(st.Rows))
		}
		p.Fprintf(&b, "  the rule read %s: %s\n", what, line)
	}
	if e.Tier != e.Decision.Tier {
		p.Fprintf(&b, "decommission: archived as %s with its clock preserved\n", p.Sprintf(string(e.Tier)))
	}
	if r := e.Rule; r != nil {
		p.Fprintf(&b, "rule %s: %s [%s]\n", r.ID, r.Title, statusText(p, r.Status))
		if r.Basis != "" {
			p.Fprintf(&b, "  basis: %s\n", r.Basis)
		}
		if r.Note != "" {
			p.Fprintf(&b, "  note: %s\n", r.Note)
		}
	}
	for _, n := range e.Description.Notes {
		p.Fprintf(&b, "warning: %s\n", textsafe.Terminal(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statusText(p *message.Printer, s retention.Status) string {
	if s == retention.ToConfirm {
		return p.Sprintf("TO CONFIRM by the establishment's archivist")
	}
	return p.Sprintf(string(s))
}

func init() {
	lang.Translate(map[string]string{
		"dossier %s (class %s): %s\n": "dossier %s (classe %s) : %s\n",
		"dates: %s … %s\n":            "dates : %s … %s\n",
		"rows: %s\n":                  "lignes : %s\n",
		"as of %s: %s\n":              "au %s : %s\n",
		"decommission: archived as %s with its clock preserved\n": "décommissionnement : archivé en %s, son délai conservé\n",
		"rule %s: %s [%s]\n":                          "règle %s : %s [%s]\n",
		"  basis: %s\n":                               "  fondement : %s\n",
		"  note: %s\n":                                "  note : %s\n",
		"warning: %s\n":                               "avertissement : %s\n",
		"  the rule read %s: no rows\n":               "  la règle a lu %s : aucune ligne\n",
		"  the rule read %s: %s\n":                    "  la règle a lu %s : %s\n",
		"; and %d more rows":                          " ; et %d lignes de plus",
		"TO CONFIRM by the establishment's archivist": "À CONFIRMER par l'archiviste de l'établissement",
		"verified":                                    "vérifiée",
	})
}

func dateOrDash(d civil.Date) string {
	if d.IsZero() {
		return "-"
	}
	return d.String()
}

// MarshalJSON gives an explanation for machines: the decision's dates and reasons as fields.
func (e Explanation) MarshalJSON() ([]byte, error) {
	d := e.Decision
	out := struct {
		Class       string              `json:"class"`
		Key         string              `json:"key"`
		Title       string              `json:"title"`
		AsOf        string              `json:"as_of"`
		Tier        retention.Tier      `json:"tier"`
		ArchiveTier retention.Tier      `json:"archive_tier"`
		Rule        string              `json:"rule"`
		Status      retention.Status    `json:"status"`
		Start       string              `json:"start,omitempty"`
		ActiveEnd   string              `json:"active_end,omitempty"`
		DUAStart    string              `json:"dua_start,omitempty"`
		DUAEnd      string              `json:"dua_end,omitempty"`
		AccessID    string              `json:"access_rule,omitempty"`
		AccessEnd   string              `json:"access_end,omitempty"`
		Sampled     bool                `json:"sampled"`
		Hold        string              `json:"hold,omitempty"`
		Reason      string              `json:"reason,omitempty"`
		Explanation string              `json:"explanation"`
		Basis       string              `json:"basis,omitempty"`
		Note        string              `json:"note,omitempty"`
		Rows        map[string]int      `json:"rows"`
		Warnings    []string            `json:"warnings,omitempty"`
		Dates       map[string]string   `json:"content_dates,omitempty"`
		Anomalies   []retention.Anomaly `json:"anomalies,omitempty"`
	}{
		Class: e.Class, Key: e.Key, Title: e.Description.Title, AsOf: dateText(d.AsOf), Tier: d.Tier, ArchiveTier: e.Tier,
		Rule: d.Rule, Status: d.Status, Start: dateText(d.Start), ActiveEnd: dateText(d.ActiveEnd), DUAStart: dateText(d.DUAStart),
		DUAEnd: dateText(d.DUAEnd), AccessID: d.AccessID, AccessEnd: dateText(d.AccessEnd), Sampled: d.Sampled,
		Reason: d.Reason, Explanation: d.Explain(), Rows: e.Rows, Warnings: e.Description.Notes, Anomalies: d.Anomalies,
	}
	if d.Hold != nil {
		out.Hold = d.Hold.ID
	}
	if e.Rule != nil {
		out.Basis, out.Note = e.Rule.Basis, e.Rule.Note
	}
	if s, en := dateText(e.Description.StartDate), dateText(e.Description.EndDate); s != "" || en != "" {
		out.Dates = map[string]string{"start": s, "end": en}
	}
	return json.Marshal(out)
}
