package dryrun_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/retry"
)

// bare is a target with no optional capability.
type bare struct{}

func (bare) Put(context.Context, transfer.SIP) (transfer.Receipt, error) {
	return transfer.Receipt{}, errors.New("a dry run must not send")
}
func (bare) Stat(_ context.Context, name string) (transfer.Object, error) {
	return transfer.Object{}, fmt.Errorf("%s: %w", name, transfer.ErrNotExist)
}
func (bare) List(context.Context, func(transfer.Object) error) error { return nil }
func (bare) String() string                                          { return "fake://" }
func (bare) Close() error                                            { return nil }

// The capabilities, to be mixed in.
type (
	resumes struct{}
	probes  struct{}
	indexes struct{}
)

func (resumes) Resume(_ context.Context, _ transfer.SIP, op string) (transfer.Receipt, error) {
	return transfer.Receipt{Operation: op}, nil
}
func (probes) Probe(context.Context) error { return nil }
func (indexes) IndexedByName()             {}

// combinations has one target for each set of the three optional capabilities.
func combinations() map[string]transfer.Target {
	return map[string]transfer.Target{
		"none": bare{},
		"resume": struct {
			bare
			resumes
		}{},
		"probe": struct {
			bare
			probes
		}{},
		"indexed": struct {
			bare
			indexes
		}{},
		"resume,probe": struct {
			bare
			resumes
			probes
		}{},
		"resume,indexed": struct {
			bare
			resumes
			indexes
		}{},
		"probe,indexed": struct {
			bare
			probes
			indexes
		}{},
		"resume,probe,indexed": struct {
			bare
			resumes
			probes
			indexes
		}{},
	}
}

func has[T any](t transfer.Target) bool { _, ok := transfer.As[T](t); return ok }

// Wrapped in dry run, in retries, or both, a target answers every capability lookup as it does
// bare: a decorator claims nothing the target lacks, and hides nothing it has.
func TestDecoratorsReportCapabilitiesHonestly(t *testing.T) {
	for name, inner := range combinations() {
		for dname, wrap := range map[string]func(transfer.Target) transfer.Target{
			"dryrun":       dryrun.Wrap,
			"retry":        func(t transfer.Target) transfer.Target { return retry.Wrap(t, retry.Policy{}) },
			"retry+dryrun": func(t transfer.Target) transfer.Target { return retry.Wrap(dryrun.Wrap(t), retry.Policy{}) },
		} {
			tg := wrap(inner)
			for cname, got := range map[string][2]bool{
				"Resumer": {has[transfer.Resumer](inner), has[transfer.Resumer](tg)},
				"Prober":  {has[transfer.Prober](inner), has[transfer.Prober](tg)},
				"Indexed": {has[transfer.Indexed](inner), has[transfer.Indexed](tg)},
			} {
				if got[0] != got[1] {
					t.Errorf("%s in %s: As[%s] is %v bare, %v wrapped", name, dname, cname, got[0], got[1])
				}
			}
			// Resume is the one capability the decorators implement themselves (it is what a
			// type assertion on the outer target sees): exactly when the inner target has it.
			if _, ok := tg.(transfer.Resumer); ok != has[transfer.Resumer](inner) {
				t.Errorf("%s in %s: the decorator's own Resumer is %v, the target's %v", name, dname, ok, !ok)
			}
			if r, ok := transfer.As[transfer.Resumer](tg); ok {
				if rc, err := r.Resume(context.Background(), transfer.SIP{Name: "a"}, "op-7"); err != nil || rc.Operation != "op-7" {
					t.Errorf("%s in %s: Resume: %+v %v", name, dname, rc, err)
				}
			}
			if u, ok := tg.(interface{ Unwrap() transfer.Target }); !ok || u.Unwrap() == nil {
				t.Errorf("%s in %s: no Unwrap", name, dname)
			}
		}
	}
}
