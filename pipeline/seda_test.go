package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/extract/demo"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
)

// unarchived is the part of a test Archiver that says nothing is archived yet and nothing sent.
type unarchived struct{}

func (unarchived) Archived(context.Context, string, retention.Tier, string) (bool, error) {
	return false, nil
}
func (unarchived) Bytes() int64 { return 0 }

// sipArchiver is a minimal packaging stage, written in this test to prove that what the plan hands
// over (Item: decision, description) maps onto valid SEDA: one SIP per class and tier, a Series
// unit holding one File unit per dossier with its JSON document. The real stage (batching, LOBs,
// targets, ledger) is the next one.
type sipArchiver struct {
	unarchived
	p    *profiles.Profile
	dir  string
	sips map[string]*testSIP
	keys map[string][]string
}

type testSIP struct {
	f    *os.File
	w    *seda.Writer
	path string
	sip  SIP
}

func (a *sipArchiver) Archive(_ context.Context, it *Item) error {
	id := fmt.Sprintf("%s-%s-%s", a.p.Name, it.Class.Name, it.Tier)
	s := a.sips[id]
	if s == nil {
		path := filepath.Join(a.dir, id+".zip")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w, err := seda.NewWriter(f, sip.Header(a.p, id, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)))
		if err != nil {
			return err
		}
		if _, err := w.OpenUnit(seda.Unit{Content: sip.Series(a.p, it.Class, it.Tier)}); err != nil {
			return err
		}
		s = &testSIP{f: f, w: w, path: path, sip: SIP{Record: sip.Record{ID: id, Class: it.Class.Name, Tier: it.Tier, FirstKey: it.Key}}}
		a.sips[id] = s
	}
	ow, err := s.w.CreateObject(seda.Object{Name: fmt.Sprintf("%s-%s.json", it.Class.Name, it.Key), MimeType: "application/json", FormatID: "fmt/817"})
	if err != nil {
		return err
	}
	if err := it.Dossier.WriteJSON(ow, nil); err != nil {
		return err
	}
	if err := ow.Close(); err != nil {
		return err
	}
	u := seda.Unit{Management: sip.Management(it.Decision, seda.Version(a.p.SEDA.Version)),
		Content: sip.Content(a.p, it.Key, it.Description), Groups: []seda.GroupID{ow.Group()}}
	if _, err := s.w.AddUnit(u); err != nil {
		return fmt.Errorf("dossier %s: %w", it.Key, err)
	}
	s.sip.Dossiers++
	s.sip.LastKey = it.Key
	a.keys[string(it.Tier)] = append(a.keys[string(it.Tier)], it.Key)
	return nil
}

func (a *sipArchiver) Close(context.Context, bool) ([]SIP, error) {
	var out []SIP
	for _, s := range a.sips {
		if err := s.w.CloseUnit(); err != nil {
			return out, err
		}
		sum, err := s.w.Close()
		if err != nil {
			return out, err
		}
		if err := s.f.Close(); err != nil {
			return out, err
		}
		s.sip.Bytes, s.sip.DigestAlgorithm, s.sip.Digest = sum.ZipSize, "SHA-256", sum.ZipSHA256
		s.sip.ManifestDigest, s.sip.Location = sum.ManifestSHA512, s.path
		out = append(out, s.sip)
	}
	return out, nil
}

func TestPlanToValidSIPs(t *testing.T) {
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	testsvc.Xmllint(t)
	for _, name := range []string{"apogee", "harpege"} {
		t.Run(name, func(t *testing.T) {
			p := builtin(t, name)
			src := openDemo(t)
			if name == "harpege" {
				path := filepath.Join(t.TempDir(), "harpege.db")
				if _, err := demo.CreateSQLite(context.Background(), path, demo.Options{Profile: demo.Harpege, Dossiers: 200, Seed: 2}); err != nil {
					t.Fatal(err)
				}
				var err error
				if src, err = extract.Open(context.Background(), "sqlite:"+path); err != nil {
					t.Fatal(err)
				}
				defer src.Close()
			}
			a := &sipArchiver{p: p, dir: t.TempDir(), sips: map[string]*testSIP{}, keys: map[string][]string{}}
			asOf := civil.Date{Year: 2026, Month: 11, Day: 30}
			rep, err := Run(context.Background(), Config{Profile: p, Source: src, AsOf: asOf, Archiver: a})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.SIPs) != 2 || rep.Bytes == 0 {
				t.Fatalf("SIPs: %+v", rep.SIPs)
			}
			for _, s := range rep.SIPs {
				if int64(s.Dossiers) != rep.Tiers[s.Tier] || (s.Tier != retention.Intermediate && s.Tier != retention.Final) {
					t.Errorf("SIP %s holds %d dossiers, the plan counts %d %s", s.ID, s.Dossiers, rep.Tiers[s.Tier], s.Tier)
				}
				vr, err := seda.Verify(context.Background(), s.Location, seda.VerifyOptions{XSDDir: xsdDir})
				if err != nil {
					t.Fatal(err)
				}
				if !vr.OK() {
					t.Errorf("SIP %s does not verify: %+v", s.ID, vr.Findings)
				}
			}
		})
	}
}
