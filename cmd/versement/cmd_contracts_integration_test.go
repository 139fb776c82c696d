package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/sip"
)

// TestContractsExportNamesWhatTheSIPsUse: the ingest contract VITAM gets is the one every SIP of
// the profile names, the access contracts read the agency the SIPs' units carry, and every agency
// a SIP names is in the agencies file.
func TestContractsExportNamesWhatTheSIPsUse(t *testing.T) {
	dir := t.TempDir()
	if out, code := run(t, "quickstart", "--dir", dir, "--dossiers", "100", "--as-of", "2026-11-30"); code != 0 {
		t.Fatalf("quickstart: %d\n%s", code, out)
	}
	out, code := run(t, "contracts", "export", "--profile", "apogee", "--dir", filepath.Join(dir, "vitam"))
	if code != 0 || out != "ingest contract IC-APOGEE-000001, access contracts AC-APOGEE-CONSULTATION and AC-APOGEE-ARCHIVES, written into "+filepath.Join(dir, "vitam")+"\n" {
		t.Fatalf("contracts export: %d\n%s", code, out)
	}
	var ics []contracts.Ingest
	var acs []contracts.Access
	for name, v := range map[string]any{"ingest-contracts.json": &ics, "access-contracts.json": &acs} {
		b, err := os.ReadFile(filepath.Join(dir, "vitam", name))
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
	}
	f, err := os.Open(filepath.Join(dir, "vitam", "agencies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 || rows[0][0] != "Identifier" {
		t.Fatalf("agencies.csv: %v %v", err, rows)
	}
	agencies := map[string]bool{}
	for _, r := range rows[1:] {
		agencies[r[0]] = true
	}
	sips, _ := filepath.Glob(filepath.Join(dir, "archives", "*.zip"))
	ctx := context.Background()
	for _, p := range sips {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := fh.Stat()
		r, err := sip.Open(ctx, fh, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		h, err := r.Header(ctx)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(ics) != 1 || ics[0].Identifier != h.ArchivalAgreement || ics[0].Status != "ACTIVE" {
			t.Errorf("%s names the ingest contract %q; exported %+v", filepath.Base(p), h.ArchivalAgreement, ics)
		}
		for _, a := range []string{h.ArchivalAgency, h.TransferringAgency} {
			if !agencies[a] {
				t.Errorf("%s names the agency %q, not in agencies.csv %v", filepath.Base(p), a, rows)
			}
		}
	}
	for _, ac := range acs {
		if ac.WritingPermission || ac.AccessLog != "ACTIVE" || ac.EveryOriginatingAgency || len(ac.OriginatingAgencies) != 1 || ac.OriginatingAgencies[0] != "ETAB-SCOL" || !agencies["ETAB-SCOL"] {
			t.Errorf("access contract %+v: want read-only, logged, the originating agency ETAB-SCOL only", ac)
		}
	}
}
