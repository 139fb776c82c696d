package deposit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/transfer/ledger"
)

// sipService is a service whose establishment's ids are those of the SIP at path.
func sipService(t *testing.T, path, target, state string) *Service {
	t.Helper()
	v, err := manifestIDs(path, "manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	job := func(*profiles.Profile) pipeline.JobSpec { return pipeline.JobSpec{Target: target, State: state} }
	s, err := Open(context.Background(), Config{Establishment: "univ-a", Dir: t.TempDir(), Profile: builtinProfile,
		OriginatingAgency: first(v.orig), SubmissionAgency: first(v.sub), ArchivalAgreement: v.contract,
		Job: job, SIPJob: func() pipeline.JobSpec { return job(nil) }, XSDDir: xsdDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func xsdDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(testsvc.ModuleRoot(t), "..", "shared", "seda-xsd")
	if _, err := os.Stat(d); err != nil {
		if testsvc.InCI() {
			t.Fatalf("the official XSDs are absent: %v", err)
		}
		return ""
	}
	return d
}

func TestSubmitSIP(t *testing.T) {
	ctx := context.Background()
	runOut, _ := demoRun(t)
	name, _ := sipWithLOB(t, runOut)
	data, err := os.ReadFile(filepath.Join(runOut, name))
	if err != nil {
		t.Fatal(err)
	}
	out, state := t.TempDir(), t.TempDir()
	s := sipService(t, filepath.Join(runOut, name), "dir://"+out, state)
	if s.cfg.ArchivalAgreement == "" || s.cfg.OriginatingAgency == "" {
		t.Fatalf("the demo SIP names no contract or agency: %+v", s.cfg)
	}

	// A damaged SIP: refused with its findings, nothing sent.
	bad := bytes.Clone(data)
	bad[len(bad)/3] ^= 0x20 // inside a dossier's data
	_, err = s.SubmitSIP(ctx, bytes.NewReader(bad), "client")
	e := wantError(t, err, Unprocessable, "sip", "the SIP is refused: nothing was sent")
	if len(e.Findings) == 0 {
		t.Error("a damaged SIP refused without findings")
	}
	t.Logf("findings: %v", e.Findings)
	// Not the establishment's contract.
	own := s.cfg.ArchivalAgreement
	s.cfg.ArchivalAgreement = "IC-OTHER"
	_, err = s.SubmitSIP(ctx, bytes.NewReader(data), "client")
	wantError(t, err, Unprocessable, "header.archival_agreement", `the SIP's ArchivalAgreement "`+own+`" is not establishment univ-a's ("IC-OTHER")`)
	s.cfg.ArchivalAgreement = own
	// Too large.
	s.lim.MaxSIPBytes = 1000
	_, err = s.SubmitSIP(ctx, bytes.NewReader(data), "client")
	wantError(t, err, TooLarge, "sip", "a SIP larger than 1000 bytes")
	s.lim.MaxSIPBytes = 1 << 30
	if m, _ := filepath.Glob(filepath.Join(out, "*")); len(m) != 0 {
		t.Fatalf("refused SIPs reached the target: %v", m)
	}

	tx, err := s.SubmitSIP(ctx, bytes.NewReader(data), "client")
	if err != nil {
		t.Fatal(err)
	}
	s.Wait()
	tx, _ = s.Get(ctx, tx.ID)
	if tx.State != StateDone || tx.Kind != KindSIP || tx.Units == 0 || len(tx.SIPs) != 1 || tx.SIPs[0].SHA256 != hexSum(data) || tx.SIPs[0].Status != "stored" {
		t.Fatalf("after processing: %+v", tx)
	}
	got, err := os.ReadFile(filepath.Join(out, tx.SIPs[0].Name))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the target's SIP differs from the submitted one (%v)", err)
	}
	// Submitted again: the same transaction, nothing sent again.
	again, err := s.SubmitSIP(ctx, bytes.NewReader(data), "client")
	if err != nil || again.ID != tx.ID {
		t.Fatalf("second submission: %v %v, want %s", again.ID, err, tx.ID)
	}
	if err := s.Process(ctx, tx.ID); err != nil {
		t.Fatal(err)
	}
	lp := filepath.Join(state, "ledger.jsonl")
	var entries []ledger.Entry
	if _, err := ledger.Read(lp, func(e ledger.Entry) { entries = append(entries, e) }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].SIP != tx.SIPs[0].Name || entries[0].SHA256 != hexSum(data) {
		t.Fatalf("ledger %+v", entries)
	}
	a, err := ledger.VerifyWith(ctx, lp, ledger.VerifyOptions{})
	if err != nil || !a.OK() {
		t.Fatalf("ledger verify: %+v %v", a, err)
	}
	var events []string
	if _, err := VerifyJournal(ctx, s.cfg.Dir, func(e Event) { events = append(events, e.Event) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(events, ",") != "submit,processed" {
		t.Errorf("journal %v", events)
	}
}
