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
	sips, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if len(sips) == 0 {
		t.Fatalf("no SIP written\n%s", out)
	}
	if out, code := run(t, append([]string{"verify", "--xsd-dir", testsvc.SharedDir(t, "seda-xsd")}, sips...)...); code != 0 {
		t.Fatalf("verify of the run's own SIPs: exit %d\n%s", code, out)
	}
	for i, s := range testsvc.StreamLikeVITAM(t, sips...) {
		if s.Err != "" {
			t.Errorf("%s: VITAM's reader: %s", filepath.Base(sips[i]), s.Err)
		}
	}
	// The odd values, as the base holds them.
	var sawBig, sawComment, sawTime, sawOffset, sawESC bool
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
			s := string(b)
			sawBig = sawBig || strings.Contains(s, `"`+bigKey+`"`)
			sawComment = sawComment || strings.Contains(s, comment)
			sawTime = sawTime || strings.Contains(s, `"1950-07-14 00:00:00"`)
			sawOffset = sawOffset || strings.Contains(s, `"1950-07-14T00:00:00+02:00"`)
			sawESC = sawESC || strings.Contains(s, `DUPONT\u001b[31m\u0007`)
		}
		zr.Close()
	}
	if !sawBig || !sawComment || !sawTime || !sawOffset || !sawESC {
		t.Errorf("values not kept as the base holds them: key above 2^53 as a string %v, 1.3 MB comment %v, time in a DATE %v, offset %v, control characters %v",
			sawBig, sawComment, sawTime, sawOffset, sawESC)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
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
	sips, _ := filepath.Glob(filepath.Join(archives, "*.zip"))
	if len(sips) == 0 {
		t.Fatalf("no SIP written\n%s", out)
	}
	if out, code := run(t, append([]string{"verify", "--xsd-dir", testsvc.SharedDir(t, "seda-xsd")}, sips...)...); code != 0 {
		t.Fatalf("verify of the run's own SIPs: exit %d\n%s", code, out)
	}
	photos := 0
	for i, s := range testsvc.StreamLikeVITAM(t, sips...) {
		if s.Err != "" {
			t.Errorf("%s: VITAM's reader: %s", filepath.Base(sips[i]), s.Err)
		}
		for _, e := range s.Entries {
			if strings.Contains(e.Name, ".PHO_ETU.") {
				photos++
			}
		}
	}
	if photos == 0 {
		t.Error("no photo in the SIPs: the test no longer covers stored entries")
	}
	var sawBig, sawComment, sawTime, sawOffset, sawESC bool
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
			s := string(b)
			sawBig = sawBig || strings.Contains(s, `"`+bigKey+`"`)
			sawComment = sawComment || strings.Contains(s, comment)
			sawTime = sawTime || strings.Contains(s, `"1999-02-28 00:00:00"`)
			sawOffset = sawOffset || strings.Contains(s, `"2015-09-01T08:00:00+02:00"`)
			sawESC = sawESC || strings.Contains(s, `MARTIN\u001b]0;pwned\u0007`)
		}
		zr.Close()
	}
	if !sawBig || !sawComment || !sawTime || !sawOffset || !sawESC {
		t.Errorf("values not kept as the base holds them: key above 2^53 as a string %v, comment %v, time in a DATE %v, offset %v, control characters %v",
			sawBig, sawComment, sawTime, sawOffset, sawESC)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\a") {
		t.Error("a control character from the base reached the terminal output")
	}
}
