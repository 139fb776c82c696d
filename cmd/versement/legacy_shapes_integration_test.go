package main

import (
	"archive/zip"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/versement/versement/internal/testsvc"
)

// A Harpège base shaped like the real ones, not like the demo: blank and NULL end dates, times
// and offsets in DATE columns, a 1.3 MB repetitive comment, control characters and invalid UTF-8
// in names, and a key above 2^53. What versement writes from it must pass its own verify and be
// read whole by VITAM's zip reader, and the odd values must come out as the base holds them.
func TestLegacyShapedBaseEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "harpege.db")
	if out, code := run(t, "demo-db", "--profile", "harpege", "--dossiers", "60", "--out", db); code != 0 {
		t.Fatalf("demo-db: %d\n%s", code, out)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	var first, last int64
	if err := conn.QueryRow(`SELECT MIN(NO_INDIVIDU), MAX(NO_INDIVIDU) FROM INDIVIDU`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	const bigKey = "9007199254740993" // 2^53 + 1: a JavaScript reader would make it ...992
	comment := strings.Repeat("RAS. Dossier complet, pièces vérifiées. ", 32000)
	for _, q := range []string{
		`UPDATE AFFECTATION SET D_FIN_AFFECTATION = '' WHERE NO_DOSSIER_PERS % 7 = 0`,
		`UPDATE AFFECTATION SET D_FIN_AFFECTATION = ' ' WHERE NO_DOSSIER_PERS % 7 = 1`,
		`UPDATE AFFECTATION SET D_FIN_AFFECTATION = NULL WHERE NO_DOSSIER_PERS % 7 = 2`,
		`UPDATE INDIVIDU SET D_NAISSANCE = '1950-07-14 00:00:00' WHERE NO_INDIVIDU % 5 = 0`,
		`UPDATE INDIVIDU SET D_NAISSANCE = '1950-07-14T00:00:00+02:00' WHERE NO_INDIVIDU % 5 = 1`,
		`UPDATE INDIVIDU SET NOM_USUEL = 'DUPONT' || char(27) || '[31m' || char(7) WHERE NO_INDIVIDU % 5 = 2`,
		`UPDATE INDIVIDU SET PRENOM = CAST(x'4a6561ff6e' AS TEXT) WHERE NO_INDIVIDU % 5 = 3`,
		`UPDATE PERSONNEL SET TXT_OBSERVATIONS = '` + comment + `' WHERE NO_DOSSIER_PERS = ` + itoa(first),
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q[:60], err)
		}
	}
	for _, tbl := range []string{"PERSONNEL", "AFFECTATION", "CARRIERE", "ELEMENT_CARRIERE", "CONTRAT_TRAVAIL", "CONTRAT_AVENANT", "INDIVIDU_BANQUE"} {
		if _, err := conn.Exec(`UPDATE ` + tbl + ` SET NO_DOSSIER_PERS = ` + bigKey + ` WHERE NO_DOSSIER_PERS = ` + itoa(last)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tbl := range []string{"INDIVIDU", "ADRESSE_PERSONNELLE"} {
		if _, err := conn.Exec(`UPDATE ` + tbl + ` SET NO_INDIVIDU = ` + bigKey + ` WHERE NO_INDIVIDU = ` + itoa(last)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()

	archives := filepath.Join(dir, "archives")
	out, code := run(t, "run", "--profile", "harpege", "--source", db, "--target", "dir://"+archives, "--state", filepath.Join(dir, "state"),
		"--as-of", "2100-01-01", "--decommission")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	checkLegacySIPs(t, archives, out, map[string]string{
		"the key above 2^53, as a string":  `"` + bigKey + `"`,
		"the 1.3 MB comment":               comment,
		"a time in a DATE column":          `"1950-07-14 00:00:00"`,
		"an offset in a DATE column":       `"1950-07-14T00:00:00+02:00"`,
		"control characters, JSON-escaped": `DUPONT\u001b[31m\u0007`,
	})
	if _, err := os.Stat(filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
	}
}

// checkLegacySIPs proves what a run wrote from a legacy-shaped base: every SIP passes verify with
// the official XSDs and VITAM's streaming reader (photos, stored, included when the base has
// them), each wanted text is in some dossier's JSON as the base holds it, and no control
// character of the base reached the run's output.
func checkLegacySIPs(t *testing.T, archives, runOutput string, want map[string]string) {
	t.Helper()
	sips, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if len(sips) == 0 {
		t.Fatalf("no SIP written\n%s", runOutput)
	}
	if out, code := run(t, append([]string{"verify", "--xsd-dir", testsvc.SharedDir(t, "seda-xsd")}, sips...)...); code != 0 {
		t.Fatalf("verify of the run's own SIPs: exit %d\n%s", code, out)
	}
	for i, s := range testsvc.StreamLikeVITAM(t, sips...) {
		if s.Err != "" {
			t.Errorf("%s: VITAM's reader: %s", filepath.Base(sips[i]), s.Err)
		}
	}
	seen := map[string]bool{}
	for _, p := range sips {
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") || strings.Contains(f.Name, "dictionary") {
				continue
			}
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if !json.Valid(b) {
				t.Fatalf("%s: not JSON", f.Name)
			}
			for what, text := range want {
				seen[what] = seen[what] || strings.Contains(string(b), text)
			}
		}
		zr.Close()
	}
	for what := range want {
		if !seen[what] {
			t.Errorf("not kept as the base holds it: %s", what)
		}
	}
	if strings.ContainsAny(runOutput, "\x1b\a") {
		t.Error("a control character from the base reached the run's output")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The same for Apogée: a migrated base where optional tables are missing (no theses, no element
// results), blank and offset text in date columns, a time in DATE_NAI_IND, control characters in
// a name, a huge repetitive comment and a key above 2^53, photos (stored entries) included.
func TestLegacyShapedApogeeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "apogee.db")
	if out, code := run(t, "demo-db", "--profile", "apogee", "--dossiers", "80", "--out", db); code != 0 {
		t.Fatalf("demo-db: %d\n%s", code, out)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	if err := conn.QueryRow(`SELECT MAX(COD_IND) FROM INDIVIDU`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	const bigKey = "9007199254740995"
	comment := strings.Repeat("Pièces justificatives reçues. ", 40000)
	for _, q := range []string{
		`DROP TABLE THESE_HDR_SOUT`,
		`DROP TABLE RESULTAT_ELP`,
		`UPDATE INDIVIDU SET DATE_NAI_IND = '1999-02-28 00:00:00' WHERE COD_IND % 4 = 0`,
		`UPDATE INDIVIDU SET DATE_NAI_IND = '' WHERE COD_IND % 4 = 1`,
		`UPDATE INDIVIDU SET LIB_NOM_PAT_IND = 'MARTIN' || char(27) || ']0;pwned' || char(7) WHERE COD_IND % 4 = 2`,
		`UPDATE INDIVIDU SET LIB_CMT_IND = '` + comment + `' WHERE COD_IND = ` + itoa(last-1),
		`UPDATE INS_ADM_ANU SET DAT_CRE_IAA = '2015-09-01T08:00:00+02:00' WHERE COD_IND % 3 = 0`,
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	for _, tbl := range []string{"INDIVIDU", "ADRESSE", "INS_ADM_ANU", "INS_ADM_ETP", "RESULTAT_VET", "RESULTAT_VDI", "IND_BAC", "PHO_ETU"} {
		if _, err := conn.Exec(`UPDATE ` + tbl + ` SET COD_IND = ` + bigKey + ` WHERE COD_IND = ` + itoa(last)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()

	archives := filepath.Join(dir, "archives")
	out, code := run(t, "run", "--profile", "apogee", "--source", db, "--target", "dir://"+archives, "--state", filepath.Join(dir, "state"),
		"--as-of", "2100-01-01", "--decommission")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	checkLegacySIPs(t, archives, out, map[string]string{
		"the key above 2^53, as a string":  `"` + bigKey + `"`,
		"the large comment":                comment,
		"a time in a DATE column":          `"1999-02-28 00:00:00"`,
		"an offset in a TIMESTAMP column":  `"2015-09-01T08:00:00+02:00"`,
		"control characters, JSON-escaped": `MARTIN\u001b]0;pwned\u0007`,
	})
	sips, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	photos := 0
	for _, s := range testsvc.StreamLikeVITAM(t, sips...) {
		for _, e := range s.Entries {
			if strings.Contains(e.Name, ".PHO_ETU.") {
				photos++
			}
		}
	}
	if photos == 0 {
		t.Error("no photo in the SIPs: the test no longer covers stored entries")
	}
}
