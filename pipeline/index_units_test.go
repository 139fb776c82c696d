package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/versement/versement/index"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
)

// unitsChecker is the run's indexer in TestIndexUnitsAreTheManifests: for every SIP it is handed
// the builder's units for, it makes the index entries both ways, from the units and from the
// manifest of the spooled file, and keeps any difference.
type unitsChecker struct {
	t       *testing.T
	ends    func(rule, start string) string
	sips    int
	entries int
}

func (c *unitsChecker) IndexSIP(ctx context.Context, s transfer.SIP, r transfer.Receipt) error {
	c.t.Errorf("SIP %s was indexed from its manifest: the run built it, its units should have been used", s.Name)
	return nil
}

func (c *unitsChecker) IndexUnits(ctx context.Context, s transfer.SIP, r transfer.Receipt, units []sip.Unit) error {
	var fromUnits, fromManifest []index.Entry
	rec := func(dst *[]index.Entry) *index.Recorder {
		return &index.Recorder{Store: collect{dst}, Ends: c.ends}
	}
	if err := rec(&fromUnits).IndexUnits(ctx, s, r, units); err != nil {
		return err
	}
	if err := rec(&fromManifest).IndexSIP(ctx, s, r); err != nil {
		return err
	}
	a, _ := json.MarshalIndent(fromUnits, "", " ")
	b, _ := json.MarshalIndent(fromManifest, "", " ")
	if string(a) != string(b) {
		c.t.Errorf("SIP %s: the entries from the builder's units differ from those of its manifest\nunits:    %.3000s\nmanifest: %.3000s", s.Name, a, b)
	}
	c.sips++
	c.entries += len(fromUnits)
	return nil
}

// collect is an index.Store that keeps what it is given.
type collect struct{ dst *[]index.Entry }

func (c collect) Put(ctx context.Context, es ...index.Entry) error {
	*c.dst = append(*c.dst, es...)
	return nil
}
func (collect) Get(context.Context, string, string) (index.Entry, error) {
	return index.Entry{}, index.ErrNotFound
}
func (collect) Forget(context.Context, string, string) error { return nil }
func (collect) Search(context.Context, index.Query) ([]index.Match, error) {
	return nil, nil
}
func (collect) Count(context.Context) (int64, error) { return 0, nil }
func (collect) Close() error                         { return nil }

// A run indexes what it sends from its builders' units, not by parsing each manifest again: on
// the demo base (dirty texts, invalid UTF-8, 100 kB comments, NULL dates, photos), every SIP's
// entries from the units are exactly those its manifest gives.
func TestIndexUnitsAreTheManifests(t *testing.T) {
	p := builtin(t, "apogee")
	dir := t.TempDir()
	c := &unitsChecker{t: t, ends: RuleEnds(p)}
	rep, err := Execute(context.Background(), JobSpec{Profile: p, Source: "sqlite:" + demoDB(t), Target: "dir://" + filepath.Join(dir, "out"),
		State: filepath.Join(dir, "state"), AsOf: e2eAsOf, MaxDossiers: e2eBatch, Index: c})
	if err != nil {
		t.Fatal(err)
	}
	if c.sips == 0 || c.sips != len(rep.SIPs) || int64(c.entries) != rep.Archived {
		t.Fatalf("%d SIPs and %d entries checked; the run sent %d SIPs of %d dossiers", c.sips, c.entries, len(rep.SIPs), rep.Archived)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "spool")); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d SIPs, %d entries: the same from the units as from the manifests", c.sips, c.entries)
}
