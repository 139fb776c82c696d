package extract

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
)

// declaredOf is what a data dictionary says of d's columns.
func declaredOf(d *Dossier) func(table, column string) Kind {
	return func(table, column string) Kind {
		for _, t := range d.Tables {
			if t.Table != table {
				continue
			}
			for _, c := range t.Columns {
				if c.Name == column {
					return c.Kind
				}
			}
		}
		return ""
	}
}

// sameEnv says how two Envs differ: times compare as instants and as written (offset included).
func sameEnv(a, b map[string]any) error {
	var diff func(path string, x, y any) error
	diff = func(path string, x, y any) error {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				return fmt.Errorf("%s: %v, want %v", path, y, x)
			}
			for k := range xv {
				if err := diff(path+"."+k, xv[k], yv[k]); err != nil {
					return err
				}
			}
			return nil
		case []map[string]any:
			yv, ok := y.([]map[string]any)
			if !ok || len(xv) != len(yv) {
				return fmt.Errorf("%s: %v, want %v", path, y, x)
			}
			for i := range xv {
				if err := diff(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); err != nil {
					return err
				}
			}
			return nil
		case time.Time:
			yv, ok := y.(time.Time)
			if !ok || !xv.Equal(yv) || xv.Format(time.RFC3339Nano) != yv.Format(time.RFC3339Nano) {
				return fmt.Errorf("%s: %v, want %v", path, y, x)
			}
			return nil
		}
		if !reflect.DeepEqual(x, y) {
			return fmt.Errorf("%s: %#v, want %#v", path, y, x)
		}
		return nil
	}
	return diff("", a, b)
}

func roundTrip(t *testing.T, d *Dossier) *Dossier {
	t.Helper()
	var b bytes.Buffer
	if err := d.WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&b, declaredOf(d))
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	if back.Class != d.Class || back.Key != d.Key {
		t.Fatalf("class/key %s/%#v, want %s/%#v", back.Class, back.Key, d.Class, d.Key)
	}
	if err := sameEnv(d.Env(), back.Env()); err != nil {
		t.Fatalf("Env after the round trip: %v", err)
	}
	return back
}

// A dossier archived long ago is decided again from its document alone: Env must come back as
// the extraction gave it, every kind of value included.
func TestReadJSONGivesBackTheEnv(t *testing.T) {
	back := roundTrip(t, sampleDossier())
	var b1, b2 bytes.Buffer
	sampleDossier().WriteJSON(&b1, nil)
	back.WriteJSON(&b2, nil)
	if b1.String() != b2.String() {
		t.Fatalf("the document read back renders differently:\n%s\nwant:\n%s", b2.String(), b1.String())
	}
	text := &Dossier{Class: "c", Key: "00123", Tables: []TableRows{{Table: "T", Columns: []Column{{Name: "K", Kind: KindText}}, Rows: [][]Value{{"00123"}}}}}
	if k := roundTrip(t, text).Key; k != "00123" {
		t.Fatalf("a text key came back as %#v", k)
	}
	big := &Dossier{Class: "c", Key: int64(9007199254740993), Tables: []TableRows{{Table: "T",
		Columns: []Column{{Name: "N", Kind: KindInteger}, {Name: "D", Kind: KindDate}},
		Rows:    [][]Value{{int64(9007199254740993), KeptText{Text: "1950-07-14 00:00:00", As: civil.Date{Year: 1950, Month: 7, Day: 14}}}}}}}
	roundTrip(t, big)
}

func TestReadJSONRefusesWhatItDidNotWrite(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"format":"other/1","class":"c","key":1,"tables":[]}`, `dossier document: format "other/1", want "versement-dossier/1"`},
		{`{"format":"versement-dossier/1","class":"c","tables":[]}`, `dossier document: no key`},
		{`{"format":"versement-dossier/1","class":"c","key":1,"tables":[]}`, `dossier document: no table`},
		{`{"format":"versement-dossier/1","class":"c","key":1,"tables":[{"name":"T","columns":["A"],"types":[]}]}`, `dossier document: table T: 1 columns but 0 types`},
		{`{"format":"versement-dossier/1","class":"c","key":1,"tables":[{"name":"T","columns":["A"],"types":["text"],"rows":[[1,2]]}]}`, `dossier document: table T row 1: 2 values for 1 columns`},
		{`{"format":"versement-dossier/1","class":"c","key":1,"tables":[{"name":"T","columns":["A"],"types":["text"],"rows":[[{"x":1}]]}]}`, `dossier document: table T row 1 column A: an object that is neither a LOB nor invalid text`},
		{`{"format":`, `dossier document: unexpected EOF`},
	} {
		_, err := ReadJSON(strings.NewReader(c.doc), nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
}
