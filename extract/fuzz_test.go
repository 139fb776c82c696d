package extract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
