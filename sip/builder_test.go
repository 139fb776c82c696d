package sip

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

func lob(table, column string, b []byte) *extract.LOB {
	return &extract.LOB{Table: table, Column: column, Size: int64(len(b)), Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// A dossier's objects are named after the dossier and carry their format's extension, which the
// dossier's document refers to; the SIP passes verify.
func TestBuilderNamesObjectsByFormat(t *testing.T) {
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 600)...)
	d := &extract.Dossier{Class: "etudiant", Key: int64(42), Tables: []extract.TableRows{{
		Table:   "INDIVIDU",
		Columns: []extract.Column{{Name: "COD_IND"}, {Name: "PHOTO"}, {Name: "NOTE"}},
		Rows:    [][]extract.Value{{int64(42), lob("INDIVIDU", "PHOTO", jpeg), lob("INDIVIDU", "NOTE", []byte("texte libre"))}},
	}}}
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(f, Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Intermediate, AsOf: day("2026-06-30"), Dictionary: []byte("{}"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dec := retention.Decision{Tier: retention.Intermediate}
	if _, err := b.Cost(ctx, Dossier{Data: d, Key: "42", Decision: dec}); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(ctx, Dossier{Data: d, Key: "42", Decision: dec, Description: profiles.Description{Title: "Dossier 42"}}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r.Dossiers != 1 || r.FirstKey != "42" || r.LastKey != "42" || r.Name != r.ID+".zip" || !strings.HasPrefix(r.ID, "apogee-etudiant-intermediate-") {
		t.Errorf("record %+v", r)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	var doc string
	for _, e := range zr.File {
		names = append(names, e.Name)
		if strings.HasSuffix(e.Name, "D000001-42.json") {
			rc, _ := e.Open()
			body, _ := io.ReadAll(rc)
			rc.Close()
			doc = string(body)
		}
	}
	for _, want := range []string{"Content/dictionary-etudiant.json", "Content/D000001-42.json", "Content/D000001-42.INDIVIDU.PHOTO.1.jpg", "Content/D000001-42.INDIVIDU.NOTE.1.txt"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s in %v", want, names)
		}
	}
	for _, ref := range []string{"D000001-42.INDIVIDU.PHOTO.1.jpg", "D000001-42.INDIVIDU.NOTE.1.txt"} {
		if !strings.Contains(doc, ref) {
			t.Errorf("the dossier's document does not name %s:\n%s", ref, doc)
		}
	}
	vr, err := seda.Verify(ctx, path, seda.VerifyOptions{})
	if err != nil || !vr.OK() || vr.Objects != 4 || vr.ObjectsVerified != 4 {
		t.Errorf("verify: %v, %+v", err, vr)
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		head []byte
		want Format
	}{
		{[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0}, Format{MIME: "image/jpeg", PRONOM: "fmt/43", Ext: ".jpg"}},
		{[]byte("\x89PNG\r\n\x1a\n"), Format{MIME: "image/png", PRONOM: "fmt/11", Ext: ".png"}},
		{[]byte("%PDF-1.4"), Format{MIME: "application/pdf", Ext: ".pdf"}},
		{[]byte("relevé de notes"), Format{MIME: "text/plain", PRONOM: "x-fmt/111", Ext: ".txt"}},
		{[]byte{0, 1, 2, 3}, Format{MIME: "application/octet-stream", Ext: ".bin"}},
		{[]byte{0x1f, 0x8b, 8}, Format{MIME: "application/x-gzip"}},
	} {
		if got := Sniff(c.head); got != c.want {
			t.Errorf("Sniff(%q) = %+v, want %+v", c.head, got, c.want)
		}
	}
}

// The series unit carries the dates extrêmes of its dossiers, as the bordereau de versement does:
// the earliest start and the latest end (a dossier without an end counts by its start).
func TestSeriesCarriesTheDatesExtremes(t *testing.T) {
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, _ := os.Create(path)
	b, err := NewBuilder(f, Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Final, AsOf: day("2026-06-30"), Dictionary: []byte("{}"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for i, dates := range [][2]string{{"1995-09-01", "1998-08-31"}, {"1991-09-15", ""}, {"2001-09-01", "2003-07-01"}} {
		key := fmt.Sprint(i + 1)
		desc := profiles.Description{Title: "Dossier " + key, StartDate: day(dates[0])}
		if dates[1] != "" {
			desc.EndDate = day(dates[1])
		}
		d := &extract.Dossier{Class: "etudiant", Key: int64(i + 1), Tables: []extract.TableRows{{Table: "INDIVIDU", Columns: []extract.Column{{Name: "COD_IND"}}, Rows: [][]extract.Value{{int64(i + 1)}}}}}
		if err := b.Add(ctx, Dossier{Data: d, Key: key, Decision: retention.Decision{Tier: retention.Final}, Description: desc}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(rc)
	rc.Close()
	series := string(m)[strings.Index(string(m), `<ArchiveUnit id="AU-1">`):]
	series = series[:strings.Index(series, `<ArchiveUnit id="AU-2">`)]
	if !strings.Contains(series, "<StartDate>1991-09-15</StartDate>") || !strings.Contains(series, "<EndDate>2003-07-01</EndDate>") {
		t.Errorf("the series unit:\n%s", series)
	}
	if vr, err := seda.Verify(ctx, path, seda.VerifyOptions{}); err != nil || !vr.OK() {
		t.Errorf("verify: %v %+v", err, vr)
	}
}

// A Builder keeps its dossiers' units for the index only while they are small: past
// maxUnitsBytes it drops them, and the index reads the manifest instead.
func TestBuilderDropsUnitsPastItsBound(t *testing.T) {
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(io.Discard, Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Intermediate, AsOf: day("2026-06-30"), Dictionary: []byte("{}"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	long := strings.Repeat("x", 1<<20) // a 1 MiB title each: the bound is passed at the 17th
	dec := retention.Decision{Tier: retention.Intermediate}
	for i := range 20 {
		k := fmt.Sprint(i + 1)
		d := &extract.Dossier{Class: "etudiant", Key: int64(i + 1), Tables: []extract.TableRows{{Table: "INDIVIDU", Columns: []extract.Column{{Name: "COD_IND"}}, Rows: [][]extract.Value{{int64(i + 1)}}}}}
		if err := b.Add(ctx, Dossier{Data: d, Key: k, Decision: dec, Description: profiles.Description{Title: long}}); err != nil {
			t.Fatal(err)
		}
		if got := len(b.Units()); i < 15 && got != i+1 {
			t.Fatalf("after %d dossiers, %d units kept", i+1, got)
		}
	}
	if b.Units() != nil {
		t.Fatalf("%d units kept past the bound", len(b.Units()))
	}
}
