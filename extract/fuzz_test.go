package extract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever bytes a text column holds, the dossier document is valid JSON and gives the bytes back.
func FuzzJSONKeepsAnyText(f *testing.F) {
	for _, s := range []string{"", "Hélène", "Ren\xe9e", "\x00\x01\x1b[0m", "\u2028\u2029", `"\`, "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Value = s
		if !utf8.ValidString(s) {
			v = InvalidText(s)
		}
		d := &Dossier{Class: "c", Key: s, Tables: []TableRows{{Table: "T", Columns: []Column{{Name: s, Kind: KindText}}, Rows: [][]Value{{v}}}}}
		if !utf8.ValidString(s) {
			d.Key = int64(1)
		}
		var buf bytes.Buffer
		if err := d.WriteJSON(&buf, nil); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tables []struct {
				Rows [][]json.RawMessage `json:"rows"`
			} `json:"tables"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("invalid JSON for %q: %v\n%s", s, err, buf.Bytes())
		}
		for _, raw := range doc.Tables[0].Rows[0] {
			if utf8.ValidString(s) {
				var got string
				if err := json.Unmarshal(raw, &got); err != nil || got != s {
					t.Fatalf("text %q came back as %q (%v)", s, got, err)
				}
				continue
			}
			var obj struct {
				B64 string `json:"invalid_utf8_base64"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatal(err)
			}
			b, err := base64.StdEncoding.DecodeString(obj.B64)
			if err != nil || string(b) != s {
				t.Fatalf("invalid UTF-8 %q came back as %q", s, b)
			}
		}
	})
}

// canonicalDecimal accepts exactly the plain decimal numbers and keeps their value.
func FuzzCanonicalDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.00", "+12.50", "007", ".5", "1e5", "", "-", "12.3.4", " 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := canonicalDecimal(s)
		if !ok {
			return
		}
		again, ok2 := canonicalDecimal(string(d))
		if !ok2 || again != d {
			t.Fatalf("%q → %q → %q: not stable", s, d, again)
		}
	})
}

// Whatever text an SQLite DATE or TIMESTAMP column holds, the document keeps it: a DATE value comes
// back as the very text, a timestamp as the text or as the same reading (same instant, same offset,
// a zone only when the text had one).
func FuzzDateTextIsKept(f *testing.F) {
	for _, s := range []string{"1950-07-14", "1950-07-14 00:00:00", "1950-07-14T00:00:00+02:00", "1945-10-10 13:45:00",
		"2024-03-31 03:30:00+02:00", "2024-03-31T01:30:00Z", " 2024-01-01", "2024-02-30", "", "1991-09-08 15:37:39.500", "2006-01-02 15:04:05.999999999 -0700 MST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // InvalidText: FuzzJSONKeepsAnyText
		}
		cols := []Column{{Name: "D", Kind: KindDate}, {Name: "TS", Kind: KindTimestamp, Local: true}, {Name: "TZ", Kind: KindTimestamp}}
		row := make([]Value, len(cols))
		for i := range cols {
			v, err := convert(&cols[i], s)
			if err != nil {
				t.Fatal(err)
			}
			row[i] = v
		}
		d := &Dossier{Class: "c", Key: int64(1), Tables: []TableRows{{Table: "T", Columns: cols, Rows: [][]Value{row}}}}
		var buf bytes.Buffer
		if err := d.WriteJSON(&buf, nil); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tables []struct {
				Rows [][]string `json:"rows"`
			} `json:"tables"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, buf.Bytes())
		}
		got := doc.Tables[0].Rows[0]
		if got[0] != s {
			t.Errorf("DATE %q written as %q", s, got[0])
		}
		for i, c := range cols[1:] {
			w := got[1+i]
			if w == s {
				continue
			}
			t1, z1, ok1 := parseTimestampZone(s)
			t2, z2, ok2 := parseTimestampZone(w)
			_, o1 := t1.Zone()
			_, o2 := t2.Zone()
			if !ok1 || !ok2 || z1 != z2 || z1 == c.Local || !t1.Equal(t2) || o1 != o2 || s != strings.TrimSpace(s) {
				t.Errorf("%s %q written as %q", c.Name, s, w)
			}
		}
	})
}
