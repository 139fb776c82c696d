package extract

import (
	"encoding/base64"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/civil"
)

// JSONFormat names the JSON rendering of a dossier, written in its documents.
const JSONFormat = "versement-dossier/1"

// LOBRef is one large object of a dossier: where it sits and its value.
type LOBRef struct {
	Table  string
	Column string
	Row    int // 0-based row index within the table's rows of the dossier
	LOB    *LOB
}

// LOBs lists the dossier's large objects in document order (tables, rows, columns).
func (d *Dossier) LOBs() iter.Seq[LOBRef] {
	return func(yield func(LOBRef) bool) {
		for _, t := range d.Tables {
			for r, row := range t.Rows {
				for c, v := range row {
					if l, ok := v.(*LOB); ok {
						if !yield(LOBRef{Table: t.Table, Column: t.Columns[c].Name, Row: r, LOB: l}) {
							return
						}
					}
				}
			}
		}
	}
}

// DefaultLOBName names a LOB's data object "TABLE.COLUMN.ROW" (row counted from 1), unique within
// its dossier.
func DefaultLOBName(r LOBRef) string {
	return fmt.Sprintf("%s.%s.%d", r.Table, r.Column, r.Row+1)
}

// WriteJSON renders the dossier as its archival JSON document (docs/extract.md, "The dossier
// document"). The output is deterministic: same dossier, same bytes. lobName gives the name of the
// data object holding each LOB (nil: DefaultLOBName); the LOB's bytes are not read.
func (d *Dossier) WriteJSON(w io.Writer, lobName func(LOBRef) string) error {
	if lobName == nil {
		lobName = DefaultLOBName
	}
	bp := jsonBufs.Get().(*[]byte)
	defer jsonBufs.Put(bp)
	b := (*bp)[:0]
	defer func() { *bp = b[:0] }()
	b = append(b, `{"format":"`+JSONFormat+`","class":`...)
	b = appendJSONString(b, d.Class)
	b = append(b, `,"key":`...)
	b = appendJSONValue(b, d.Key, nil)
	b = append(b, `,"tables":[`...)
	for ti, t := range d.Tables {
		if ti > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"name":`...)
		b = appendJSONString(b, t.Table)
		if t.Absent {
			b = append(b, `,"absent":true`...) // an optional table the database does not have
		}
		// Names and types once per table, then each row as an array in that order (like a CSV with
		// its header): half the bytes of one object per row. Database types and nullability are in
		// the SIP's data dictionary.
		b = append(b, `,"columns":[`...)
		for ci, c := range t.Columns {
			if ci > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c.Name)
		}
		b = append(b, `],"types":[`...)
		for ci := range t.Columns {
			if ci > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, typeLabel(&t, ci))
		}
		b = append(b, `],"rows":[`...)
		for ri, row := range t.Rows {
			if ri > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n["...)
			for ci, v := range row {
				if ci > 0 {
					b = append(b, ',')
				}
				if l, ok := v.(*LOB); ok {
					b = append(b, `{"object":`...)
					b = appendJSONString(b, lobName(LOBRef{Table: t.Table, Column: t.Columns[ci].Name, Row: ri, LOB: l}))
					if l.Size >= 0 {
						b = append(b, `,"size":`...)
						b = strconv.AppendInt(b, l.Size, 10)
					}
					b = append(b, '}')
					continue
				}
				b = appendJSONValue(b, v, &t.Columns[ci])
			}
			b = append(b, ']')
			if len(b) > 32<<10 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		b = append(b, "]}"...)
	}
	b = append(b, "\n]}\n"...)
	_, err := w.Write(b)
	return err
}

// typeLabel is the type of column ci's values in this document: its kind, or "text" when one of
// them is text kept because it says more than the kind holds (KeptText): the label stays true of
// every value written under it.
func typeLabel(t *TableRows, ci int) string {
	c := &t.Columns[ci]
	if c.Kind == KindDate || c.Kind == KindTimestamp {
		for _, row := range t.Rows {
			if _, ok := row[ci].(KeptText); ok {
				return string(KindText)
			}
		}
	}
	if c.Kind == KindTimestamp && c.Local {
		return "timestamp-local"
	}
	return string(c.Kind)
}

// maxExactJSON is the largest integer every JSON reader holds exactly: JavaScript's numbers are
// binary doubles, which round integers beyond 2^53.
const maxExactJSON = 1 << 53

// jsonBufs recycles WriteJSON's buffer: a fresh one per dossier was most of the garbage of a run.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func appendJSONValue(b []byte, v Value, c *Column) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		if x > maxExactJSON || x < -maxExactJSON {
			// A string with the exact digits, as for a Decimal: a JavaScript reader (a consultation
			// page) would show 9007199254740993 as 9007199254740992.
			b = append(b, '"')
			b = strconv.AppendInt(b, x, 10)
			return append(b, '"')
		}
		return strconv.AppendInt(b, x, 10)
	case KeptText:
		return appendJSONString(b, x.Text)
	case Decimal:
		// A string: JSON readers parse numbers as binary floats, which would round 0.1.
		return appendJSONString(b, string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendJSONString(b, strconv.FormatFloat(x, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case string:
		return appendJSONString(b, x)
	case InvalidText:
		b = append(b, `{"invalid_utf8_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, x)
		b = append(b, `","approx":`...)
		b = appendJSONString(b, strings.ToValidUTF8(string(x), "\uFFFD"))
		return append(b, '}')
	case bool:
		return strconv.AppendBool(b, x)
	case civil.Date:
		if x.IsZero() || x.Year < 0 || x.Year > 9999 {
			return appendJSONString(b, x.String())
		}
		b = append(b, '"')
		b = append4(b, x.Year)
		b = append(b, '-')
		b = append2(b, int(x.Month))
		b = append(b, '-')
		b = append2(b, x.Day)
		return append(b, '"')
	case time.Time:
		b = append(b, '"')
		if c != nil && c.Local {
			b = x.AppendFormat(b, "2006-01-02T15:04:05.999999999")
		} else {
			b = x.AppendFormat(b, time.RFC3339Nano)
		}
		return append(b, '"')
	case *LOB:
		return append(b, "null"...) // only reached for a key; rows handle LOBs
	}
	return appendJSONString(b, fmt.Sprint(v))
}

const hexDigits = "0123456789abcdef"

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }

// appendJSONString quotes s as JSON without HTML escaping (unlike encoding/json), so that text reads
// as it is; control characters are \u-escaped, which JSON requires and which loses nothing.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Not reached for string values (they are valid UTF-8); names from a catalogue might not be.
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Env is the dossier as the retention rules' expressions see it: the root table's name maps to its
// row (column → value), each child table's name to its rows ([]map[string]any, empty when none).
// Values are only nil, bool, int64, float64, string, civil.Date and time.Time: a Decimal becomes its
// text, InvalidText its text with U+FFFD for the bad bytes, a KeptText its reading as the column's
// kind, a LOB nil.
func (d *Dossier) Env() map[string]any {
	env := make(map[string]any, len(d.Tables))
	for i, t := range d.Tables {
		if i == 0 {
			var row map[string]any
			if len(t.Rows) > 0 {
				row = envRow(&t, t.Rows[0])
			} else {
				row = map[string]any{}
			}
			env[t.Table] = row
			continue
		}
		rows := make([]map[string]any, len(t.Rows))
		for r, vals := range t.Rows {
			rows[r] = envRow(&t, vals)
		}
		env[t.Table] = rows
	}
	return env
}

func envRow(t *TableRows, vals []Value) map[string]any {
	m := make(map[string]any, len(vals))
	for c, v := range vals {
		m[t.Columns[c].Name] = EnvValue(v)
	}
	return m
}

// EnvValue is one value as Env gives it.
func EnvValue(v Value) any {
	switch x := v.(type) {
	case Decimal:
		return string(x)
	case InvalidText:
		return strings.ToValidUTF8(string(x), "\uFFFD")
	case *LOB:
		return nil
	case KeptText:
		return x.As // the retention date is read from the text as the declared kind
	}
	return v
}
