package extract_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
)

// The iteration reads one snapshot: rows inserted or deleted by others meanwhile are not seen.
func TestIterationReadsOneSnapshot(t *testing.T) {
	const n = 50
	onEachDatabase(t, demoSetup(demo.Harpege, n), func(t *testing.T, spec string) {
		for _, batched := range []bool{false, true} {
			t.Run(map[bool]string{false: "streamed", true: "batched"}[batched], func(t *testing.T) {
				snapshotRun(t, spec, batched)
			})
		}
	})
}

var snapshotRuns int

func snapshotRun(t *testing.T, spec string, batched bool) {
	const n = 50
	snapshotRuns++
	newKey := 100000 + snapshotRuns
	{
		ctx := context.Background()
		src := openSourceWith(t, spec, extract.Options{BatchSize: 5, Batched: batched})
		dsn, _ := extract.ResolveDSN(spec)
		driver, conn := "pgx", dsn
		if strings.HasPrefix(dsn, "sqlite:") {
			driver, conn = "sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:")+"?_pragma=busy_timeout(10000)"
		}
		w, err := sql.Open(driver, conn)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		count := 0
		for d, err := range src.Dossiers(ctx, demo.HarpegeClass()) {
			if err != nil {
				t.Fatal(err)
			}
			if count == 0 {
				for _, q := range []string{
					fmt.Sprintf(`INSERT INTO "INDIVIDU" ("NO_INDIVIDU", "NOM_USUEL") VALUES (%d, 'NOUVEAU')`, newKey),
					fmt.Sprintf(`UPDATE "AFFECTATION" SET "NO_DOSSIER_PERS" = %d WHERE "NO_DOSSIER_PERS" = 40`, newKey),
					fmt.Sprintf(`UPDATE "INDIVIDU" SET "NO_INDIVIDU" = %d WHERE "NO_INDIVIDU" = 45`, newKey+1000),
				} {
					if _, err := w.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
			if d.Key == int64(40) && len(d.Tables[6].Rows) == 0 {
				t.Error("dossier 40 lost its AFFECTATION rows deleted after the snapshot began")
			}
			count++
		}
		if count != n {
			t.Fatalf("read %d dossiers, want the %d of the snapshot", count, n)
		}
		// Put things back for the other mode.
		for _, q := range []string{
			fmt.Sprintf(`DELETE FROM "INDIVIDU" WHERE "NO_INDIVIDU" = %d`, newKey),
			fmt.Sprintf(`UPDATE "AFFECTATION" SET "NO_DOSSIER_PERS" = 40 WHERE "NO_DOSSIER_PERS" = %d`, newKey),
			fmt.Sprintf(`UPDATE "INDIVIDU" SET "NO_INDIVIDU" = 45 WHERE "NO_INDIVIDU" = %d`, newKey+1000),
		} {
			if _, err := w.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// A LOB read after its iteration ended fails with a message saying why, instead of reading another
// snapshot or blocking.
func TestLOBAfterIterationEndsFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE "PHO_ETU" ("COD_IND" INTEGER PRIMARY KEY, "PHO_ETU" BLOB)`,
		`INSERT INTO "PHO_ETU" VALUES (1, zeroblob(200000))`} { // beyond the inline size: read on demand
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	src := openSource(t, "sqlite:"+path, 10)
	var lob *extract.LOB
	class := extract.Spec{Name: "p", Root: extract.Table{Name: "PHO_ETU", Key: "COD_IND"}}
	for d, err := range src.Dossiers(context.Background(), class) {
		if err != nil {
			t.Fatal(err)
		}
		for r := range d.LOBs() {
			lob = r.LOB
		}
	}
	if lob == nil || lob.Size != 200000 {
		t.Fatalf("LOB: %+v", lob)
	}
	rc, _ := lob.Open(context.Background())
	_, err = io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "PHO_ETU.PHO_ETU: the LOB was read after its dossier iteration ended") {
		t.Fatalf("got %v", err)
	}
}
