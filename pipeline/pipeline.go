package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
)

// Config is one run: which profile over which source, decided as of which date, and what to do with
// each tier.
type Config struct {
	Profile *profiles.Profile
	Source  extract.Source
	// SourceName is how the report names the source (never a connection string with a password:
	// the CLI passes the spec the user typed, e.g. "sqlite:apogee.db" or "env:APOGEE_DSN").
	SourceName string
	AsOf       civil.Date // zero: today, in the local time zone
	Classes    []string   // the classes to run; empty: all of the profile's
	// Tiers are the tiers archived as SIPs; empty: intermediate and final.
	Tiers []retention.Tier
	// Decommission sends active dossiers to intermediate archiving (the application is being shut
	// down): their decision, and so their AppraisalRule StartDate, is kept as it is.
	Decommission bool
	// DryRun decides every dossier and counts, and writes nothing but the elimination proposal.
	DryRun bool
	// Elimination receives the elimination proposal (CSV) for the destroy tier; nil: not written.
	Elimination io.Writer
	// Undetermined receives every undetermined dossier with its reason (CSV, see
	// UndeterminedHeader); nil: not written (the report lists the first MaxUndeterminedListed).
	Undetermined io.Writer
	// Lang is the language of what people read; the zero Tag is English.
	Lang language.Tag
	// Documents, when set, asks for the bordereaux (the proposal of elimination; the transfer slip
	// of a run that sends), written at the end of a run that succeeded.
	Documents *Documents
	// Archiver packages and sends the dossiers of the archived tiers; required unless DryRun.
	Archiver Archiver
	// Notices, when set, remembers what the runs warned about, so that a nightly run does not
	// repeat a warning about the same unchanged dossiers (Execute sets it to the state database).
	Notices Noticer
	// Progress, when set, is called after each dossier with the run so far.
	Progress func(Progress)
	Log      *slog.Logger
}

// Archiver is the packaging stage: it receives, in key order within each class, every dossier of
// an archived tier that it has not archived before, and batches them into SIPs (one class and one
// tier per SIP, bounded by the profile's batch limits), writes and sends them.
type Archiver interface {
	// Archived says whether an earlier run archived the dossier at this tier: Run asks before it
	// describes a dossier, skips those already archived, and hands the others to Archive.
	Archived(ctx context.Context, class string, tier retention.Tier, key string) (bool, error)
	Archive(ctx context.Context, it *Item) error
	// Bytes is the size of the SIPs sent so far, for the progress line.
	Bytes() int64
	// Close finishes the open SIPs, or discards them when the run failed or was cancelled, and
	// reports every SIP the run sent. Run calls it once at the end of every run that is not a dry
	// run, with a context that is not cancelled.
	Close(ctx context.Context, discard bool) ([]SIP, error)
}

// Item is one dossier on its way to a SIP.
type Item struct {
	Class       *profiles.Class
	Dossier     *extract.Dossier
	Key         string
	Decision    retention.Decision
	Tier        retention.Tier // where it is archived: the decision's tier, or intermediate for an active dossier in decommission mode
	Description profiles.Description
}

// Noticer remembers, from one run to the next, what the runs warned about. Notice reports whether
// digest is new for (profile, class, kind) and records it; an empty digest forgets it.
type Noticer interface {
	Notice(ctx context.Context, profile, class, kind, digest string) (bool, error)
}

// Progress is the run so far.
type Progress struct {
	Class    string
	Dossiers int64
	Total    int64 // dossiers expected in the classes read so far (0: unknown), for an ETA
	Archived int64
	Bytes    int64
	Elapsed  time.Duration
}

// withDefaults fills in what a Config may leave empty: a silent logger, today, the default tiers.
// Execute and Run share it, so that the packager and the decisions see the same date and tiers.
func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.AsOf.IsZero() {
		c.AsOf = civil.Today(time.Local)
	}
	if len(c.Tiers) == 0 {
		c.Tiers = DefaultTiers
	}
	return c
}

// DefaultTiers are the tiers archived when Config.Tiers is empty.
var DefaultTiers = []retention.Tier{retention.Intermediate, retention.Final}

// Run decides every dossier of the source and sends those of the archived tiers to the Archiver
// (none in a dry run), writes the elimination proposal, and reports. It deletes nothing.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	p := cfg.Profile
	if p == nil || cfg.Source == nil {
		return nil, errors.New("pipeline: a profile and a source are needed")
	}
	if p.Schedule() == nil {
		return nil, fmt.Errorf("pipeline: profile %s has no retention schedule loaded", p.Name)
	}
	if !cfg.DryRun && cfg.Archiver == nil {
		return nil, errors.New("pipeline: nothing to write the SIPs with (packaging is not configured): use a dry run")
	}
	cfg = cfg.withDefaults()
	classes, err := selectClasses(p, cfg.Classes)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, log: cfg.Log, rep: newReport(p, cfg, cfg.AsOf, cfg.Tiers), start: time.Now()}
	if cfg.Elimination != nil {
		r.elim = newEliminationWriter(cfg.Elimination, cfg.Lang)
	}
	if cfg.Undetermined != nil {
		r.undet = newUndeterminedWriter(cfg.Undetermined, cfg.Lang)
	}
	if cfg.Documents != nil {
		if r.docs, err = newDocuments(cfg); err != nil {
			return nil, err
		}
	}
	for _, c := range classes {
		if err = r.class(ctx, c); err != nil {
			break
		}
	}
	if r.elim != nil {
		// What was decided before a failure is still proposed: the proposal is complete for the
		// dossiers the report counts.
		if ferr := r.elim.flush(); ferr != nil {
			err = errors.Join(err, fmt.Errorf("elimination proposal: %w", ferr))
		}
	}
	if r.undet != nil {
		if ferr := r.undet.flush(); ferr != nil {
			err = errors.Join(err, fmt.Errorf("undetermined list: %w", ferr))
		}
	}
	if cfg.Archiver != nil && !cfg.DryRun {
		// Close is called even after a failure or a cancellation, so that the packaging stage
		// reports the SIPs already sent; its open SIPs are then discarded, not finished.
		sips, cerr := cfg.Archiver.Close(context.WithoutCancel(ctx), err != nil)
		r.rep.addSIPs(sips)
		err = errors.Join(err, cerr)
	}
	if r.docs != nil {
		if err != nil {
			r.docs.abort()
		} else {
			r.rep.Documents, err = r.docs.write(r.rep.SIPs)
		}
	}
	r.rep.Interrupted = errors.Is(err, context.Canceled) || ctx.Err() != nil
	r.rep.finish(r.start)
	return r.rep, err
}

// run is one Run's state: its configuration (with defaults), report and elimination proposal.
type run struct {
	cfg   Config
	log   *slog.Logger
	rep   *Report
	elim  *eliminationWriter
	undet *undeterminedWriter
	docs  *documents
	start time.Time
}

func selectClasses(p *profiles.Profile, names []string) ([]*profiles.Class, error) {
	if len(names) == 0 {
		out := make([]*profiles.Class, len(p.Classes))
		for i := range p.Classes {
			out[i] = &p.Classes[i]
		}
		return out, nil
	}
	var out []*profiles.Class
	for _, n := range names {
		c := p.Class(n)
		if c == nil {
			var have []string
			for _, pc := range p.Classes {
				have = append(have, pc.Name)
			}
			return nil, fmt.Errorf("profile %s has no class %q (it has %v)", p.Name, n, have)
		}
		out = append(out, c)
	}
	return out, nil
}

// Decide applies the class's rule to one dossier, as of asOf.
func Decide(p *profiles.Profile, c *profiles.Class, d *extract.Dossier, asOf civil.Date) retention.Decision {
	return decide(p, c, d, d.Env(), asOf)
}

func decide(p *profiles.Profile, c *profiles.Class, d *extract.Dossier, env map[string]any, asOf civil.Date) retention.Decision {
	return p.Schedule().Decide(c.Rule, env, profiles.KeyString(d.Key), asOf)
}

// ArchiveTier is where a decision sends a dossier in this run: its tier, except that decommission
// mode sends active dossiers to intermediate archiving.
func ArchiveTier(dec retention.Decision, decommission bool) retention.Tier {
	if decommission && dec.Tier == retention.Active {
		return retention.Intermediate
	}
	return dec.Tier
}

// Selected says whether a run with these tiers archives a dossier of tier t (after ArchiveTier),
// and in which tier's SIPs. A hold protects a dossier from destruction, not from preservation:
// held dossiers are archived as intermediate, with their HoldRule, when --tiers names held or when
// the base is decommissioned (it would otherwise disappear with them); otherwise they stay in place.
func Selected(t retention.Tier, tiers []retention.Tier, decommission bool) (sipTier retention.Tier, archived bool) {
	if t == retention.Held {
		return retention.Intermediate, slices.Contains(tiers, retention.Held) || decommission && slices.Contains(tiers, retention.Intermediate)
	}
	return t, slices.Contains(tiers, t)
}

// errHoldNeedsSEDA22 refuses to archive a dossier under a legal hold in SEDA 2.1, which has no
// HoldRule: the SIP would carry no trace of the hold.
func errHoldNeedsSEDA22(class, key string, h *retention.Hold) error {
	return fmt.Errorf("class %s dossier %s is under legal hold %s: SEDA 2.1 has no HoldRule, so its SIP would lose the hold; set seda.version to 2.2 or 2.3 in the profile", class, textsafe.Terminal(key), h.ID)
}

// decided is one dossier read and decided by runClass's reading goroutine, on its way to the
// goroutine that counts, packages and sends it.
type decided struct {
	d       *extract.Dossier
	key     string
	dec     retention.Decision
	tier    retention.Tier
	desc    profiles.Description
	hasDesc bool
	already bool // looked up in the state: archived at this tier by an earlier run
	err     error
	// done, when set, is closed by the consumer once it is through with the dossier: the reader
	// waits for it before reading on, because the dossier has LOBs too large to hold in memory and
	// they can only be read while the iteration (its database snapshot) is open.
	done chan struct{}
}

// Reading (the database scan, the dossier's Env, the decision and the description) runs in its own
// goroutine, one dossier ahead of packaging (JSON, deflate, manifest, state, transfer), so that the
// two use both cores. The order of the dossiers, and so every SIP's bytes, is unchanged: a single
// consumer takes them in the order they are read. At most readAhead dossiers wait between the two
// (memory stays flat), each with at most lobBuffer bytes of LOBs read ahead of time.
const readAhead = 64

// lobBuffer is a var for the test that proves the held-reader path gives the same SIPs.
var lobBuffer int64 = 1 << 20

func (r *run) class(ctx context.Context, c *profiles.Class) error {
	cfg, log, rep := r.cfg, r.log, r.rep
	log.Info("class started", "profile", cfg.Profile.Name, "class", c.Name, "rule", c.Rule, "as_of", cfg.AsOf.String())
	if counter, ok := cfg.Source.(extract.Counter); ok && cfg.Progress != nil {
		// One COUNT(*) on the root table, only to show an ETA: its failure costs the ETA, not the run.
		if n, err := counter.Count(ctx, c.ExtractSpec()); err == nil {
			rep.expected = rep.Dossiers + n
		} else {
			log.Warn("no ETA: the root table could not be counted", "class", c.Name, "err", err)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	ch := make(chan decided, readAhead)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		r.read(rctx, c, ch)
	}()
	defer func() {
		// Stop the reader and let it go: it may be blocked on a full channel or waiting for a
		// dossier to be done.
		stop()
		for it := range ch {
			if it.done != nil {
				close(it.done)
			}
		}
		wg.Wait()
	}()

	undetermined := sha256.New() // of the undetermined dossiers' keys and reasons, in key order
	for d := range ch {
		err := r.consume(ctx, c, d, undetermined)
		if d.done != nil {
			close(d.done)
		}
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	log.Info("class done", "class", c.Name, "dossiers", rep.classDossiers(c.Name))
	return r.warnUndetermined(ctx, c, hex.EncodeToString(undetermined.Sum(nil)))
}

// warnUndetermined warns about the class's undetermined dossiers once per set: a run whose
// undetermined dossiers (keys and reasons) are those an earlier run already warned about says it
// at debug level only. When they all share one reason, the warning says so.
func (r *run) warnUndetermined(ctx context.Context, c *profiles.Class, digest string) error {
	u, log := r.rep.undeterminedOf(c.Name), r.log
	if r.cfg.Notices != nil && !r.cfg.DryRun {
		if u.Dossiers == 0 {
			digest = ""
		}
		isNew, err := r.cfg.Notices.Notice(ctx, r.cfg.Profile.Name, c.Name, "undetermined", digest)
		if err != nil {
			return err
		}
		if !isNew && u.Dossiers > 0 {
			log.Debug("undetermined dossiers: the same as an earlier run warned about", "class", c.Name, "dossiers", u.Dossiers)
			return nil
		}
	}
	switch {
	case u.Dossiers == 0:
	case u.Reason != "":
		log.Warn("undetermined dossiers: no tier could be decided, all for one reason", "class", c.Name, "dossiers", u.Dossiers, "reason", u.Reason)
	default:
		log.Warn("undetermined dossiers: no tier could be decided (see the report)", "class", c.Name, "dossiers", u.Dossiers)
	}
	return nil
}

// read reads the class's dossiers and decides them, and sends them on ch, in key order.
func (r *run) read(ctx context.Context, c *profiles.Class, ch chan<- decided) {
	cfg := r.cfg
	p := cfg.Profile
	send := func(d decided) bool {
		select {
		case ch <- d:
		case <-ctx.Done():
			return false
		}
		if d.done != nil {
			select {
			case <-d.done:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	for d, err := range cfg.Source.Dossiers(ctx, c.ExtractSpec()) {
		if err != nil {
			send(decided{err: fmt.Errorf("class %s: %w", c.Name, err)})
			return
		}
		if ctx.Err() != nil {
			return
		}
		dd := decided{d: d, key: profiles.KeyString(d.Key)}
		env := d.Env()
		dd.dec = decide(p, c, d, env, cfg.AsOf)
		dd.tier = ArchiveTier(dd.dec, cfg.Decommission)
		sipTier, archived := Selected(dd.tier, cfg.Tiers, cfg.Decommission)
		if archived && dd.dec.Hold != nil && !seda.Version(p.SEDA.Version).HasHoldRule() {
			send(decided{err: errHoldNeedsSEDA22(c.Name, dd.key, dd.dec.Hold)})
			return
		}
		if archived && !cfg.DryRun {
			// A dossier comes once per run, so the answer cannot change before it is packaged.
			done, err := cfg.Archiver.Archived(ctx, c.Name, sipTier, dd.key)
			if err != nil {
				dd.err = fmt.Errorf("class %s dossier %s: %w", c.Name, dd.key, err)
				send(dd)
				return
			}
			dd.already = done
		}
		if dd.already {
			if !send(dd) {
				return
			}
			continue
		}
		if (archived && !cfg.DryRun) || (dd.tier == retention.ToDestroy && (r.elim != nil || r.docs != nil)) {
			dd.desc, dd.err = c.DescribeEnv(d, env)
			dd.hasDesc = true
			if dd.err != nil {
				dd.err = fmt.Errorf("class %s dossier %s: %w", c.Name, dd.key, dd.err)
				send(dd)
				return
			}
		}
		if archived && !cfg.DryRun && !bufferLOBs(ctx, d) {
			dd.done = make(chan struct{})
		}
		if !send(dd) {
			return
		}
	}
}

// bufferLOBs reads the LOBs of a dossier into memory when they are small enough (lobBuffer bytes
// in all, sizes known), so that packaging can read them after the reader has moved on. It reports
// false when they stay in the database (the consumer must be done with the dossier before the
// iteration goes on). A LOB whose read fails is left as it is: packaging reads it again and
// reports the error.
func bufferLOBs(ctx context.Context, d *extract.Dossier) bool {
	var total int64
	n := 0
	for r := range d.LOBs() {
		if r.LOB.Size < 0 {
			return false
		}
		total += r.LOB.Size
		n++
	}
	if n == 0 {
		return true
	}
	if total > lobBuffer {
		return false
	}
	for r := range d.LOBs() {
		l := r.LOB
		rc, err := l.Open(ctx)
		if err != nil {
			return false
		}
		buf := bytes.NewBuffer(make([]byte, 0, l.Size+bytes.MinRead))
		_, err = buf.ReadFrom(io.LimitReader(rc, lobBuffer+1))
		rc.Close()
		b := buf.Bytes()
		if err != nil || int64(len(b)) > lobBuffer {
			return false
		}
		l.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return true
}

// consume counts one decided dossier, proposes it for elimination or packages it.
func (r *run) consume(ctx context.Context, c *profiles.Class, d decided, undetermined hash.Hash) error {
	cfg, rep, log := r.cfg, r.rep, r.log
	if d.d == nil {
		return d.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	key, dec, tier, desc := d.key, d.dec, d.tier, d.desc
	sipTier, archived := Selected(tier, cfg.Tiers, cfg.Decommission)
	rep.count(c.Name, dec, tier, archived)
	if dec.Tier == retention.Undetermined {
		io.WriteString(undetermined, key+"\x00"+dec.Reason+"\n")
		log.Debug("undetermined", "class", c.Name, "key", key, "reason", dec.Reason)
		if r.undet != nil {
			if err := r.undet.write(c.Name, key, dec); err != nil {
				return fmt.Errorf("undetermined list: %w", err)
			}
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.already {
		rep.Archived--
		rep.AlreadyArchived++
	} else if d.hasDesc {
		for _, n := range desc.Notes {
			log.Warn("description", "class", c.Name, "key", key, "note", n)
		}
		if tier == retention.ToDestroy && r.elim != nil {
			if err := r.elim.write(c, key, desc, dec); err != nil {
				return fmt.Errorf("elimination proposal: %w", err)
			}
		}
		if tier == retention.ToDestroy && r.docs != nil {
			if err := r.docs.proposed(c, d); err != nil {
				return fmt.Errorf("bordereau d'élimination: %w", err)
			}
		}
		if archived && !cfg.DryRun {
			it := &Item{Class: c, Dossier: d.d, Key: key, Decision: dec, Tier: sipTier, Description: desc}
			if err := cfg.Archiver.Archive(ctx, it); err != nil {
				return fmt.Errorf("class %s dossier %s: %w", c.Name, key, err)
			}
			if r.docs != nil {
				if err := r.docs.archived(c, d, sipTier); err != nil {
					return fmt.Errorf("bordereau de versement: %w", err)
				}
			}
		}
	}
	if cfg.Progress != nil {
		var bytes int64
		if cfg.Archiver != nil {
			bytes = cfg.Archiver.Bytes()
		}
		cfg.Progress(Progress{Class: c.Name, Dossiers: rep.Dossiers, Total: rep.expected, Archived: rep.Archived, Bytes: bytes, Elapsed: time.Since(r.start)})
	}
	return nil
}

// EliminationHeader is the first line of the elimination proposal CSV (run --elimination), in
// English; French readers get it translated, laid out as French spreadsheets open it (see
// csvList). The bordereau d'élimination (run --bordereaux) is the document the archivist signs.
var EliminationHeader = []string{"class", "key", "identity", "rule", "status", "start", "dua_end", "reason"}

func init() {
	lang.Translate(map[string]string{"identity": "identité", "status": "statut", "start": "début", "dua_end": "fin_dua"})
}

type eliminationWriter struct {
	*csvList
	lang language.Tag
}

func newEliminationWriter(w io.Writer, tag language.Tag) *eliminationWriter {
	return &eliminationWriter{csvList: newCSVList(w, tag, EliminationHeader), lang: tag}
}

func (e *eliminationWriter) write(c *profiles.Class, key string, desc profiles.Description, dec retention.Decision) error {
	return e.row(c.Name, textsafe.CSVCell(key), textsafe.CSVCell(desc.Title), dec.Rule, string(dec.Status), dateText(dec.Start), dateText(dec.DUAEnd), textsafe.CSVCell(dec.ExplainIn(e.lang)))
}

func dateText(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
