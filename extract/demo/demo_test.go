package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/civil"
)

// The synthetic history spans forty years with the awkward values retention and archiving must
// face; checked without a database on the generator's output.
func TestGeneratedHistoryHasEveryCase(t *testing.T) {
	seen := map[string]bool{}
	minYear, maxYear := 9999, 0
	for i := 0; i < 3000; i++ {
		err := Dossier(Apogee, 1, i, "sqlite", false, func(table string, row []any) {
			switch table {
			case "INS_ADM_ANU":
				y := 0
				for _, c := range row[0].(string) {
					y = y*10 + int(c-'0')
				}
				minYear, maxYear = min(minYear, y), max(maxYear, y)
				if row[2] == "A" {
					seen["cancelled registration"] = true
				}
			case "INDIVIDU":
				if row[8] == nil {
					seen["NULL birth date"] = true
				}
				for _, v := range row {
					if s, ok := v.(string); ok && !utf8.ValidString(s) {
						seen["invalid UTF-8"] = true
					}
					if s, ok := v.(string); ok && len(s) >= 100_000 {
						seen["100 kB comment"] = true
					}
				}
			case "RESULTAT_VDI":
				if row[9] == nil {
					seen["NULL DAT_OBT_VDI"] = true
				} else if row[9].(civil.Date).Year <= 1995 {
					seen["diploma before 1996"] = true
				}
			case "PHO_ETU":
				b := row[1].([]byte)
				if b[0] == 0xFF && b[1] == 0xD8 && b[len(b)-1] == 0xD9 {
					seen["JPEG photo"] = true
				}
			case "THESE_HDR_SOUT":
				seen["thesis"] = true
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"cancelled registration", "NULL birth date", "invalid UTF-8", "NULL DAT_OBT_VDI", "diploma before 1996", "JPEG photo", "thesis"} {
		if !seen[want] {
			t.Errorf("no %s in 3000 students", want)
		}
	}
	if minYear != FirstYear || maxYear != LastYear {
		t.Errorf("registrations span %d–%d, want %d–%d", minYear, maxYear, FirstYear, LastYear)
	}
	// Harpège: agents still active (NULL end) and long gone.
	active, old := false, false
	for i := 0; i < 500; i++ {
		_ = Dossier(Harpege, 1, i, "postgres", false, func(table string, row []any) {
			if table == "AFFECTATION" {
				if row[8] == nil {
					active = true
				} else if row[8].(civil.Date).Year < 1990 {
					old = true
				}
			}
			for _, v := range row {
				if s, ok := v.(string); ok && !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 generated for PostgreSQL in %s", table)
				}
			}
		})
	}
	if !active || !old {
		t.Errorf("want assignments both still open and ended before 1990: active=%v old=%v", active, old)
	}
}

func TestSameSeedSameDossier(t *testing.T) {
	collect := func(seed uint64) (out []any) {
		_ = Dossier(Apogee, seed, 17, "sqlite", false, func(table string, row []any) { out = append(out, table, row) })
		return
	}
	a, b, c := collect(5), collect(5), collect(6)
	if len(a) == 0 || fmtAll(a) != fmtAll(b) {
		t.Fatal("same seed, different dossier")
	}
	if fmtAll(a) == fmtAll(c) {
		t.Fatal("different seeds, same dossier")
	}
}

func fmtAll(v []any) string {
	s := ""
	for _, x := range v {
		s += "|" + sprint(x)
	}
	return s
}

func sprint(x any) string { return fmt.Sprint(x) }

// An interrupted load leaves nothing at the path, and no temporary file beside it: a later
// quickstart must never take a half-written base for the demo.
func TestCreateSQLiteInterruptedLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.db")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := CreateSQLite(ctx, path, Options{Profile: Apogee, Dossiers: 2_000_000, Seed: 1}); err == nil {
		t.Fatal("a cancelled load succeeded")
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if _, err := CreateSQLite(context.Background(), path, Options{Profile: Apogee, Dossiers: 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if left, _ = os.ReadDir(dir); len(left) != 1 || left[0].Name() != "demo.db" {
		t.Fatalf("after a complete load: %v", left)
	}
}
