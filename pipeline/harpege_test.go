package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/retention"
)

// TestHarpegeCountsMatchSQL checks the Harpège rule APP-HAR-DI against SQL written from its text:
// start at the date of birth; active while any assignment, career or contract amendment
// (COALESCE(D_FIN_EXECUTION, D_FIN_CONTRAT_TRAV)) has no end date, else up to and including the
// latest end (the last day in post); intermediate until the 80th birthday; from it on kept (sample
// without criteria), even with a career still open (the arrêté counts the DUA from birth). No birth
// date, or no row to find the end of activity and the access start in, is undetermined.
func TestHarpegeCountsMatchSQL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "harpege.db")
	if _, err := demo.CreateSQLite(ctx, path, demo.Options{Profile: demo.Harpege, Dossiers: 400, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	src, err := extract.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := builtin(t, "harpege")
	for _, asOf := range []civil.Date{{Year: 2026, Month: 11, Day: 30}, {Year: 2060, Month: 1, Day: 1}} {
		rep, err := Run(ctx, Config{Profile: p, Source: src, AsOf: asOf, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		want := sqlTierCounts(t, db, `
			WITH ends AS (
				SELECT NO_DOSSIER_PERS AS k, D_FIN_AFFECTATION AS e FROM AFFECTATION
				UNION ALL SELECT NO_DOSSIER_PERS, D_FIN_CARRIERE FROM CARRIERE
				UNION ALL SELECT NO_DOSSIER_PERS, COALESCE(D_FIN_EXECUTION, D_FIN_CONTRAT_TRAV) FROM CONTRAT_AVENANT),
			agent AS (
				SELECT i.NO_INDIVIDU AS k, i.D_NAISSANCE AS birth,
					(SELECT COUNT(*) FROM ends WHERE ends.k = i.NO_INDIVIDU) AS n,
					(SELECT COUNT(*) FROM ends WHERE ends.k = i.NO_INDIVIDU AND e IS NULL) AS open,
					(SELECT MAX(e) FROM ends WHERE ends.k = i.NO_INDIVIDU) AS last
				FROM INDIVIDU i)
			SELECT CASE
				WHEN birth IS NULL OR n = 0 THEN 'undetermined'
				WHEN ? >= printf('%04d', CAST(substr(birth, 1, 4) AS INTEGER) + 80) || substr(birth, 5, 6) THEN 'final'
				WHEN open > 0 OR ? <= last THEN 'active'
				ELSE 'intermediate' END AS tier, COUNT(*)
			FROM agent GROUP BY tier`, asOf.String(), asOf.String())
		if !equalCounts(rep.Tiers, want) {
			t.Errorf("as of %s: tiers = %v, SQL says %v", asOf, rep.Tiers, want)
		} else {
			t.Logf("as of %s: %v", asOf, want)
		}
		if want[retention.Active] == 0 || want[retention.Intermediate]+want[retention.Final] == 0 {
			t.Errorf("as of %s: the demo database lacks tiers: %v", asOf, want)
		}
	}
}
