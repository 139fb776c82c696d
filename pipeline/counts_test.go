package pipeline

import (
	"context"
	"database/sql"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
)

// apogeeCountsPG is the built-in Apogée rule written independently in PostgreSQL: the start is the
// end (31 August) of the last academic year with a registration ETA_IAA = 'E', then 3 years
// active and 7 intermediate. The runs' counts per tier are checked against it.
const apogeeCountsPG = `
	SELECT CASE
		WHEN m IS NULL THEN 'undetermined'
		WHEN $1::date < make_date(m + 1 + 3, 8, 31) THEN 'active'
		WHEN $1::date < make_date(m + 1 + 3 + 7, 8, 31) THEN 'intermediate'
		ELSE 'final' END, count(*)
	FROM (SELECT i."COD_IND", (SELECT max(a."COD_ANU"::int) FROM "INS_ADM_ANU" a
	                           WHERE a."COD_IND" = i."COD_IND" AND a."ETA_IAA" = 'E') AS m
	      FROM "INDIVIDU" i) s
	GROUP BY 1`

// sqlTierCounts runs a query giving (tier, count) rows and returns the counts.
func sqlTierCounts(t *testing.T, db *sql.DB, query string, args ...any) map[retention.Tier]int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[retention.Tier]int64{}
	for rows.Next() {
		var tier string
		var n int64
		if err := rows.Scan(&tier, &n); err != nil {
			t.Fatal(err)
		}
		want[retention.Tier(tier)] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

// apogeeCountsOnPG is apogeeCountsPG as of asOf.
func apogeeCountsOnPG(t *testing.T, db *sql.DB, asOf civil.Date) map[retention.Tier]int64 {
	t.Helper()
	return sqlTierCounts(t, db, apogeeCountsPG, asOf.String())
}
