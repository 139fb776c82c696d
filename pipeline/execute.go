package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/index"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// JobSpec is one archiving job, as `versement run` and the nightly scheduler describe it.
type JobSpec struct {
	Profile *profiles.Profile
	// Source is the source spec (sqlite:PATH, PATH.db, env:VAR, file:PATH), opened with extract.Open;
	// or SourceConn, an already open source (not closed by Execute).
	Source     string
	SourceConn extract.Source
	// Target receives the SIPs of both tiers; TargetIntermediate and TargetFinal override it per tier.
	Target, TargetIntermediate, TargetFinal string
	// Ledger is the ledger file; default: ledger.jsonl in State.
	Ledger string
	// State is the state folder (state.db, spool/); required unless DryRun.
	State string
	AsOf  civil.Date // zero: today
	// MaxDossiers and MaxBytes override the profile's batch limits when positive.
	MaxDossiers  int
	MaxBytes     int64
	Tiers        []retention.Tier
	Classes      []string
	Decommission bool
	DryRun       bool
	Elimination  io.Writer
	// Undetermined receives every undetermined dossier with its reason (CSV); nil: not written.
	Undetermined io.Writer
	// Lang is the language of what people read (the undetermined list's header); zero: English.
	Lang language.Tag
	// Documents asks for the bordereaux (Config.Documents); nil: none.
	Documents *Documents
	Transfer  targets.Options
	// ObjectLock, "COMPLIANCE" or "GOVERNANCE", locks each SIP at an S3 target until the latest date
	// its dossiers' rules protect them (sip.Record.RetainUntil). Empty: no lock.
	ObjectLock string
	Progress   func(Progress)
	OnSIP      func(SIP)
	Log        *slog.Logger
	// Index learns where each dossier of every SIP sent is, for consultation; nil: the state
	// folder's index (DefaultIndex), opened by Execute.
	Index Indexer
}

// openTarget opens a target URL; tests replace it to put a misbehaving archive in front of a real one.
var openTarget = targets.Open

// DefaultIndex is the consultation index of a state folder (package index): every run puts in it
// where each dossier it sent is.
func DefaultIndex(stateDir string) string { return filepath.Join(stateDir, "index.db") }

// RuleEnds gives, from the profile's schedule, the end of a rule's period counted from the start
// a manifest records (YYYY-MM-DD; "" when the schedule cannot say): what the index records of
// each dossier as the end of its DUA and of its access restriction.
func RuleEnds(p *profiles.Profile) func(rule, start string) string {
	s := p.Schedule()
	return func(rule, start string) string {
		d, err := civil.Parse(start)
		if err != nil || s == nil {
			return ""
		}
		if end, ok := s.PeriodEnd(rule, d); ok {
			return end.String()
		}
		return ""
	}
}

// DefaultLedger is the ledger file of a state folder when JobSpec.Ledger is empty.
func DefaultLedger(stateDir string) string { return filepath.Join(stateDir, "ledger.jsonl") }

// Execute runs one job: opens the source, the state, the ledger and the targets, runs the pipeline
// and closes everything. The report is returned even with an error, for what was done.
func Execute(ctx context.Context, job JobSpec) (rep *Report, err error) {
	p := job.Profile
	if p == nil {
		return nil, errors.New("pipeline: no profile")
	}
	if job.MaxDossiers > 0 || job.MaxBytes > 0 {
		p.OverrideBatch(job.MaxDossiers, job.MaxBytes)
	}
	src := job.SourceConn
	name := job.Source
	if src == nil {
		if job.Source == "" {
			return nil, errors.New("pipeline: no source")
		}
		if src, err = extract.Open(ctx, job.Source); err != nil {
			return nil, err
		}
		defer src.Close()
	}
	// The preflight: everything a run needs is checked before anything is printed or created.
	if err := checkSource(ctx, src, p, job.Classes); err != nil {
		return nil, err
	}
	cfg := Config{Profile: p, Source: src, SourceName: extract.Redact(name), AsOf: job.AsOf, Classes: job.Classes,
		Tiers: job.Tiers, Decommission: job.Decommission, DryRun: job.DryRun, Elimination: job.Elimination, Undetermined: job.Undetermined, Lang: job.Lang, Documents: job.Documents,
		Progress: job.Progress, Log: job.Log}.withDefaults()
	log, asOf, tiers := cfg.Log, cfg.AsOf, cfg.Tiers
	if job.DryRun {
		return Run(ctx, cfg)
	}
	if job.State == "" {
		return nil, errors.New("pipeline: no state folder (where the run records what it archived)")
	}
	tgt := map[retention.Tier]string{}
	for _, t := range tiers {
		switch {
		case t == retention.Final && job.TargetFinal != "":
			tgt[t] = job.TargetFinal
		case t != retention.Final && job.TargetIntermediate != "":
			tgt[t] = job.TargetIntermediate
		case job.Target != "":
			tgt[t] = job.Target
		default:
			return nil, fmt.Errorf("pipeline: no target for the %s tier: give a target (dir://PATH, s3://BUCKET/PREFIX or vitam+https://HOST)", t)
		}
	}
	// Active dossiers archived by decommission, and a state left by such a run, go to intermediate.
	if _, ok := tgt[retention.Intermediate]; !ok {
		if u := job.TargetIntermediate; u != "" {
			tgt[retention.Intermediate] = u
		} else if u := job.Target; u != "" {
			tgt[retention.Intermediate] = u
		}
	}
	if _, ok := tgt[retention.Final]; !ok {
		if u := job.TargetFinal; u != "" {
			tgt[retention.Final] = u
		} else if u := job.Target; u != "" {
			tgt[retention.Final] = u
		}
	}
	opts := job.Transfer
	if opts.Logger == nil {
		opts.Logger = log
	}
	var urls []string
	for _, t := range []retention.Tier{retention.Active, retention.Intermediate, retention.Final} {
		if u, ok := tgt[t]; ok && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	opened, later, err := probeTargets(ctx, urls, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, t := range opened {
			t.Close()
		}
	}()
	lpath := job.Ledger
	if lpath == "" {
		lpath = DefaultLedger(job.State)
	}
	if _, err := checkCreatable("state", job.State); err != nil {
		return nil, err
	}
	// The checks passed: from here on the run creates its folders.
	lock, err := lockState(job.State, lpath)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	for _, pd := range later {
		t, err := openTarget(ctx, pd.url, opts)
		if err != nil {
			return nil, err
		}
		opened[pd.url] = t
		if pr, ok := transfer.As[transfer.Prober](t); ok {
			if err := pr.Probe(ctx); err != nil {
				return nil, err
			}
		}
	}
	targetsByTier := map[retention.Tier]transfer.Target{}
	for tier, u := range tgt {
		targetsByTier[tier] = opened[u]
	}
	st, err := OpenState(ctx, job.State)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	led, err := ledger.Open(lpath)
	if err != nil {
		return nil, err
	}
	defer led.Close()
	ix := job.Index
	if ix == nil {
		store, err := index.Open(ctx, DefaultIndex(job.State))
		if err != nil {
			return nil, err
		}
		defer store.Close()
		ix = &index.Recorder{Store: store, Ends: RuleEnds(p)}
	}
	sp := &spool{dir: filepath.Join(job.State, "spool"), profile: p.Name, state: st, ledger: led,
		targets: targetsByTier, objectLock: job.ObjectLock, log: log, onSIP: job.OnSIP, index: ix}
	fixed, err := sp.reconcileLedger(ctx, opened)
	if err != nil {
		return nil, err
	}
	pk, err := newBatcher(ctx, p, src, asOf, sp)
	if err != nil {
		return nil, err
	}
	cfg.Archiver, cfg.Notices = pk, st
	rep, err = Run(ctx, cfg)
	if rep != nil {
		rep.Ledger, rep.State = lpath, st.Path()
		rep.LedgerHead = led.Head().String()
		rep.LedgerRerecorded, rep.LedgerLost = fixed.rerecorded, fixed.lost
		rep.SpoolDamaged = pk.SpoolDamaged()
	}
	return rep, err
}

// ledgerFixes is what reconcileLedger did.
type ledgerFixes struct {
	rerecorded []string // SIPs whose lost entry was written again
	lost       []string // SIPs neither the ledger nor the target had: forgotten, archived again by this run
}

// reconcileLedger makes the ledger hold every SIP the state marks sent: an entry lost (a torn last
// line that Open cut off, a ledger restored from an older backup) is written again from the state
// when the target has the SIP, with a note saying why; a SIP the target does not have either is
// forgotten in the state, so that this run archives its dossiers again. It runs before the packager
// and the reading of the source, which ask the state what is archived.
func (sp *spool) reconcileLedger(ctx context.Context, opened map[string]transfer.Target) (ledgerFixes, error) {
	st, led, log := sp.state, sp.ledger, sp.log
	var fixes ledgerFixes
	byTarget := map[string]transfer.Target{}
	for _, t := range opened {
		byTarget[ledger.NormalizeTarget(t.String())] = t
	}
	// Only the SIPs missing from the ledger are kept: rare, where the state's SIPs are many.
	var missing []stateSIP
	if err := st.eachSent(ctx, sp.profile, func(r stateSIP) {
		if !led.Recorded(r.Target, r.Name) {
			missing = append(missing, r)
		}
	}); err != nil {
		return fixes, err
	}
	for _, r := range missing {
		t := byTarget[ledger.NormalizeTarget(r.Target)]
		if t == nil {
			log.Warn("the state marks a SIP sent to a target this run does not send to, and the ledger has no entry for it: run with that target to record it again",
				"sip", r.Name, "target", r.Target, "ledger", led.Path())
			continue
		}
		e, added, err := led.Reconcile(ctx, t, transferSIP(r.Record, "", ""), batchOf(r.Record), r.LedgerSeq)
		switch {
		case errors.Is(err, transfer.ErrNotExist):
			log.Warn("a SIP the state marks sent is neither in the ledger nor at the target: its dossiers are archived again by this run",
				"sip", r.Name, "target", t.String(), "state_ledger_seq", r.LedgerSeq, "ledger", led.Path())
			if err := st.forget(ctx, r.Name); err != nil {
				return fixes, fmt.Errorf("state %s: SIP %s: %w", st.Path(), r.Name, err)
			}
			fixes.lost = append(fixes.lost, r.Name)
		case err != nil:
			return fixes, fmt.Errorf("ledger %s: %w", led.Path(), err)
		case added:
			log.Warn("ledger entry missing for a SIP the state marks sent: recorded again", "sip", r.Name, "target", t.String(),
				"ledger_seq", e.Seq, "status", e.Status, "note", e.Note, "ledger", led.Path())
			if err := st.sent(ctx, r.Name, t.String(), e.Seq); err != nil {
				return fixes, err
			}
			fixes.rerecorded = append(fixes.rerecorded, r.Name)
		}
	}
	return fixes, nil
}
