package eliminate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/vitam"
)

// ExecuteOptions say which visa Execute applies, where, and as of when.
type ExecuteOptions struct {
	Visa    string // the visa's reference, as recorded by ImportVisa
	State   string // the state folder of the runs that archived the dossiers
	Ledger  *ledger.Ledger
	Profile *profiles.Profile // the profile as it is now: its schedule and holds re-decide
	// Source, when not nil, is the application's database: a dossier still there is re-decided
	// from its rows, as a run would; one no longer there from what the proposal and the profile
	// say (a hold with a where expression then spares it, since it cannot be evaluated).
	Source extract.Source
	// Index is the consultation index: it forgets destroyed dossiers, and gives the VITAM
	// SystemIds of dossiers archived there. Nil: none.
	Index index.Store
	// OpenTarget opens a target the state names (a SIP's target as recorded). Nil:
	// targets.Open with default options, which the caller provides (this package does not
	// import it, so that tests can hand it a fault-injecting target).
	OpenTarget func(ctx context.Context, raw string) (transfer.Target, error)
	// Access is VITAM's access API, needed when dossiers are archived in VITAM.
	Access *vitam.Access
	// ObjectLock, when set (COMPLIANCE or GOVERNANCE), locks a rewritten SIP as the run locked
	// the SIP it replaces (until its RetainUntil, with its legal hold).
	ObjectLock string
	Out        string     // where the attestation is written
	AsOf       civil.Date // the date decisions are taken at; zero: today
	DryRun     bool       // decide, rewrite and verify, but send, delete and record nothing
	Executor   string     // who runs it (the system user)
	XSDDir     string     // when set, each rewritten SIP is also validated against the SEDA XSD
	Lang       language.Tag
	Log        *slog.Logger
	Now        func() time.Time
}

// Executed is what an execution did.
type Executed struct {
	Visa     *Visa
	Proposal *Proposal
	// Files are the attestation's files, written in Out (none when nothing changed since the
	// last execution of the visa).
	Files                         []string
	Destroyed, Spared, InSource   int64
	Locked                        int // old SIPs the target's Object Lock keeps for now
	Rewritten                     int // SIPs rewritten (in this execution or a former one)
	Entry                         ledger.Entry
	NothingToDo                   bool // the visa was executed before and nothing was left to do
	AttestationID, AttestationSHA string
}

// Attestation files, in Out.
func attestationBase(ref string, dry bool) string {
	b := "attestation-elimination-" + sip.FileSafe(ref)
	if dry {
		b += "-simulation"
	}
	return b
}

// sourceKeysName is the file of the keys the application's administrator deletes from the source.
func sourceKeysName(ref string, dry bool) string {
	b := "cles-a-supprimer-source-" + sip.FileSafe(ref)
	if dry {
		b += "-simulation"
	}
	return b + ".csv"
}

// Execute applies a recorded visa: it re-decides each accepted dossier as of o.AsOf (plan.go),
// rewrites each SIP holding a destroyed dossier without it and deletes the old one (archive.go),
// asks VITAM to eliminate what VITAM archived (vitam.go), and writes the attestation and the
// ledger's elimination entry (finish.go). The plan is kept in the state folder once made, so
// that a run killed at any point and run again applies the same decisions; a second execution
// of a visa only finishes what the first left (SIPs under Object Lock).
func Execute(ctx context.Context, o ExecuteOptions) (*Executed, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.AsOf.IsZero() {
		o.AsOf = civil.Of(o.Now())
	}
	if o.Out == "" {
		o.Out = "bordereaux"
	}
	v, p, visaEntry, err := Load(o.State, o.Ledger, o.Visa)
	if err != nil {
		return nil, err
	}
	if o.Profile == nil || o.Profile.Name != p.Profile {
		name := ""
		if o.Profile != nil {
			name = o.Profile.Name
		}
		return nil, refuse("proposal %s is of profile %s, not %s: give its profile (--profile)", p.ID, p.Profile, name)
	}
	if v.Date.After(o.AsOf) {
		return nil, refuse("the visa is dated %s, after the execution date %s", v.Date, o.AsOf)
	}
	st, err := pipeline.OpenState(ctx, o.State)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ex := &execution{o: o, v: v, p: p, visaEntry: visaEntry, st: st, dir: Dir(o.State, p.ID), targets: map[string]transfer.Target{}}
	defer ex.closeTargets()
	if err := os.MkdirAll(ex.dir, 0o700); err != nil {
		return nil, fmt.Errorf("elimination: %w", err)
	}
	pl, err := ex.plan(ctx)
	if err != nil {
		return nil, err
	}
	defer pl.close()
	ex.pl = pl
	crashPoint("planned")
	names := make([]string, 0, len(pl.bySIP))
	for n := range pl.bySIP {
		names = append(names, n)
	}
	sort.Strings(names)
	var inVITAM []string
	for _, n := range names {
		isVITAM, err := ex.isVITAM(ctx, n)
		if err != nil {
			return nil, err
		}
		if isVITAM {
			inVITAM = append(inVITAM, n)
			continue
		}
		if err := ex.replaceSIP(ctx, n); err != nil {
			return nil, err
		}
	}
	if len(inVITAM) > 0 {
		if err := ex.eliminateInVITAM(ctx, inVITAM); err != nil {
			return nil, err
		}
	}
	return ex.finish(ctx)
}

// execution is one Execute's working set.
type execution struct {
	o         ExecuteOptions
	v         *Visa
	p         *Proposal
	visaEntry ledger.Entry
	st        *pipeline.State
	dir       string
	pl        *plan
	targets   map[string]transfer.Target
	sips      []sipOutcome
	ops       []vitamOp
	// What VITAM did with the dossiers it archived.
	vitamDestroyed, vitamSpared []vitamSpare
}

func (ex *execution) target(ctx context.Context, raw string) (transfer.Target, error) {
	if t, ok := ex.targets[raw]; ok {
		return t, nil
	}
	if ex.o.OpenTarget == nil {
		return nil, errors.New("elimination: no way to open targets (ExecuteOptions.OpenTarget)")
	}
	t, err := ex.o.OpenTarget(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("elimination: target %s: %w", raw, err)
	}
	ex.targets[raw] = t
	return t, nil
}

func (ex *execution) closeTargets() {
	for _, t := range ex.targets {
		t.Close()
	}
}

// isVITAM says whether the state records the SIP as sent to VITAM, whose dossiers VITAM itself
// eliminates.
func (ex *execution) isVITAM(ctx context.Context, name string) (bool, error) {
	s, ok, err := ex.st.SIP(ctx, name)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("elimination: SIP %s is not in the state %s", name, ex.o.State)
	}
	return isVITAMTarget(s.Target), nil
}

func isVITAMTarget(raw string) bool {
	return len(raw) > 6 && raw[:6] == "vitam+"
}

func (ex *execution) path(name string) string { return filepath.Join(ex.dir, name) }

// crashPoint is called at each step of an execution; tests set crashHook to kill the process
// there (SIGKILL) and check that a rerun ends as an uninterrupted execution.
func crashPoint(stage string) {
	if crashHook != nil {
		crashHook(stage)
	}
}

var crashHook func(stage string)

func init() {
	lang.Translate(map[string]string{
		"proposal %s is of profile %s, not %s: give its profile (--profile)": "la proposition %s est du profil %s, pas %s : donnez son profil (--profile)",
		"the visa is dated %s, after the execution date %s":                  "le visa est daté du %s, après la date d'exécution %s",
		"%d dossier(s) to destroy are archived in VITAM: give VITAM's access (--vitam-access 'vitam+https://…?access-contract=ID'), with a contract that allows elimination": "%d dossier(s) à détruire sont archivés dans VITAM : donnez l'accès à VITAM (--vitam-access 'vitam+https://…?access-contract=ID'), avec un contrat qui permet l'élimination",
	})
}
