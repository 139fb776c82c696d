package pipeline

import (
	"context"
	"database/sql"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
)

// TestDryRunOnPostgreSQL is TestDryRunCountsMatchSQL on a real PostgreSQL server, with the
// independent count written in PostgreSQL's SQL.
func TestDryRunOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	dsn := testsvc.PostgresDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Generate(ctx, db, "postgres", demo.Options{Profile: demo.Apogee, Dossiers: 300, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	// As a user would: the connection string in an environment variable, never on a command line.
	t.Setenv("VERSEMENT_TEST_PIPELINE_DSN", dsn)
	src, err := extract.Open(ctx, "env:VERSEMENT_TEST_PIPELINE_DSN")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
	rep, err := Run(ctx, Config{Profile: builtin(t, "apogee"), Source: src, AsOf: asOf, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := apogeeCountsOnPG(t, db, asOf)
	if rep.Dossiers != 300 || rep.Dialect != "postgres" || !equalCounts(rep.Tiers, want) {
		t.Errorf("tiers = %v (%d dossiers, %s), SQL says %v", rep.Tiers, rep.Dossiers, rep.Dialect, want)
	}
	// explain filters the root query on the key: quoted names and an integer literal in PostgreSQL.
	ex, err := Explain(ctx, builtin(t, "apogee"), src, ExplainQuery{Class: "etudiant", Key: "17", AsOf: asOf})
	if err != nil || len(ex) != 1 || ex[0].Key != "17" || ex[0].Rows["INDIVIDU"] != 1 {
		t.Errorf("explain on PostgreSQL: %v %+v", err, ex)
	}
}
