package extract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// MaxJSONDocument is the largest dossier document ReadJSON reads: the document holds rows, not
// LOBs (they are objects of their own), so a bigger one is not one this program wrote.
const MaxJSONDocument = 256 << 20

// ReadJSON reads back a dossier document that WriteJSON wrote (docs/extract.md, "The dossier
// document"), so that a dossier archived long ago can be decided again from its archived rows
// alone, the source base long gone: Env of the result is what Env gave when it was archived.
//
// declared, when not nil, gives a column's kind as the data dictionary declares it: a column
// written as "text" because some of its values said more than their kind (KeptText) is read
// back as that kind, each value as KeptText again. LOBs come back as *LOB with their size and
// no Open: their bytes are objects of the SIP, not of the document.
func ReadJSON(r io.Reader, declared func(table, column string) Kind) (*Dossier, error) {
	var doc struct {
		Format string          `json:"format"`
		Class  string          `json:"class"`
		Key    json.RawMessage `json:"key"`
		Tables []struct {
			Name    string              `json:"name"`
			Absent  bool                `json:"absent"`
			Columns []string            `json:"columns"`
			Types   []string            `json:"types"`
			Rows    [][]json.RawMessage `json:"rows"`
		} `json:"tables"`
	}
	lr := &io.LimitedReader{R: r, N: MaxJSONDocument + 1}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("dossier document: larger than %d MiB", MaxJSONDocument>>20)
		}
		return nil, fmt.Errorf("dossier document: %w", err)
	}
	if doc.Format != JSONFormat {
		return nil, fmt.Errorf("dossier document: format %q, want %q", doc.Format, JSONFormat)
	}
	d := &Dossier{Class: doc.Class}
	// A key is an int64 or a string, as the root's key column holds it: "00123" stays text.
	var key Value
	kd := json.NewDecoder(bytes.NewReader(doc.Key))
	kd.UseNumber()
	if err := kd.Decode(&key); err != nil || key == nil || key == "" {
		return nil, fmt.Errorf("dossier document: no key")
	}
	if n, ok := key.(json.Number); ok {
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("dossier document: key %s is not an integer", n)
		}
		key = i
	}
	if s, ok := key.(string); ok {
		// WriteJSON writes an integer beyond 2^53 as a string; a text key of those digits would
		// read the same, and its KeyString is the same either way.
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && (i > maxExactJSON || i < -maxExactJSON) && strconv.FormatInt(i, 10) == s {
			key = i
		}
	}
	if _, ok := key.(string); !ok {
		if _, ok := key.(int64); !ok {
			return nil, fmt.Errorf("dossier document: key: want a number or a string")
		}
	}
	d.Key = key
	for _, t := range doc.Tables {
		if len(t.Types) != len(t.Columns) {
			return nil, fmt.Errorf("dossier document: table %s: %d columns but %d types", t.Name, len(t.Columns), len(t.Types))
		}
		tr := TableRows{Table: t.Name, Absent: t.Absent, Columns: make([]Column, len(t.Columns))}
		for i, name := range t.Columns {
			c := Column{Name: name, Kind: Kind(t.Types[i])}
			if t.Types[i] == "timestamp-local" {
				c.Kind, c.Local = KindTimestamp, true
			}
			if declared != nil && c.Kind == KindText {
				if k := declared(t.Name, name); k == KindDate || k == KindTimestamp {
					c.Kind = k
				}
			}
			tr.Columns[i] = c
		}
		tr.Rows = make([][]Value, len(t.Rows))
		for ri, row := range t.Rows {
			if len(row) != len(t.Columns) {
				return nil, fmt.Errorf("dossier document: table %s row %d: %d values for %d columns", t.Name, ri+1, len(row), len(t.Columns))
			}
			vals := make([]Value, len(row))
			for ci, raw := range row {
				v, err := jsonValue(raw, &tr.Columns[ci])
				if err != nil {
					return nil, fmt.Errorf("dossier document: table %s row %d column %s: %w", t.Name, ri+1, t.Columns[ci], err)
				}
				if l, ok := v.(*LOB); ok {
					l.Table, l.Column = t.Name, t.Columns[ci]
				}
				vals[ci] = v
			}
			tr.Rows[ri] = vals
		}
		d.Tables = append(d.Tables, tr)
	}
	if len(d.Tables) == 0 {
		return nil, fmt.Errorf("dossier document: no table")
	}
	return d, nil
}

// jsonValue reads one value as appendJSONValue wrote it for a column of c's kind. Strings go
// through convert, the very reading the extraction made of the database's text.
func jsonValue(raw json.RawMessage, c *Column) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty value")
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		return b, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		switch c.Kind {
		case KindDecimal:
			return Decimal(s), nil
		case KindInteger:
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil // beyond 2^53, written as a string
			}
		case KindFloat:
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, nil // NaN, ±Inf
			}
		case KindBinary, KindCLOB:
			return s, nil
		}
		return convert(c, s)
	case '{':
		var o struct {
			Object  *string `json:"object"`
			Size    *int64  `json:"size"`
			Invalid *string `json:"invalid_utf8_base64"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		switch {
		case o.Object != nil:
			l := &LOB{Size: -1}
			if o.Size != nil {
				l.Size = *o.Size
			}
			return l, nil
		case o.Invalid != nil:
			b, err := base64.StdEncoding.DecodeString(*o.Invalid)
			if err != nil {
				return nil, fmt.Errorf("invalid_utf8_base64: %w", err)
			}
			return InvalidText(b), nil
		}
		return nil, fmt.Errorf("an object that is neither a LOB nor invalid text")
	}
	n := json.Number(raw)
	switch c.Kind {
	case KindInteger:
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		return Decimal(n.String()), nil
	case KindDecimal:
		return Decimal(n.String()), nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, err
	}
	return f, nil
}
