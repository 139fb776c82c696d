package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/jobs"
	"github.com/versement/versement/nightly"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/platform"
	"github.com/versement/versement/profiles"
)

// depositServices are the deposit services of a platform's establishments, by establishment id.
type depositServices map[string]*deposit.Service

// openDeposits opens the deposit service of every establishment of the platform. Each keeps its
// transactions in its own state folder (STATE/deposits) and builds, sends and records them with its
// own profiles, targets, state and ledger: nothing of one is reachable through another's. A close
// goes to enqueue (a worker then processes it), or, with enqueue nil, is processed by this process
// in the background. An establishment whose service cannot be opened is in failed, with the
// reason, and logged: it stops no other.
func openDeposits(ctx context.Context, pf *platform.Config, enqueue func(ctx context.Context, est, tx string) error, xsdDir string, log *slog.Logger) (ok depositServices, failed map[string]error) {
	ok, failed = depositServices{}, map[string]error{}
	for _, e := range pf.Establishments() {
		if e.Targets["intermediate"] == "" && e.Targets["final"] == "" {
			failed[e.ID] = fmt.Errorf("establishment %s has no targets in %s: a deposit is sent where the establishment's runs send theirs (targets: intermediate, final)", e.ID, pf.File)
			log.Error("deposits unavailable", "establishment", e.ID, "err", failed[e.ID])
			continue
		}
		elog := log.With("establishment", e.ID)
		cfg := deposit.Config{
			Establishment:     e.ID,
			Dir:               filepath.Join(e.State, "deposits"),
			Profile:           e.Profile,
			OriginatingAgency: e.SEDA.OriginatingAgency,
			SubmissionAgency:  e.SEDA.SubmissionAgency,
			ArchivalAgreement: e.SEDA.ArchivalAgreement,
			Job:               func(*profiles.Profile) pipeline.JobSpec { return depositJob(e, elog) },
			XSDDir:            xsdDir,
			Log:               elog,
		}
		if enqueue != nil {
			id := e.ID
			cfg.Enqueue = func(ctx context.Context, tx string) error { return enqueue(ctx, id, tx) }
		}
		s, err := deposit.Open(ctx, cfg)
		if err != nil {
			failed[e.ID] = fmt.Errorf("establishment %s: deposits: %w", e.ID, err)
			log.Error("deposits unavailable", "establishment", e.ID, "err", failed[e.ID])
			continue
		}
		ok[e.ID] = s
	}
	return ok, failed
}

// unavailableDeposits stands for an establishment whose deposit service could not be opened:
// every call fails with the reason (the API answers 500 and logs it; a worker's job is retried
// later), and the other establishments go on.
type unavailableDeposits struct{ err error }

func (u unavailableDeposits) Create(context.Context, deposit.Header, string) (deposit.Transaction, error) {
	return deposit.Transaction{}, u.err
}
func (u unavailableDeposits) Get(context.Context, string) (deposit.Transaction, error) {
	return deposit.Transaction{}, u.err
}
func (u unavailableDeposits) AddUnits(context.Context, string, io.Reader, string) (int, error) {
	return 0, u.err
}
func (u unavailableDeposits) PutChunk(context.Context, string, deposit.Chunk, io.Reader) (deposit.Object, error) {
	return deposit.Object{}, u.err
}
func (u unavailableDeposits) Object(context.Context, string, string) (deposit.Object, error) {
	return deposit.Object{}, u.err
}
func (u unavailableDeposits) Close(context.Context, string, string) (deposit.Transaction, error) {
	return deposit.Transaction{}, u.err
}
func (u unavailableDeposits) ATR(context.Context, string) (io.ReadCloser, error) { return nil, u.err }
func (u unavailableDeposits) SubmitSIP(context.Context, io.Reader, string) (deposit.Transaction, error) {
	return deposit.Transaction{}, u.err
}
func (u unavailableDeposits) Process(context.Context, string) error { return u.err }

// depositJob is where an establishment's deposits go: its targets, state and ledger, as its runs.
func depositJob(e *platform.Establishment, log *slog.Logger) pipeline.JobSpec {
	return pipeline.JobSpec{TargetIntermediate: e.Targets["intermediate"], TargetFinal: e.Targets["final"],
		State: e.State, Ledger: e.Ledger, Lang: lang.FromEnv(""), Log: log}
}

// Release waits for the processing under way and lets go of the journals.
func (d depositServices) Release() {
	for _, s := range d {
		s.Release()
	}
}

// establishmentLock is the lock the jobs of one establishment take in turn across all the
// workers (runHandler): its state and ledger are one process's at a time, and a deposit is
// processed through them like a run.
func establishmentLock(e *platform.Establishment) string {
	return filepath.Join(e.State, "schedule", "establishment.lock")
}

// lockedProcessor processes a deposit under its establishment's lock. It waits up to
// depositLockWait for it, since another deposit of the establishment is a matter of seconds,
// then says Busy (a nightly run holds it): the queue tries it again later without counting an
// attempt. Snoozing at once made deposits closed together wait the queue's busy delay (a minute)
// each behind the first.
type lockedProcessor struct {
	est *platform.Establishment
	s   depositProcessor
}

const depositLockWait = 30 * time.Second

func (l lockedProcessor) Process(ctx context.Context, tx string) error {
	path := establishmentLock(l.est)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	deadline := time.Now().Add(depositLockWait)
	for {
		lock, err := nightly.TryLock(path)
		if err == nil {
			defer lock.Unlock()
			return l.s.Process(ctx, tx)
		}
		if !errors.Is(err, nightly.ErrLocked) {
			return err
		}
		if time.Now().After(deadline) {
			return jobs.Busy(fmt.Errorf("another job of establishment %s is running: %w", l.est.ID, err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
