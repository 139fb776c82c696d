package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/index"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// TestConsultVITAM: dossiers archived in VITAM (the faithful test server) are read back through
// access-external: the unit found by its key and COD_ETU under the target's access contract, each
// object fetched by its version and checked against the digest of its SIP's manifest.
func TestConsultVITAM(t *testing.T) {
	client := vitamtest.NewClient(t, "versement")
	s := vitamtest.Start(t, "", client.Pool)
	dir := t.TempDir()
	ac := archivesContract(t, s, dir)
	client.SetEnv(t, s)
	target := s.TargetURL("&poll=1ms&access-contract=" + ac.Identifier + "&application-id=versement-consult")
	db, state := filepath.Join(dir, "apogee.db"), filepath.Join(dir, "state")
	if out, code := run(t, "demo-db", "--profile", "apogee", "--dossiers", "60", "--out", db); code != 0 {
		t.Fatalf("demo-db: %d\n%s", code, out)
	}
	if out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", target, "--state", state, "--as-of", "2026-11-30"); code != 0 {
		t.Fatalf("run: %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(state, "roles.yaml"), roles.ExampleYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := index.Open(ctx, filepath.Join(state, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	var e index.Entry
	for y := 2010; y <= 2025 && e.Key == ""; y++ {
		ms, _ := st.Search(ctx, index.Query{Year: y, Limit: 100})
		for _, m := range ms {
			if len(m.Entry.Objects) > 1 { // with a photo
				e = m.Entry
				break
			}
		}
	}
	st.Close()
	if e.Key == "" || !strings.HasPrefix(e.Target, "vitam+https://") || e.Operation == "" {
		t.Fatalf("no VITAM entry with a photo in the index: %+v", e)
	}
	out, code := run(t, "consult", "--state", state, "--as", "archiviste", "--groups", "archives", "--motive-category", "controle-audit", "--motive", "contrôle du 04/12/2026",
		"--lang", "fr", "--profile", "apogee", "--key", e.Key, "--html", filepath.Join(dir, "fiche.html"),
		"--objects", filepath.Join(dir, "objs"), "--zip", filepath.Join(dir, "dossier.zip"))
	if code != 0 || !strings.Contains(out, e.Title) || !strings.Contains(out, "2 objets sur 2 lus et vérifiés") || !strings.Contains(out, "Opération VITAM") {
		t.Fatalf("consult from VITAM: exit %d\n%s", code, out)
	}
	var finds, objects int
	for _, r := range s.AccessRequests() {
		if r.Header.Get("X-Access-Contract-Id") != ac.Identifier || r.Header.Get("X-Tenant-Id") != "1" {
			t.Errorf("%s %s: contract %q, tenant %q", r.Method, r.Path, r.Header.Get("X-Access-Contract-Id"), r.Header.Get("X-Tenant-Id"))
		}
		switch {
		case r.Path == "/access-external/v1/units":
			finds++
			if !strings.Contains(string(r.Body), `{"$eq":{"OriginatingSystemId":"`+e.Key+`"}}`) || !strings.Contains(string(r.Body), `"OriginatingAgencyArchiveUnitIdentifier":"COD_ETU:`) {
				t.Errorf("the unit search: %s", r.Body)
			}
		case strings.HasSuffix(r.Path, "/objects"):
			objects++
		}
	}
	// The fiche, then each object downloaded, then the zip: each time the unit and its objects.
	if finds != 4 || objects != 2+2+2 {
		t.Errorf("%d searches and %d object reads at VITAM, want 4 and 6", finds, objects)
	}
	for _, o := range e.Objects {
		name := strings.TrimPrefix(o.Name, "Content/")
		got, err := os.ReadFile(filepath.Join(dir, "objs", name))
		sum := sha256.Sum256(got)
		if err != nil || hex.EncodeToString(sum[:]) != o.Digest {
			t.Errorf("object %s downloaded from VITAM: %v, SHA-256 %x, the manifest says %s", name, err, sum, o.Digest)
		}
		if z := zipEntry(t, filepath.Join(dir, "dossier.zip"), o.Name); string(z) != string(got) {
			t.Errorf("the dossier's zip: %s differs", o.Name)
		}
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "fiche.html")); !strings.Contains(string(page), `<img class="photo"`) {
		t.Errorf("the printable fiche shows no photo")
	}
}

// archivesContract declares on the test server's tenant 1 the archives service's access
// contract, as versement contracts export writes it for VITAM (into dir), and returns it.
func archivesContract(t *testing.T, s *vitamtest.Server, dir string) contracts.Access {
	t.Helper()
	if out, code := run(t, "contracts", "export", "--profile", "apogee", "--dir", dir); code != 0 {
		t.Fatalf("contracts export: %d\n%s", code, out)
	}
	var acs []contracts.Access
	if b, err := os.ReadFile(filepath.Join(dir, "access-contracts.json")); err != nil || json.Unmarshal(b, &acs) != nil || len(acs) != 2 {
		t.Fatalf("access-contracts.json: %v %+v", err, acs)
	}
	ac := acs[1]
	s.AddAccessContract(1, vitamtest.AccessContract{Identifier: ac.Identifier, OriginatingAgencies: ac.OriginatingAgencies,
		EveryOriginatingAgency: ac.EveryOriginatingAgency, DataObjectVersion: ac.DataObjectVersion, EveryDataObjectVersion: ac.EveryDataObjectVersion})
	return ac
}
