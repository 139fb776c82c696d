package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
)

// batcher is the Archiver that puts dossiers into SIPs: one SIP open per class and tier, finished
// before a dossier that would take it past the profile's byte limit, and after the one that
// reaches its dossier limit. The SIPs are built by sip.Builder and made safe and sent by the spool.
type batcher struct {
	profile *profiles.Profile
	src     extract.Source // for the data dictionary
	asOf    civil.Date
	spool   *spool
	open    map[sipKey]*openSIP
	dicts   map[string][]byte // data dictionary object per class

	// none holds the classes and tiers of which the state had no dossier when this run first
	// asked: their dossiers need no lookup (a first run, a new tier). Archived is called from
	// the reading goroutine, hence the lock.
	noneMu sync.Mutex
	none   map[sipKey]bool
}

type sipKey struct {
	class string
	tier  retention.Tier
}

type openSIP struct {
	key  sipKey
	b    *sip.Builder
	file *spoolFile
}

// newBatcher starts the packaging stage over an opened spool, after reconciling what a previous,
// interrupted run left in it: SIPs recorded as spooled are sent (or found sent) and marked, stray
// files removed. The SIPs it finishes are reported by Close with Recovered set.
func newBatcher(ctx context.Context, p *profiles.Profile, src extract.Source, asOf civil.Date, s *spool) (*batcher, error) {
	if p == nil || s.state == nil || s.ledger == nil || s.dir == "" || s.profile != p.Name {
		return nil, errors.New("pipeline: the packager needs a profile, a state, a ledger and a spool folder")
	}
	if asOf.IsZero() {
		return nil, errors.New("pipeline: the packager needs the as-of date (the SIPs' message date)")
	}
	if err := openSpool(s); err != nil {
		return nil, err
	}
	if err := s.reconcile(ctx); err != nil {
		return nil, err
	}
	return &batcher{profile: p, src: src, asOf: asOf, spool: s, open: map[sipKey]*openSIP{}, dicts: map[string][]byte{}}, nil
}

// Archived says whether an earlier run archived the dossier at this tier.
// The dossiers this run adds are never asked about again (a dossier comes once per run), so a
// class and tier the state holds nothing of when first asked stays so for the run's questions.
func (a *batcher) Archived(ctx context.Context, class string, tier retention.Tier, key string) (bool, error) {
	k := sipKey{class, tier}
	a.noneMu.Lock()
	none, known := a.none[k]
	a.noneMu.Unlock()
	if !known {
		some, err := a.spool.state.AnyArchived(ctx, a.profile.Name, class, string(tier))
		if err != nil {
			return false, err
		}
		none = !some
		a.noneMu.Lock()
		if a.none == nil {
			a.none = map[sipKey]bool{}
		}
		a.none[k] = none
		a.noneMu.Unlock()
	}
	if none {
		return false, nil
	}
	sip, err := a.spool.state.Archived(ctx, a.profile.Name, class, string(tier), key)
	return sip != "", err
}

// Bytes is the size of the SIPs sent so far.
func (a *batcher) Bytes() int64 { return a.spool.bytes.Load() }

// Archive adds one dossier to the open SIP of its class and tier.
func (a *batcher) Archive(ctx context.Context, it *Item) error {
	k := sipKey{it.Class.Name, it.Tier}
	d := sip.Dossier{Data: it.Dossier, Key: it.Key, Decision: it.Decision, Description: it.Description}
	o := a.open[k]
	if o != nil && o.b.Dossiers() > 0 {
		cost, err := o.b.Cost(ctx, d)
		if err != nil {
			a.abort(o)
			return err
		}
		if o.b.Size()+cost > a.profile.MaxBytes() {
			if err := a.finish(ctx, o); err != nil {
				return err
			}
			o = nil
		}
	}
	if o == nil {
		var err error
		if o, err = a.start(ctx, it.Class, it.Tier); err != nil {
			return err
		}
	}
	if err := o.b.Add(ctx, d); err != nil {
		a.abort(o)
		return err
	}
	if o.b.Dossiers() >= a.profile.MaxDossiers() {
		return a.finish(ctx, o)
	}
	return nil
}

func (a *batcher) start(ctx context.Context, c *profiles.Class, tier retention.Tier) (*openSIP, error) {
	dict, ok := a.dicts[c.Name]
	if !ok {
		var err error
		if dict, err = sip.Dictionary(ctx, a.profile, c, a.src); err != nil {
			return nil, err
		}
		a.dicts[c.Name] = dict
	}
	f, err := a.spool.create(c.Name, tier)
	if err != nil {
		return nil, err
	}
	b, err := sip.NewBuilder(f.w, sip.Spec{Profile: a.profile, Class: c, Tier: tier, AsOf: a.asOf, Dictionary: dict, TempDir: a.spool.tmpDir()})
	if err != nil {
		a.spool.discard(f)
		return nil, err
	}
	o := &openSIP{key: sipKey{c.Name, tier}, b: b, file: f}
	a.open[o.key] = o
	return o, nil
}

// abort abandons an open SIP after an error while writing it.
func (a *batcher) abort(o *openSIP) {
	o.b.Abort()
	a.spool.discard(o.file)
	delete(a.open, o.key)
}

// finish closes an open SIP and hands it to the spool.
func (a *batcher) finish(ctx context.Context, o *openSIP) error {
	delete(a.open, o.key)
	r, err := o.b.Close()
	if err != nil {
		a.spool.discard(o.file)
		return fmt.Errorf("SIP of class %s, tier %s: %w", o.key.class, o.key.tier, err)
	}
	return a.spool.commit(ctx, o.file, r, o.b.Keys(), o.b.Units())
}

// Close finishes the open SIPs in class and tier order, or discards them, and reports every SIP
// the run sent. Run discards after a failure or a cancellation: a SIP cut short would not be the
// one an uninterrupted run writes, and the next run rebuilds it whole.
func (a *batcher) Close(ctx context.Context, discard bool) ([]SIP, error) {
	var errs []error
	keys := make([]sipKey, 0, len(a.open))
	for k := range a.open {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y sipKey) int {
		if x.class != y.class {
			if x.class < y.class {
				return -1
			}
			return 1
		}
		return tierOrder(x.tier) - tierOrder(y.tier)
	})
	for _, k := range keys {
		if discard {
			a.abort(a.open[k])
		} else if err := a.finish(ctx, a.open[k]); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, a.spool.rejected...)
	errs = append(errs, a.spool.waitIndexed())
	return a.spool.sent, errors.Join(errs...)
}

// SpoolDamaged lists the spooled SIPs found not matching their record.
func (a *batcher) SpoolDamaged() []SpoolDamaged { return a.spool.damaged }
