package sip

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

var rewriteKeys = []string{"11", "12", "13", "14", "15"}

// rewriteSIP builds, with the Builder, a SIP of five dossiers, each with its document, a photo
// (a STORED entry) and a note (a deflated one).
func rewriteSIP(t *testing.T) (string, Record) {
	t.Helper()
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := NewBuilder(f, Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Intermediate, AsOf: day("2026-06-30"), Dictionary: []byte(`{"dictionary":true}`), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range rewriteKeys {
		n := int64(i + 11)
		jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{byte(n)}, 700)...)
		d := &extract.Dossier{Class: "etudiant", Key: n, Tables: []extract.TableRows{{
			Table:   "INDIVIDU",
			Columns: []extract.Column{{Name: "COD_IND"}, {Name: "PHOTO"}, {Name: "NOTE"}},
			Rows:    [][]extract.Value{{n, lob("INDIVIDU", "PHOTO", jpeg), lob("INDIVIDU", "NOTE", []byte("note de l'étudiant "+key))}},
		}}}
		desc := profiles.Description{Title: "Dossier " + key, StartDate: day(fmt.Sprintf("20%02d-09-01", i+10)), EndDate: day(fmt.Sprintf("20%02d-07-01", i+12))}
		if err := b.Add(ctx, Dossier{Data: d, Key: key, Decision: retention.Decision{Tier: retention.Intermediate}, Description: desc}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	return path, rec
}

var rewriteDate = time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)

// rewriteTo rewrites the SIP at in into a new file.
func rewriteTo(t *testing.T, in string, opts RewriteOptions) (string, RewriteResult, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rewritten.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Rewrite(context.Background(), openFile(t, in), f, opts)
	return out, res, err
}

func dropKeys(keys ...string) func(string) bool {
	return func(k string) bool { return slices.Contains(keys, k) }
}

// dossierKeys are the keys of the SIP's dossier units (DescriptionLevel File), in order.
func dossierKeys(t *testing.T, path string) []string {
	t.Helper()
	var keys []string
	err := openFile(t, path).Units(context.Background(), func(u Unit) error {
		if u.DescriptionLevel == "File" {
			keys = append(keys, strings.Join(u.OriginatingSystemIDs, ","))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

type rawEntry struct {
	name string
	crc  uint32
	raw  []byte
}

func rawEntries(t *testing.T, path string) []rawEntry {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []rawEntry
	for _, f := range zr.File {
		rc, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawEntry{f.Name, f.CRC32, b})
	}
	return out
}

func manifestOf(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRewriteDropsDossiers(t *testing.T) {
	ctx := context.Background()
	in, rec := rewriteSIP(t)
	out, res, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys("12", "14"), MessageID: "elim-1", Date: rewriteDate, Comment: "Élimination <visa 2026-17> & suite"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 3 || res.Dropped != 2 || !slices.Equal(res.DroppedKeys, []string{"12", "14"}) || res.ObjectsDropped != 6 {
		t.Errorf("result %+v", res)
	}
	if got := dossierKeys(t, out); !slices.Equal(got, []string{"11", "13", "15"}) {
		t.Errorf("dossiers %v, want 11 13 15", got)
	}
	r := openFile(t, out)
	h, err := r.Header(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.MessageIdentifier != "elim-1" || h.Date != "2026-12-08T00:00:00Z" || h.Comment != "Élimination <visa 2026-17> & suite" {
		t.Errorf("header %+v", h)
	}

	// Kept entries are the original's bytes, in the original's order; the dropped dossiers'
	// are gone; the manifest is still last.
	before, after := rawEntries(t, in), rawEntries(t, out)
	var want []rawEntry
	for _, e := range before {
		if !strings.HasPrefix(e.name, "Content/D000002-12") && !strings.HasPrefix(e.name, "Content/D000004-14") {
			want = append(want, e)
		}
	}
	if len(before)-len(want) != 6 || len(after) != len(want) {
		t.Fatalf("%d entries before, %d after, want %d", len(before), len(after), len(want))
	}
	for i, e := range after {
		w := want[i]
		if e.name != w.name {
			t.Errorf("entry %d is %s, want %s", i, e.name, w.name)
			continue
		}
		if e.name == "manifest.xml" {
			if i != len(after)-1 {
				t.Errorf("manifest at %d of %d", i, len(after))
			}
			continue
		}
		if e.crc != w.crc || !bytes.Equal(e.raw, w.raw) {
			t.Errorf("%s: raw bytes or CRC differ from the original's", e.name)
		}
	}

	m := manifestOf(t, out)
	if sum := sha512.Sum512(m); hex.EncodeToString(sum[:]) != res.ManifestSHA512 || res.ManifestSHA512 == rec.ManifestDigest {
		t.Errorf("ManifestSHA512 %s is not the new manifest's", res.ManifestSHA512)
	}
	for _, gone := range []string{"D000002-12", "D000004-14", "Dossier 12", "Dossier 14"} {
		if bytes.Contains(m, []byte(gone)) {
			t.Errorf("the manifest still names %s", gone)
		}
	}
	if bytes.Contains(m, []byte("\n\n")) || bytes.Count(m, []byte("<Comment>")) != 1 {
		t.Errorf("blank lines or not one Comment in:\n%s", m)
	}
	// What is not cut is the original's text: the kept dossiers' units are there verbatim.
	orig := manifestOf(t, in)
	for _, key := range []string{"11", "13", "15"} {
		u := unitText(t, orig, key)
		if !bytes.Contains(m, u) {
			t.Errorf("dossier %s's unit is not copied verbatim", key)
		}
	}

	vr, err := seda.Verify(ctx, out, seda.VerifyOptions{})
	if err != nil || !vr.OK() || vr.Objects != 1+3*3 || vr.ObjectsVerified != vr.Objects || vr.MessageIdentifier != "elim-1" || vr.ManifestSHA512 != res.ManifestSHA512 {
		t.Errorf("verify: %v %+v", err, vr)
	}
	// Every kept object reads back through its digest check.
	u, err := r.Unit(ctx, "13")
	if err != nil || len(u.Objects) != 3 {
		t.Fatalf("unit 13: %v %+v", err, u)
	}
	for _, o := range u.Objects {
		if _, err := readObject(t, r, o); err != nil {
			t.Errorf("%s: %v", o.URI, err)
		}
	}
}

// unitText is the ArchiveUnit of the dossier with key in manifest m.
func unitText(t *testing.T, m []byte, key string) []byte {
	t.Helper()
	i := bytes.Index(m, []byte("<OriginatingSystemId>"+key+"</OriginatingSystemId>"))
	if i < 0 {
		t.Fatalf("no dossier %s", key)
	}
	start := bytes.LastIndex(m[:i], []byte("<ArchiveUnit "))
	end := bytes.Index(m[i:], []byte("</ArchiveUnit>"))
	return m[start : i+end+len("</ArchiveUnit>")]
}

// With the original's identifier and date, and nothing dropped, the copy is the original: the
// manifest's bytes are copied, not re-made.
func TestRewriteDropNoneIsTheOriginal(t *testing.T) {
	in, rec := rewriteSIP(t)
	h, err := openFile(t, in).Header(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	date, _ := time.Parse(time.RFC3339, h.Date)
	out, res, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys(), MessageID: h.MessageIdentifier, Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 5 || res.Dropped != 0 || res.ObjectsDropped != 0 || res.ManifestSHA512 != rec.ManifestDigest {
		t.Errorf("result %+v, manifest digest of the original %s", res, rec.ManifestDigest)
	}
	if !bytes.Equal(manifestOf(t, in), manifestOf(t, out)) {
		t.Error("the manifest differs from the original's")
	}
	if got := dossierKeys(t, out); !slices.Equal(got, rewriteKeys) {
		t.Errorf("dossiers %v", got)
	}
	before, after := rawEntries(t, in), rawEntries(t, out)
	if len(before) != len(after) {
		t.Fatalf("%d entries, want %d", len(after), len(before))
	}
	for i := range before {
		if before[i].name != after[i].name || before[i].crc != after[i].crc || before[i].name != "manifest.xml" && !bytes.Equal(before[i].raw, after[i].raw) {
			t.Errorf("entry %d: %s differs from %s", i, after[i].name, before[i].name)
		}
	}
}

func TestRewriteDropAll(t *testing.T) {
	in, _ := rewriteSIP(t)
	_, res, err := rewriteTo(t, in, RewriteOptions{Drop: func(string) bool { return true }, MessageID: "x", Date: rewriteDate})
	if !errors.Is(err, ErrNothingKept) || res.Dropped != 5 || res.Kept != 0 {
		t.Errorf("err %v, result %+v", err, res)
	}
}

func TestRewriteRefusesBadOptions(t *testing.T) {
	in, _ := rewriteSIP(t)
	for _, opts := range []RewriteOptions{
		{MessageID: "x", Date: rewriteDate},
		{Drop: dropKeys(), MessageID: " \t", Date: rewriteDate},
		{Drop: dropKeys(), MessageID: "x"},
	} {
		if _, _, err := rewriteTo(t, in, opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

// Same SIP, same options: same bytes (an elimination rerun after a crash recognises its SIP);
// and a rewritten SIP can be rewritten again.
func TestRewriteDeterministicAndRepeatable(t *testing.T) {
	in, _ := rewriteSIP(t)
	opts := RewriteOptions{Drop: dropKeys("12", "14"), MessageID: "elim-1", Date: rewriteDate, Comment: "première élimination"}
	a, _, err := rewriteTo(t, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := rewriteTo(t, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("two rewrites with the same options differ")
	}
	c, res, err := rewriteTo(t, a, RewriteOptions{Drop: dropKeys("13"), MessageID: "elim-2", Date: rewriteDate.AddDate(0, 1, 0), Comment: "seconde élimination"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 2 || !slices.Equal(res.DroppedKeys, []string{"13"}) || res.ObjectsDropped != 3 {
		t.Errorf("result %+v", res)
	}
	if got := dossierKeys(t, c); !slices.Equal(got, []string{"11", "15"}) {
		t.Errorf("dossiers %v", got)
	}
	m := manifestOf(t, c)
	if bytes.Count(m, []byte("<Comment>")) != 1 || !bytes.Contains(m, []byte("<Comment>seconde élimination</Comment>")) || !bytes.Contains(m, []byte("<Date>2027-01-08T00:00:00Z</Date>")) {
		t.Errorf("header of the second rewrite:\n%s", m[:min(len(m), 600)])
	}
	if vr, err := seda.Verify(context.Background(), c, seda.VerifyOptions{}); err != nil || !vr.OK() || vr.Objects != 1+2*3 {
		t.Errorf("verify: %v %+v", err, vr)
	}
}

// A group that a kept unit references too stays, with its file; one only the dropped unit
// references goes.
func TestRewriteKeepsSharedGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := seda.NewWriter(f, seda.Header{Version: seda.V22, MessageIdentifier: "SHARED-1", Date: rewriteDate, ArchivalAgency: "FRAD000", TransferringAgency: "ETAB"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := w.AddObject(seda.Object{Name: "shared.txt", MimeType: "text/plain"}, strings.NewReader("commun"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := w.AddObject(seda.Object{Name: "own.txt", MimeType: "text/plain"}, strings.NewReader("à b seul"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.OpenUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "Series", Title: "série"}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		key    string
		groups []seda.GroupID
	}{{"a", []seda.GroupID{shared.Group()}}, {"b", []seda.GroupID{shared.Group(), own.Group()}}} {
		if _, err := w.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "dossier " + u.key, OriginatingSystemID: []string{u.key}}, Groups: u.groups}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.CloseUnit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, res, err := rewriteTo(t, path, RewriteOptions{Drop: dropKeys("b"), MessageID: "SHARED-2", Date: rewriteDate})
	if err != nil {
		t.Fatal(err)
	}
	if res.ObjectsDropped != 1 || res.Kept != 1 {
		t.Errorf("result %+v", res)
	}
	var names []string
	for _, e := range rawEntries(t, out) {
		names = append(names, e.name)
	}
	if !slices.Equal(names, []string{"Content/shared.txt", "manifest.xml"}) {
		t.Errorf("entries %v", names)
	}
	if vr, err := seda.Verify(context.Background(), out, seda.VerifyOptions{}); err != nil || !vr.OK() {
		t.Errorf("verify: %v %+v", err, vr)
	}
}

func TestRewriteValidAgainstXSD(t *testing.T) {
	in, _ := rewriteSIP(t)
	out, _, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys("11", "15"), MessageID: "elim-xsd", Date: rewriteDate, Comment: "élimination"})
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(t.TempDir(), "manifest.xml")
	if err := os.WriteFile(mf, manifestOf(t, out), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := openFile(t, out).Header(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := testsvc.XSD(t, string(h.Version), mf); err != nil {
		t.Error(err)
	}
}

func TestRewriteStreamsLikeVITAM(t *testing.T) {
	in, _ := rewriteSIP(t)
	out, _, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys("13"), MessageID: "elim-vitam", Date: rewriteDate})
	if err != nil {
		t.Fatal(err)
	}
	s := testsvc.StreamLikeVITAM(t, out)[0]
	if s.Err != "" || s.Manifest != "manifest.xml" {
		t.Fatalf("VITAM's reader: %q, manifest %q", s.Err, s.Manifest)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(s.Entries) != len(zr.File) {
		t.Errorf("streamed %d entries, the directory lists %d", len(s.Entries), len(zr.File))
	}
	for i, e := range s.Entries {
		f := zr.File[min(i, len(zr.File)-1)]
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, rc)
		rc.Close()
		if e.Name != f.Name || e.SHA256 != hex.EncodeToString(h.Sum(nil)) {
			t.Errorf("streamed %s %s, the directory's %d is %s", e.Name, e.SHA256, i, f.Name)
		}
	}
}

// The series keeps the dates extrêmes of the dossiers it still holds, as the Builder computes
// them: not the dates of destroyed ones.
func TestRewriteNarrowsTheSeriesDates(t *testing.T) {
	in, _ := rewriteSIP(t)
	series := func(m []byte) string {
		s := string(m)[strings.Index(string(m), `<ArchiveUnit id="AU-1">`)+1:]
		return s[:strings.Index(s, "<ArchiveUnit ")]
	}
	if s := series(manifestOf(t, in)); !strings.Contains(s, "<StartDate>2010-09-01</StartDate>") || !strings.Contains(s, "<EndDate>2016-07-01</EndDate>") {
		t.Fatalf("the original series:\n%s", s)
	}
	out, _, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys("11", "15"), MessageID: "elim-dates", Date: rewriteDate})
	if err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, out)
	if s := series(m); !strings.Contains(s, "<StartDate>2011-09-01</StartDate>") || !strings.Contains(s, "<EndDate>2015-07-01</EndDate>") {
		t.Errorf("the rewritten series:\n%s", s)
	}
	if !bytes.Contains(m, unitText(t, manifestOf(t, in), "13")) {
		t.Error("a kept dossier's own dates were touched")
	}
}

// withManifest is the SIP at in with its manifest edited and extra entries appended.
func withManifest(t *testing.T, in string, edit func([]byte) []byte, extra ...string) string {
	t.Helper()
	zr, err := zip.OpenReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	path := filepath.Join(t.TempDir(), "edited.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		if e.Name != "manifest.xml" {
			if err := zw.Copy(e); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(edit(manifestOf(t, in)))
	}
	for _, name := range extra {
		if _, err := zw.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A SIP a rewrite cannot be sure to cut right is refused, not half-cut: a dropped dossier whose
// group is not in the package (its files would stay), a name Open skips, another encoding than
// UTF-8 (the copy would not be the original's bytes), a DOCTYPE.
func TestRewriteRefusesWhatItCannotCutSafely(t *testing.T) {
	in, _ := rewriteSIP(t)
	opts := RewriteOptions{Drop: dropKeys("12"), MessageID: "elim", Date: rewriteDate}
	for _, c := range []struct {
		name, want string
		path       string
	}{
		{"missing group", "GOT-3", withManifest(t, in, func(m []byte) []byte {
			return bytes.Replace(m, []byte(`<DataObjectGroup id="GOT-3">`), []byte(`<DataObjectGroup id="GOT-X">`), 1)
		})},
		{"unsafe name", "unsafe name", withManifest(t, in, func(m []byte) []byte { return m }, "../escape.txt")},
		{"latin-1", "encoding", withManifest(t, in, func(m []byte) []byte {
			return bytes.Replace(m, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-1"`), 1)
		})},
		{"doctype", "DOCTYPE", withManifest(t, in, func(m []byte) []byte {
			return bytes.Replace(m, []byte("?>\n"), []byte("?>\n<!DOCTYPE ArchiveTransfer>\n"), 1)
		})},
	} {
		if _, _, err := rewriteTo(t, c.path, opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Rewrite(ctx, openFile(t, in), io.Discard, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The header may use a prefix for SEDA's namespace: the Comment set goes in with the same one.
func TestRewritePrefixedHeader(t *testing.T) {
	in, _ := rewriteSIP(t)
	prefixed := withManifest(t, in, func(m []byte) []byte {
		m = bytes.Replace(m, []byte("<Date>"), []byte(`<seda:Date xmlns:seda="fr:gouv:culture:archivesdefrance:seda:v2.2">`), 1)
		return bytes.Replace(m, []byte("</Date>"), []byte("</seda:Date>"), 1)
	})
	out, _, err := rewriteTo(t, prefixed, RewriteOptions{Drop: dropKeys("12"), MessageID: "elim", Date: rewriteDate, Comment: "pourquoi"})
	if err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, out)
	if !bytes.Contains(m, []byte(`<seda:Comment xmlns:seda="fr:gouv:culture:archivesdefrance:seda:v2.2">pourquoi</seda:Comment>`+"\n"+`<seda:Date xmlns:seda="fr:gouv:culture:archivesdefrance:seda:v2.2">2026-12-08T00:00:00Z</seda:Date>`)) {
		t.Errorf("header:\n%s", m[:min(len(m), 500)])
	}
	if h, err := openFile(t, out).Header(context.Background()); err != nil || h.Comment != "pourquoi" || h.Date != "2026-12-08T00:00:00Z" {
		t.Errorf("header %+v, %v", h, err)
	}
}

// Another producer's SIP (VITAM's flat SEDA 2.1 sample: tabs, prefixes, a directory entry) is
// copied as it is too: a rewrite that drops nothing changes only the header's Date.
func TestRewriteVITAMSampleVerbatim(t *testing.T) {
	in := filepath.Join(testsvc.SharedDir(t, "samples", "vitam", "vitam-2.1-3_UNITS_2_GOTS"), "sip.zip")
	h, err := openFile(t, in).Header(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, res, err := rewriteTo(t, in, RewriteOptions{Drop: dropKeys(), MessageID: h.MessageIdentifier, Date: time.Date(2016, 10, 18, 14, 52, 27, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 2 || res.Dropped != 0 { // the two ArchiveUnitRefId units under ID14
		t.Errorf("result %+v", res)
	}
	want := bytes.Replace(manifestOf(t, in), []byte("<Date>2016-10-18T14:52:27</Date>"), []byte("<Date>2016-10-18T14:52:27Z</Date>"), 1)
	if got := manifestOf(t, out); !bytes.Equal(got, want) {
		t.Errorf("manifest:\n%s", got)
	}
	before, after := rawEntries(t, in), rawEntries(t, out)
	if len(before) != len(after) {
		t.Fatalf("%d entries, want %d", len(after), len(before))
	}
	for i := range before {
		if before[i].name != after[i].name || before[i].name != "manifest.xml" && !bytes.Equal(before[i].raw, after[i].raw) {
			t.Errorf("entry %d: %s, want %s", i, after[i].name, before[i].name)
		}
	}
}
