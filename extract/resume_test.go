package extract_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/atomicfile"
)

const sipSize = 10 // dossiers per simulated SIP in the resume worker

// TestResumeWorker is not a test: it is the process the kill test starts and kills. It reads
// dossiers after the checkpoint, "stores a SIP" of sipSize dossiers (a file named by its first key,
// written atomically, as the pipeline stores SIPs under deterministic names), then records the
// checkpoint: the order the pipeline follows.
func TestResumeWorker(t *testing.T) {
	spec := os.Getenv("VERSEMENT_RESUME_SPEC")
	if spec == "" {
		t.Skip("started by TestKilledRunResumesWithoutLossOrDuplicate")
	}
	out := os.Getenv("VERSEMENT_RESUME_OUT")
	ctx := context.Background()
	cp, err := extract.OpenCheckpoint(filepath.Join(out, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := extract.OpenWith(ctx, spec, extract.Options{BatchSize: 7}) // batches and SIPs misaligned on purpose
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	class := demo.ApogeeClass()
	var keys []string
	var last extract.Value
	store := func() {
		if len(keys) == 0 {
			return
		}
		if err := atomicfile.WriteFile(filepath.Join(out, "sip-"+keys[0]), []byte(strings.Join(keys, "\n"))); err != nil {
			t.Fatal(err)
		}
		if err := cp.Done(class.Name, last); err != nil {
			t.Fatal(err)
		}
		keys = keys[:0]
		time.Sleep(3 * time.Millisecond)
	}
	for d, err := range src.Dossiers(ctx, class, cp.After(class.Name)) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprint(d.Key))
		last = d.Key
		if len(keys) == sipSize {
			store()
		}
	}
	store()
}

// A run killed with SIGKILL mid-way, then resumed from its checkpoint, has stored every dossier of
// the source exactly once.
func TestKilledRunResumesWithoutLossOrDuplicate(t *testing.T) {
	const n = 600
	onEachDatabase(t, demoSetup(demo.Apogee, n), func(t *testing.T, spec string) {
		out := t.TempDir()
		worker := func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^TestResumeWorker$", "-test.count=1")
			cmd.Env = append(os.Environ(), "VERSEMENT_RESUME_SPEC="+spec, "VERSEMENT_RESUME_OUT="+out)
			cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
			return cmd
		}
		cmd := worker()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cpPath := filepath.Join(out, "checkpoint.json")
		deadline := time.Now().Add(60 * time.Second)
		for {
			cp, err := extract.OpenCheckpoint(cpPath)
			if err == nil {
				if k, ok := cp.After("etudiant").(int64); ok && k >= 150 {
					break
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the worker made no progress")
			}
			time.Sleep(2 * time.Millisecond)
		}
		// Kill at a random point: between a SIP and its checkpoint, or in the middle of a batch.
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the worker was not killed mid-way (it finished first?): %v", err)
		}
		cp, err := extract.OpenCheckpoint(cpPath)
		if err != nil {
			t.Fatalf("checkpoint after SIGKILL: %v", err)
		}
		killedAt := cp.After("etudiant").(int64)
		if killedAt >= n {
			t.Fatalf("killed after the end (%d)", killedAt)
		}
		if err := worker().Run(); err != nil {
			t.Fatalf("resumed run: %v", err)
		}
		seen := map[string]string{}
		files, _ := filepath.Glob(filepath.Join(out, "sip-*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range strings.Split(string(b), "\n") {
				if other, dup := seen[k]; dup {
					t.Fatalf("dossier %s stored twice (%s and %s)", k, other, f)
				}
				seen[k] = f
			}
		}
		var missing []string
		for i := 0; i < n; i++ {
			k := strconv.FormatInt(demo.Key(i), 10)
			if _, ok := seen[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 || len(seen) != n {
			sort.Strings(missing)
			t.Fatalf("after resume: %d dossiers stored, want %d; missing %v", len(seen), n, missing)
		}
		t.Logf("killed after checkpoint %d; resumed; %d dossiers in %d SIPs, none twice", killedAt, len(seen), len(files))
	})
}

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
		for d, err := range src.Dossiers(ctx, demo.HarpegeClass(), nil) {
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
	class := extract.Class{Name: "p", Root: extract.Table{Name: "PHO_ETU", Key: "COD_IND"}}
	for d, err := range src.Dossiers(context.Background(), class, nil) {
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
