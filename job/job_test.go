package job

import (
	"errors"
	"reflect"
	"testing"

	"github.com/versement/versement/retention"
)

func TestBuildDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []retention.Tier
	}{
		{"both targets", Options{Targets: map[string]string{"intermediate": "dir:///i", "final": "dir:///f"}}, []retention.Tier{retention.Intermediate, retention.Final}},
		{"the tiers given a target", Options{Targets: map[string]string{"final": "dir:///f"}}, []retention.Tier{retention.Final}},
		{"dry run without targets", Options{DryRun: true}, []retention.Tier{retention.Intermediate, retention.Final}},
		{"tiers as given, once each", Options{DryRun: true, Tiers: []string{"held", " final", "held"}}, []retention.Tier{retention.Held, retention.Final}},
	} {
		tc.o.Profile, tc.o.Source, tc.o.State = "apogee", "sqlite:x.db", "state"
		j, err := Build(tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(j.Spec.Tiers, tc.want) {
			t.Errorf("%s: tiers %v, want %v", tc.name, j.Spec.Tiers, tc.want)
		}
		if j.Spec.Transfer.Retries != 0 || j.Spec.MaxBytes != 0 || j.Spec.ObjectLock != "" {
			t.Errorf("%s: not the defaults: %+v", tc.name, j.Spec)
		}
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		given *int
		want  int
	}{{nil, 0}, {ptr(0), -1}, {ptr(3), 3}} {
		j, err := Build(Options{Profile: "apogee", Source: "sqlite:x.db", DryRun: true, Transfer: Transfer{Retries: tc.given}})
		if err != nil {
			t.Fatal(err)
		}
		if j.Spec.Transfer.Retries != tc.want {
			t.Errorf("retries %v: targets.Options.Retries %d, want %d", tc.given, j.Spec.Transfer.Retries, tc.want)
		}
	}
}

func ptr(n int) *int { return &n }

func TestMissingIsSaidApart(t *testing.T) {
	_, err := Build(Options{Profile: "apogee", Source: "sqlite:x.db"})
	var fe *FieldError
	if !errors.Is(err, ErrNoTarget) || !errors.As(err, &fe) || fe.Field != "targets" {
		t.Errorf("no target: %v", err)
	}
	_, err = Build(Options{Profile: "apogee", Source: "sqlite:x.db", Tiers: []string{"final"}, Targets: map[string]string{"intermediate": "dir:///i"}})
	if !errors.Is(err, ErrNoTarget) || !errors.As(err, &fe) || fe.Field != "targets.final" {
		t.Errorf("no final target: %v", err)
	}
	// No source: the profile's.
	if j, err := Build(Options{Profile: "apogee", DryRun: true}); err != nil || j.Spec.Source != DefaultSource(j.Spec.Profile) || j.Spec.Source == "" {
		t.Errorf("the profile's source: %v", err)
	}
}

func TestCloneSharesNothing(t *testing.T) {
	o := Options{Targets: map[string]string{"final": "a"}, Tiers: []string{"final"}, Classes: []string{"c"}, Transfer: Transfer{Retries: ptr(1)}}
	c := o.Clone()
	c.Targets["final"], c.Tiers[0], c.Classes[0], *c.Transfer.Retries = "b", "held", "d", 2
	if o.Targets["final"] != "a" || o.Tiers[0] != "final" || o.Classes[0] != "c" || *o.Transfer.Retries != 1 {
		t.Errorf("the clone shares with the original: %+v", o)
	}
}
