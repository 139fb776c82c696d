package deposit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

// profileFor is the transaction's profile and class, or the referential error naming the field.
func (s *Service) profileFor(h Header) (*profiles.Profile, *profiles.Class, error) {
	p, err := s.cfg.Profile(h.Profile)
	if err != nil || p == nil {
		return nil, nil, errorf(Unprocessable, "header.profile", "establishment %s has no profile %q", s.cfg.Establishment, h.Profile)
	}
	c := p.Class(h.Class)
	if c == nil {
		var names []string
		for _, c := range p.Classes {
			names = append(names, c.Name)
		}
		return nil, nil, errorf(Unprocessable, "header.class", "profile %s has no class %q (its classes: %s)", p.Name, h.Class, strings.Join(names, ", "))
	}
	if sch := p.Schedule(); sch == nil {
		return nil, nil, errorf(Unprocessable, "header.class", "profile %s has no retention schedule to decide class %s", p.Name, c.Name)
	} else if _, ok := sch.Rule(c.Rule); !ok {
		return nil, nil, errorf(Unprocessable, "header.class", "class %s's retention rule %s is not in the schedule %s", c.Name, c.Rule, sch.Name)
	}
	return p, c, nil
}

// checkAgencies refuses agencies and a contract that are not the establishment's own: an empty
// header value is the establishment's.
func (s *Service) checkAgencies(p *profiles.Profile, orig, sub, contract string, what string) error {
	for _, f := range []struct{ field, got, own, fallback string }{
		{"header.originating_agency", orig, s.cfg.OriginatingAgency, p.SEDA.OriginatingAgency},
		{"header.submission_agency", sub, s.cfg.SubmissionAgency, p.SEDA.SubmissionAgency},
		{"header.archival_agreement", contract, s.cfg.ArchivalAgreement, p.SEDA.ArchivalAgreement},
	} {
		own := f.own
		if own == "" {
			own = f.fallback
		}
		if f.got != "" && f.got != own {
			return errorf(Unprocessable, f.field, "%s %q is not establishment %s's (%q)", what, f.got, s.cfg.Establishment, own)
		}
	}
	return nil
}

// Close checks the transaction against the establishment's referentials — profile, class and its
// rule, agencies, contract, the units' class, every object they name uploaded and complete —
// then queues it. Nothing reaches the archive before these checks pass. A failed transaction
// may be closed again: a retry.
func (s *Service) Close(ctx context.Context, id, by string) (Transaction, error) {
	// Without the lock first: a worker holds it for as long as it processes the transaction.
	if rec, err := s.load(id); err != nil {
		return Transaction{}, err
	} else if rec.State == StateProcessing || rec.State == StateDone {
		return s.view(rec) // closing twice is a client's retry
	}
	rec, unlock, err := s.lockTx(ctx, id, lockWait)
	if err != nil {
		return Transaction{}, err
	}
	defer unlock()
	switch rec.State {
	case StateProcessing, StateDone:
		return s.view(rec)
	case StateQueued:
		// A retry, maybe after an enqueue that failed: enqueueing again is harmless, Process
		// being idempotent and taking the transaction's lock.
		if err := s.dispatch(ctx, id); err != nil {
			return Transaction{}, err
		}
		return s.view(rec)
	}
	if rec.Kind == KindUnits {
		if err := s.checkUnits(rec); err != nil {
			return Transaction{}, err
		}
	}
	rec.State, rec.Error = StateQueued, nil
	if err := s.save(rec); err != nil {
		return Transaction{}, err
	}
	if err := s.journal(ctx, Event{Event: EventClose, Tx: id, By: by, Units: rec.Units, State: string(StateQueued)}); err != nil {
		return Transaction{}, err
	}
	if err := s.dispatch(ctx, id); err != nil {
		return Transaction{}, err
	}
	return s.view(rec)
}

// dispatch hands a queued transaction to a worker, or processes it in the background.
func (s *Service) dispatch(ctx context.Context, id string) error {
	if s.cfg.Enqueue != nil {
		if err := s.cfg.Enqueue(ctx, id); err != nil {
			return fmt.Errorf("deposit %s: transaction %s: enqueue: %w", s.cfg.Establishment, id, err)
		}
		return nil
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := s.Process(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("deposit processing failed", "tx", id, "err", err)
		}
	}()
	return nil
}

func (s *Service) checkUnits(rec *record) error {
	h := rec.Header
	p, c, err := s.profileFor(h)
	if err != nil {
		return err
	}
	known := []string{c.Root.Table}
	for _, ch := range c.Children {
		known = append(known, ch.Table)
	}
	if err := s.checkAgencies(p, h.OriginatingAgency, h.SubmissionAgency, h.ArchivalAgreement, "agency or contract"); err != nil {
		return err
	}
	idx, _, err := s.readIndex(rec.ID)
	if err != nil {
		return err
	}
	if len(idx) == 0 {
		return errorf(Unprocessable, "units", "the transaction holds no units")
	}
	objs, err := s.objects(rec.ID)
	if err != nil {
		return err
	}
	byName := map[string]Object{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	named := map[string]bool{}
	for i, e := range idx {
		if e.Class != h.Class {
			return errorf(Unprocessable, fmt.Sprintf("units[%d].class", i), "a dossier of class %q in a transaction of class %q", e.Class, h.Class)
		}
		if err := checkTables(e.Tables, known, c.Name, i); err != nil {
			return err
		}
		for _, ref := range e.Objects {
			named[ref.Name] = true
			o, ok := byName[ref.Name]
			switch {
			case !ok:
				return errorf(Unprocessable, "objects/"+ref.Name, "named by units[%d] but not uploaded", i)
			case !o.Complete:
				return errorf(Unprocessable, "objects/"+ref.Name, "named by units[%d] but incomplete: %d of %d bytes received", i, o.Received, o.Size)
			case ref.Size >= 0 && ref.Size != o.Size:
				return errorf(Unprocessable, "objects/"+ref.Name, "units[%d] says %d bytes, the object has %d", i, ref.Size, o.Size)
			}
		}
	}
	// An object no dossier names would not be archived: the depositor meant it for some dossier
	// and misspelt a name, or forgot a unit. Silently dropping it loses a document.
	for _, o := range objs {
		if !named[o.Name] {
			return errorf(Unprocessable, "objects/"+o.Name, "uploaded but named by no unit: it would not be archived (name it in a dossier's document, as {\"object\": %q})", o.Name)
		}
	}
	return nil
}

// Process builds, verifies, sends and records a queued transaction, as a worker does: a units
// transaction through pipeline.Execute (the run's path: decision, SIPs, verification, target,
// state, ledger, index), a SIP one through the ledger to the target. It is idempotent and resumes
// after a kill: the pipeline's state and the ledger know what was sent, and nothing is sent twice.
// A done transaction is left as it is.
func (s *Service) Process(ctx context.Context, id string) error {
	rec, unlock, err := s.lockTx(ctx, id, 0)
	if err != nil {
		return err
	}
	defer unlock()
	switch rec.State {
	case StateDone:
		return s.purge(id) // a kill between done and the purge left the payload
	case StateOpen:
		return errorf(Conflict, "", "transaction %s is open: close it first", id)
	}
	rec.State = StateProcessing
	if err := s.save(rec); err != nil {
		return err
	}
	var perr error
	if rec.Kind == KindSIP {
		perr = s.processSIP(ctx, rec)
	} else {
		perr = s.processUnits(ctx, rec)
	}
	if perr != nil {
		if errors.Is(perr, context.Canceled) {
			// Stopped at a safe point (a worker shutting down): queued again, not failed.
			rec.State = StateQueued
			_ = s.save(rec)
			return perr
		}
		var de *Error
		if !errors.As(perr, &de) {
			de = &Error{Kind: Unprocessable, Msg: perr.Error()}
		}
		rec.State, rec.Error = StateFailed, de
		if err := s.save(rec); err != nil {
			return errors.Join(perr, err)
		}
		if err := s.journal(ctx, Event{Event: EventFailed, Tx: id, State: string(StateFailed), Error: de.Error()}); err != nil {
			return errors.Join(perr, err)
		}
		return perr
	}
	rec.State, rec.Error = StateDone, nil
	if err := s.save(rec); err != nil {
		return err
	}
	var names []string
	for _, r := range rec.SIPs {
		names = append(names, r.Name)
	}
	s.log.Info("deposit processed", "tx", id, "sips", len(rec.SIPs))
	if err := s.journal(ctx, Event{Event: EventProcessed, Tx: id, State: string(StateDone), Units: rec.Units, SIPs: names}); err != nil {
		return err
	}
	return s.purge(id)
}

// purge removes a done transaction's payload from the staging folder: the dossier documents,
// the objects' bytes and a submitted SIP. The archive holds them now, every SIP checked and in
// the ledger; a copy of personal data kept here would outlive its purpose (GDPR art. 5(1)(c)
// and (e)) and escape the archive's access rules and eliminations. What stays is the record:
// the transaction, each object's name, size and digest, the ATR and the journal.
func (s *Service) purge(id string) error {
	dir := s.txDir(id)
	data, _ := filepath.Glob(filepath.Join(dir, "objects", "*.data"))
	var errs []error
	for _, f := range append(data, filepath.Join(dir, "units.ndjson"), filepath.Join(dir, "units.idx"), s.sipPath(id)) {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("deposit %s: transaction %s is done, but its staging copy could not all be removed: %w", s.cfg.Establishment, id, err)
	}
	return nil
}

// processUnits runs the transaction's units through pipeline.Execute. Process holds the
// establishment's process lock meanwhile: the pipeline's state folder takes one run at a time
// and refuses a second at once, so transactions of one establishment are processed in turn.
func (s *Service) processUnits(ctx context.Context, rec *record) error {
	h := rec.Header
	p, c, err := s.profileFor(h)
	if err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(s.cfg.Dir, "process.lock"), 0)
	if err != nil {
		return err
	}
	defer unlock()
	src, err := s.openSource(ctx, rec)
	if err != nil {
		return err
	}
	job := s.cfg.Job(p)
	job.Profile, job.SourceConn, job.Classes, job.Source = p, src, []string{c.Name}, ""
	atrDir := filepath.Join(s.txDir(rec.ID), "atr")
	next := job.OnSIP
	job.OnSIP = func(sp pipeline.SIP) {
		ref := SIPRef{Name: sp.Name, SHA256: sp.Digest, Bytes: sp.Bytes, Tier: string(sp.Tier), Dossiers: sp.Dossiers,
			Target: sp.Target, Status: statusOf(sp)}
		if len(sp.Receipt.ATR) > 0 {
			if err := os.MkdirAll(atrDir, 0o750); err == nil && os.WriteFile(filepath.Join(atrDir, sipFileName(sp.Name)+".xml"), sp.Receipt.ATR, 0o600) == nil {
				ref.ATR = true
			}
		}
		// Saved at once: a rerun after a crash sends nothing again, so would not name it.
		rec.SIPs = mergeSIPs(rec.SIPs, []SIPRef{ref})
		if err := s.save(rec); err != nil {
			s.log.Warn("deposit: recording a SIP in the transaction", "tx", rec.ID, "sip", sp.Name, "err", err)
		}
		if next != nil {
			next(sp)
		}
	}
	rep, err := pipeline.Execute(ctx, job)
	if rep != nil {
		rec.Tiers = map[string]int64{}
		for t, n := range rep.Tiers {
			rec.Tiers[string(t)] = n
		}
	}
	if err != nil {
		return fmt.Errorf("deposit %s: transaction %s: %w", s.cfg.Establishment, rec.ID, err)
	}
	if rep != nil && rep.Archived == 0 && len(rec.SIPs) == 0 {
		s.log.Info("deposit: no dossier of the transaction is due for archiving (active, or to destroy)", "tx", rec.ID, "dossiers", rep.Dossiers)
	}
	return nil
}

// statusOf is the target's word on a SIP: stored, or VITAM's verdict.
func statusOf(sp pipeline.SIP) string {
	switch sp.Receipt.ReplyCode {
	case "":
		return "stored"
	case "OK", "WARNING":
		return "accepted"
	}
	return "rejected"
}

// mergeSIPs adds the SIPs of a new attempt to those of earlier ones, by name.
func mergeSIPs(old, add []SIPRef) []SIPRef {
	for _, a := range add {
		found := false
		for i := range old {
			if old[i].Name == a.Name {
				old[i], found = a, true
			}
		}
		if !found {
			old = append(old, a)
		}
	}
	return old
}

// sipFileName is a SIP's name as a file name of this folder.
func sipFileName(name string) string {
	return strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(strings.TrimSuffix(name, ".zip"))
}

// checkTables refuses a document whose first table is not the class's root, or that holds a
// table the class does not read: the rules and the title would not find what they read.
func checkTables(tables, known []string, class string, unit int) error {
	for j, t := range tables {
		ok := false
		for k, n := range known {
			if strings.EqualFold(t, n) && (j == 0) == (k == 0) {
				ok = true
			}
		}
		if !ok && j == 0 {
			return errorf(Unprocessable, fmt.Sprintf("units[%d].tables[0]", unit), "the first table is %s, not class %s's root table %s", t, class, known[0])
		}
		if !ok {
			return errorf(Unprocessable, fmt.Sprintf("units[%d].tables[%d]", unit, j), "table %s is not one of class %s's (%s)", t, class, strings.Join(known, ", "))
		}
	}
	return nil
}
