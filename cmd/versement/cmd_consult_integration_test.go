package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/index"
	"github.com/versement/versement/roles"
)

// consultDemo archives the quickstart's demo base into dir, writes the example roles file beside
// the state and returns an intermediate and a final dossier of the index.
func consultDemo(t *testing.T) (dir string, inter, final index.Entry) {
	t.Helper()
	dir = t.TempDir()
	if out, code := run(t, "quickstart", "--dir", dir, "--dossiers", "300", "--as-of", "2026-11-30"); code != 0 {
		t.Fatalf("quickstart: %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "versement-state", "roles.yaml"), roles.ExampleYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(context.Background(), filepath.Join(dir, "versement-state", "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for y := 2010; y <= 2025 && (inter.Key == "" || final.Key == ""); y++ {
		ms, err := st.Search(context.Background(), index.Query{Year: y, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			e := m.Entry
			switch {
			case e.Tier == "intermediate" && inter.Key == "" && e.Person.BirthDate != "" && len(e.Objects) > 1:
				inter = e
			case e.Tier == "final" && final.Key == "":
				final = e
			}
		}
	}
	if inter.Key == "" || final.Key == "" {
		t.Fatalf("the demo has no intermediate dossier with a photo (%q) or no final one (%q)", inter.Key, final.Key)
	}
	return dir, inter, final
}

// zipEntry reads one entry of a zip file whole.
func zipEntry(t *testing.T, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
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
	}
	t.Fatalf("%s has no %s", path, name)
	return nil
}

// TestConsultQuickstart: the scolarité reads an intermediate dossier of the quickstart's archives
// (the objects it writes are the SIP's bytes), finds it again by name and birth date, with a typo,
// is refused a final one, and an unknown key shows nothing; every access is in the access log,
// which verifies.
func TestConsultQuickstart(t *testing.T) {
	dir, inter, final := consultDemo(t)
	state := filepath.Join(dir, "versement-state")
	t.Chdir(dir) // the index names the target dir://archives, relative to where the run was
	sco := []string{"consult", "--state", state, "--as", "agent.sco", "--groups", "scolarite", "--motive-category", "verification-diplome", "--motive", "demande du 03/12/2026"}
	objs, zipPath, htmlPath := filepath.Join(dir, "objs"), filepath.Join(dir, "dossier.zip"), filepath.Join(dir, "fiche.html")
	out, code := run(t, append(sco, "--lang", "fr", "--profile", "apogee", "--key", inter.Key, "--objects", objs, "--zip", zipPath, "--html", htmlPath)...)
	if code != 0 || !strings.Contains(out, inter.Title) || !strings.Contains(out, "archivage intermédiaire") || !strings.Contains(out, "lus et vérifiés") {
		t.Fatalf("consult --key %s: exit %d\n%s", inter.Key, code, out)
	}
	sipPath := filepath.Join(dir, "archives", inter.SIP)
	for _, o := range inter.Objects {
		want := zipEntry(t, sipPath, o.Name)
		got, err := os.ReadFile(filepath.Join(objs, strings.TrimPrefix(o.Name, "Content/")))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("object %s: %d bytes written (%v), the SIP has %d", o.Name, len(got), err, len(want))
		}
		if got := zipEntry(t, zipPath, o.Name); !bytes.Equal(got, want) {
			t.Errorf("the dossier's zip: %s differs from the SIP's", o.Name)
		}
	}
	if man := zipEntry(t, zipPath, "manifest.json"); !bytes.Contains(man, []byte(`"sip": "`+inter.SIP+`"`)) {
		t.Errorf("the zip's manifest does not name the SIP:\n%s", man)
	}
	if page, _ := os.ReadFile(htmlPath); !bytes.Contains(page, []byte(`<html lang="fr">`)) || !bytes.Contains(page, []byte(`<img class="photo"`)) ||
		!bytes.Contains(page, []byte("Édité depuis les archives le ")) || !bytes.Contains(page, []byte(" par agent.sco.")) {
		t.Errorf("the printable fiche has no French page, no photo or no French footer naming who printed it")
	}

	// The same dossier by name and birth date, and with a typo in the name.
	name := inter.Person.BirthName + " " + inter.Person.FirstName
	for _, q := range []string{name, typo(name)} {
		out, code = run(t, append(sco, "--search", q, "--born", inter.Person.BirthDate)...)
		if code != 0 || !strings.Contains(out, "--key "+inter.Key+" ") {
			t.Errorf("consult --search %q --born %s: exit %d\n%s", q, inter.Person.BirthDate, code, out)
		}
	}
	// A final dossier is the archives service's: refused, and the refusal says so.
	out, code = run(t, append(sco, "--profile", "apogee", "--key", final.Key)...)
	if code != 1 || strings.Contains(out, final.Title) || !strings.Contains(out, "refused") {
		t.Errorf("scolarité on a final dossier: exit %d\n%s", code, out)
	}
	// An unknown key: exit 1 and nothing but the message.
	out, code = run(t, append(sco, "--profile", "apogee", "--key", "999999")...)
	if want := "ERR: consult: no archived dossier with that key: profile apogee, key 999999\n"; code != 1 || out != want {
		t.Errorf("unknown key: exit %d\n%q\nwant %q", code, out, want)
	}
	// No motive: refused before anything is read.
	out, code = run(t, "consult", "--state", state, "--as", "agent.sco", "--groups", "scolarite", "--profile", "apogee", "--key", inter.Key)
	if code != 1 || strings.Contains(out, inter.Title) {
		t.Errorf("no motive: exit %d\n%s", code, out)
	}

	logPath := filepath.Join(state, "access-log.jsonl")
	var ops []string
	if _, err := accesslog.Read(context.Background(), logPath, func(e accesslog.Entry) {
		ops = append(ops, string(e.Operation)+":"+string(e.Result)+":"+e.Key)
	}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ops, " ")
	for _, want := range []string{"view:ok:" + inter.Key, "download:ok:" + inter.Key, "search:ok:", "view:refused:" + final.Key, "view:not-found:999999", "view:refused:" + inter.Key} {
		if !strings.Contains(got, want) {
			t.Errorf("the access log lacks %s: %s", want, got)
		}
	}
	if out, code := run(t, "verify", "--ledger", logPath); code != 0 || !strings.Contains(out, "access log") {
		t.Errorf("verify --ledger on the access log: exit %d\n%s", code, out)
	}
	// Who read this record? The archives service asks; the search that returned it is listed.
	out, code = run(t, "access-log", "--log", logPath, "--roles", filepath.Join(state, "roles.yaml"), "--as", "archiviste", "--groups", "archives",
		"--profile", "apogee", "--key", inter.Key, "--motive-category", "droit-acces", "--motive", "demande RGPD du 04/12")
	if code != 0 || !strings.Contains(out, "agent.sco") || !strings.Contains(out, "search (returned it)") {
		t.Errorf("access-log: exit %d\n%s", code, out)
	}
}

// typo swaps two letters in the middle of the first word of s.
func typo(s string) string {
	r := []rune(s)
	if len(r) > 4 {
		r[2], r[3] = r[3], r[2]
	}
	return string(r)
}

// TestIndexRebuild: the index lost with the machine is rebuilt from the SIPs at the target alone,
// entry for entry.
func TestIndexRebuild(t *testing.T) {
	dir, inter, final := consultDemo(t)
	t.Chdir(dir)
	ctx := context.Background()
	st, err := index.Open(ctx, filepath.Join(dir, "versement-state", "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.Count(ctx)
	st.Close()
	rebuilt := filepath.Join(dir, "rebuilt.db")
	out, code := run(t, "index", "rebuild", "--profile", "apogee", "--target", "dir://archives", "--index", rebuilt)
	if code != 0 {
		t.Fatalf("index rebuild: exit %d\n%s", code, out)
	}
	rs, err := index.Open(ctx, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if m, _ := rs.Count(ctx); m != n {
		t.Errorf("rebuilt index: %d entries, the run's %d\n%s", m, n, out)
	}
	for _, e := range []index.Entry{inter, final} {
		got, err := rs.Get(ctx, e.Profile, e.Key)
		if err != nil {
			t.Fatal(err)
		}
		got.Archived = e.Archived // the run's time, the file's time
		if gj, ej := jsonOf(t, got), jsonOf(t, e); gj != ej {
			t.Errorf("dossier %s rebuilt:\n%s\nthe run indexed:\n%s", e.Key, gj, ej)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConsultDamagedSIP: a SIP altered where it is kept shows nothing of the dossier: the object
// whose bytes differ from the manifest fails the consultation, which the access log records as
// failed, with why.
func TestConsultDamagedSIP(t *testing.T) {
	dir, inter, _ := consultDemo(t)
	t.Chdir(dir)
	sipPath := filepath.Join(dir, "archives", inter.SIP)
	doc := inter.Objects[0].Name
	rewriteZip(t, sipPath, doc, func(b []byte) []byte { return bytes.Replace(b, []byte(`"format"`), []byte(`"FORMAT"`), 1) })
	state := filepath.Join(dir, "versement-state")
	out, code := run(t, "consult", "--state", state, "--as", "agent.sco", "--groups", "scolarite", "--motive-category", "verification-diplome", "--motive", "demande du 03/12/2026",
		"--profile", "apogee", "--key", inter.Key)
	if code != 2 || strings.Contains(out, inter.Title) || !strings.Contains(out, "does not match the manifest") {
		t.Errorf("consult of a damaged SIP: exit %d\n%s", code, out)
	}
	var last accesslog.Entry
	accesslog.Read(context.Background(), filepath.Join(state, "access-log.jsonl"), func(e accesslog.Entry) { last = e })
	if last.Operation != accesslog.OpView || last.Result != accesslog.ResultFailed || last.Reason != "digest-mismatch" || last.Key != inter.Key {
		t.Errorf("the access log's last entry: %+v", last)
	}
}

// rewriteZip rewrites the zip at path with the entry name's bytes changed by fn (same name,
// same method), as someone altering an archive would.
func rewriteZip(t *testing.T, path, name string, fn func([]byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = fn(b)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	zr.Close()
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
