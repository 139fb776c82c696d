package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
)

// spool is the crash-safe path of a SIP from its first byte to the archive. A SIP is written as
// NAME.part, synced and renamed to its final name, then its dossiers are recorded in the state
// (spooled), then it is verified, sent through the ledger, marked sent and removed. Each step is
// undone or finished by reconcile at the next run, whichever point a crash stops it at: the crash
// table of docs/pipeline.md goes through them one by one.
type spool struct {
	dir     string
	profile string
	state   *State
	ledger  *ledger.Ledger
	// targets per archived tier (intermediate, final; active dossiers of a decommission run go to
	// intermediate).
	targets map[retention.Tier]transfer.Target
	// objectLock, "COMPLIANCE" or "GOVERNANCE", asks the target (S3) to lock each SIP until its
	// Record.RetainUntil, and to put a legal hold on a SIP holding a held dossier. Empty: no lock.
	objectLock string
	log        *slog.Logger
	onSIP      func(SIP)
	// index learns where each dossier of a sent SIP is (nil: no consultation index). A worker
	// indexes the SIPs sent while the run goes on: a sent SIP's file stays in the spool until it
	// is indexed, and reconcile indexes those a crash left there.
	index   Indexer
	idx     chan indexJob
	idxDone chan struct{}
	idxMu   sync.Mutex
	idxErrs []error

	sent []SIP
	// rejected are the SIPs the archive refused (a VITAM KO): they stay in the spool, the run goes
	// on with the others and ends in error, and the next run sends them again — once the archivist
	// has fixed what the ATR names (a contract, an agency), the same bytes are accepted.
	rejected []error
	damaged  []SpoolDamaged
	bytes    atomic.Int64
}

// Indexer records, for consultation, where each dossier of a SIP now at a target is. IndexSIP is
// given the SIP as sent (Path is the spooled file, still there) and the target's receipt; it is
// called again with the same SIP after a crash, so it must be idempotent.
type Indexer interface {
	IndexSIP(ctx context.Context, sip transfer.SIP, r transfer.Receipt) error
}

// UnitIndexer is an Indexer that can take a SIP's dossier units as its builder wrote them
// (sip.Builder.Units), equal to what reading its manifest gives, instead of reading the manifest:
// the run's index worker parsed every manifest a second time, 16 % of a 100k run's CPU.
type UnitIndexer interface {
	IndexUnits(ctx context.Context, s transfer.SIP, r transfer.Receipt, units []sip.Unit) error
}

// spoolFile is a SIP being written in the spool.
type spoolFile struct {
	tmp string
	f   *os.File
	w   *bufio.Writer
}

// openSpool opens the spool folder and clears what an interrupted run left in spool/tmp (the SEDA
// writer's spill files, junk once their writer is gone).
func openSpool(s *spool) error {
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(s.tmpDir(), 0o755); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

func (s *spool) tmpDir() string { return filepath.Join(s.dir, "tmp") }

// create starts the file of the open SIP of a class and tier (one at a time per pair).
func (s *spool) create(class string, tier retention.Tier) (*spoolFile, error) {
	tmp := filepath.Join(s.dir, fmt.Sprintf("%s-%s-%s.part", s.profile, sip.FileSafe(class), tier))
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &spoolFile{tmp: tmp, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// discard removes a SIP file that will not be finished: the dossiers it held are not recorded, so
// the next run archives them.
func (s *spool) discard(f *spoolFile) {
	f.f.Close()
	os.Remove(f.tmp)
}

// commit makes a finished SIP durable under its final name, records its dossiers, and sends it.
func (s *spool) commit(ctx context.Context, f *spoolFile, r sip.Record, keys []string, units []sip.Unit) error {
	fail := func(err error) error {
		s.discard(f)
		return fmt.Errorf("SIP %s: %w", r.Name, err)
	}
	if err := f.w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.f.Close(); err != nil {
		return fail(err)
	}
	path := filepath.Join(s.dir, r.Name)
	if err := os.Rename(f.tmp, path); err != nil {
		return fail(err)
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		return fmt.Errorf("SIP %s: %w", r.Name, err)
	}
	crashPoint("renamed")
	if err := s.state.spooled(ctx, r, keys); err != nil {
		return err
	}
	crashPoint("spooled")
	return s.setAside(s.send(ctx, &SIP{Record: r, units: units}, path))
}

// reconcile finishes the SIPs an interrupted run left: see docs/pipeline.md, "Crash safety".
func (s *spool) reconcile(ctx context.Context) error {
	pend, err := s.state.pending(ctx, s.profile)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, r := range pend {
		known[r.Name] = true
		path := filepath.Join(s.dir, r.Name)
		t := s.targets[r.Tier]
		if _, err := os.Stat(path); err != nil {
			// The file is gone (removed by hand?). If the ledger has it, it is done; otherwise its
			// dossiers are forgotten and archived again by this run.
			if t != nil {
				if e, ok := s.ledger.Lookup(t.String(), r.Name); ok && e.Done() && e.SHA256 == r.Digest {
					if err := s.state.sent(ctx, r.Name, t.String(), e.Seq); err != nil {
						return err
					}
					continue
				}
			}
			s.log.Warn("spooled SIP missing, its dossiers will be archived again", "sip", r.Name)
			if err := s.state.forget(ctx, r.Name); err != nil {
				return err
			}
			continue
		}
		if why := mismatch(path, r.Record); why != "" {
			// Not the SIP the state recorded (damaged in the spool, or written over by another
			// run): sending it would fail for ever. It is set aside and forgotten, and this run
			// writes the SIP again from the source.
			kept := s.setAsideDamaged(path, r.Name)
			s.log.Warn("a spooled SIP does not match its record: set aside, this run writes it again", "sip", r.Name, "why", why, "kept", kept)
			if err := s.state.forget(ctx, r.Name); err != nil {
				return fmt.Errorf("state: SIP %s: %w", r.Name, err)
			}
			s.damaged = append(s.damaged, SpoolDamaged{SIP: r.Name, Why: why, Kept: kept})
			continue
		}
		if t == nil {
			return fmt.Errorf("SIP %s (tier %s) waits in the spool %s but this run has no target for tier %s", r.Name, r.Tier, s.dir, r.Tier)
		}
		s.log.Info("sending a SIP an earlier run left in the spool (interrupted, or failed before sending it)", "sip", r.Name)
		if err := s.send(ctx, &SIP{Record: r.Record, Recovered: true}, path); err != nil {
			if err = s.setAside(err); err != nil {
				return err
			}
		}
	}
	// Anything else in the spool is a SIP whose keys were never recorded (or a partial one): it was
	// never sent, and this run rebuilds it byte for byte.
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() || known[e.Name()] {
			continue
		}
		if s.index != nil && strings.HasSuffix(e.Name(), ".zip") {
			// A SIP sent and marked so, that a crash left before it was indexed.
			r, sent, err := s.state.sentSIP(ctx, e.Name())
			if err != nil {
				return err
			}
			if le, ok := s.ledger.Lookup(r.Target, r.Name); sent && ok && le.Done() {
				s.log.Info("indexing a SIP an earlier run sent but did not index", "sip", r.Name)
				s.indexNow(ctx, indexJob{sip: transferSIP(r.Record, filepath.Join(s.dir, e.Name()), ""), receipt: le.Receipt})
				if err := s.waitIndexed(); err != nil {
					return err
				}
				continue
			}
		}
		if strings.HasSuffix(e.Name(), ".part") || strings.HasSuffix(e.Name(), ".zip") {
			s.log.Info("removing an unfinished SIP from the spool", "file", e.Name())
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
		}
	}
	return nil
}

// SpoolDamaged is a SIP left in the spool whose file is not the one the state recorded (its size
// or SHA-256 differs): the run set it aside and wrote the SIP again.
type SpoolDamaged struct {
	SIP  string `json:"sip"`
	Why  string `json:"why"`
	Kept string `json:"kept,omitempty"` // where the file was put, "" if it could not be moved
}

// mismatch says how the spooled file at path differs from its record, or "".
func mismatch(path string, r sip.Record) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if fi.Size() != r.Bytes {
		return fmt.Sprintf("%d bytes, the state recorded %d", fi.Size(), r.Bytes)
	}
	sum, err := transfer.FileSHA256(path)
	if err != nil {
		return err.Error()
	}
	if !strings.EqualFold(sum, r.Digest) {
		return fmt.Sprintf("SHA-256 %s, the state recorded %s", sum, r.Digest)
	}
	return ""
}

// setAsideDamaged moves a spooled file to spool/damaged/ and returns where, or removes it and
// returns "" when it cannot be moved (it must not be sent).
func (s *spool) setAsideDamaged(path, name string) string {
	dir := filepath.Join(s.dir, damagedDir)
	kept := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.Rename(path, kept); err == nil {
			return kept
		}
	}
	os.Remove(path)
	return ""
}

// setAside keeps a rejected SIP's error for the end of the run and lets the run go on; any other
// error stops it.
func (s *spool) setAside(err error) error {
	if err == nil || !errors.Is(err, transfer.ErrRejected) {
		return err
	}
	s.log.Error("SIP rejected by the archive: it stays in the spool and the next run sends it again", "err", err)
	s.rejected = append(s.rejected, err)
	return nil
}

// transferSIP is what the target is handed for a SIP: its file, digests and origin, and the
// Object Lock asked for (objectLock empty: none).
func transferSIP(r sip.Record, path, objectLock string) transfer.SIP {
	// The spool's file is synced, written to by no one and removed once sent: a target on the same
	// file system may keep it rather than copy it (transfer.SIP.Handover).
	ts := transfer.SIP{Name: r.Name, Path: path, Size: r.Bytes, SHA256: r.Digest, Handover: path != "",
		ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: r.ManifestDigest}, MessageID: r.MessageID,
		Origin: transfer.Origin{Profile: r.Profile, Class: r.Class, Tier: string(r.Tier)}}
	if objectLock != "" {
		if !r.RetainUntil.IsZero() {
			ts.Retention = &transfer.Retention{Mode: objectLock, Until: r.RetainUntil.Time(time.UTC)}
		}
		ts.LegalHold = r.LegalHold
	}
	return ts
}

// batchOf is what the ledger records of a SIP's dossiers.
func batchOf(r sip.Record) ledger.Batch {
	return ledger.Batch{FirstKey: r.FirstKey, LastKey: r.LastKey, Count: r.Dossiers}
}

// send verifies a spooled SIP, transfers it through the ledger, marks it sent and removes it from
// the spool.
func (s *spool) send(ctx context.Context, rs *SIP, path string) error {
	t := s.targets[rs.Tier]
	if t == nil {
		return fmt.Errorf("SIP %s: no target for tier %s", rs.Name, rs.Tier)
	}
	if err := s.verify(ctx, rs.Record, path); err != nil {
		return err
	}
	e, skipped, err := s.ledger.Send(ctx, t, transferSIP(rs.Record, path, s.objectLock), batchOf(rs.Record))
	if errors.Is(err, transfer.ErrConflict) {
		// The name is the content's (sip.ID): the same dossiers as of the same date, but other
		// bytes (the source changed since, or another versement wrote it). Sending again cannot
		// help; a person must decide which copy is right.
		return &SIPError{SIP: rs.Name, Dossiers: rs.Dossiers, Err: fmt.Errorf("SIP %s: %w: nothing was overwritten. "+
			"The target holds another SIP of the same dossiers and as-of date (written from other data, or by another state folder or version); "+
			"compare the two (versement verify %s and the one at the target), then move the target's copy aside or send to another target: "+
			"until then every run with the state %s stops here", rs.Name, err, path, filepath.Dir(s.dir))}
	}
	if err != nil {
		return &SIPError{SIP: rs.Name, Dossiers: rs.Dossiers, Err: fmt.Errorf("SIP %s: %w (it stays in the spool %s; the next run sends it)", rs.Name, err, s.dir)}
	}
	if !e.Done() {
		return &SIPError{SIP: rs.Name, Dossiers: rs.Dossiers, Err: fmt.Errorf("SIP %s: the target answered %s (ledger entry %d); it stays in the spool %s", rs.Name, e.Status, e.Seq, s.dir)}
	}
	crashPoint("ledgered")
	if err := s.state.sent(ctx, rs.Name, t.String(), e.Seq); err != nil {
		return err
	}
	if s.index != nil {
		s.indexLater(ctx, indexJob{sip: transferSIP(rs.Record, path, ""), receipt: e.Receipt, units: rs.units})
	} else {
		s.removeSent(path)
	}
	// The units go with the index job only: the report keeps every SIP sent, and a run's
	// memory must not grow with the SIPs it has sent.
	rs.units = nil
	rs.Target, rs.Receipt, rs.LedgerSeq, rs.AlreadySent = t.String(), e.Receipt, e.Seq, skipped
	rs.Location = e.Receipt.Location
	s.sent = append(s.sent, *rs)
	s.bytes.Add(rs.Bytes)
	s.log.Info("SIP sent", "sip", rs.Name, "class", rs.Class, "tier", rs.Tier, "dossiers", rs.Dossiers, "bytes", rs.Bytes,
		"sha256", rs.Digest, "target", rs.Target, "ledger_seq", e.Seq, "already_there", e.Receipt.AlreadyThere || skipped)
	if s.onSIP != nil {
		s.onSIP(*rs)
	}
	return nil
}

// indexJob is a sent SIP to index: its file is still in the spool. units, when the run built the
// SIP, are its dossiers' units as its builder wrote them: an indexer that takes them
// (UnitIndexer) does not parse the manifest again.
type indexJob struct {
	sip     transfer.SIP
	receipt transfer.Receipt
	units   []sip.Unit
}

// indexLater hands a sent SIP to the index worker, started at the first one. The queue holds one
// SIP: a run that produces faster than it indexes waits, so memory does not grow.
func (s *spool) indexLater(ctx context.Context, j indexJob) {
	if s.idx == nil {
		s.idx, s.idxDone = make(chan indexJob, 1), make(chan struct{})
		go func() {
			defer close(s.idxDone)
			for j := range s.idx {
				s.indexNow(ctx, j)
			}
		}()
	}
	s.idx <- j
}

// indexNow indexes a sent SIP and removes it from the spool. A failure leaves it there, for the
// next run's reconcile to index, and is kept for waitIndexed to report.
func (s *spool) indexNow(ctx context.Context, j indexJob) {
	index := s.index.IndexSIP
	if ui, ok := s.index.(UnitIndexer); ok && j.units != nil {
		index = func(ctx context.Context, t transfer.SIP, r transfer.Receipt) error {
			return ui.IndexUnits(ctx, t, r, j.units)
		}
	}
	if err := index(ctx, j.sip, j.receipt); err != nil {
		s.idxMu.Lock()
		s.idxErrs = append(s.idxErrs, fmt.Errorf("SIP %s is at %s but could not be indexed for consultation: %w (it stays in the spool %s; the next run indexes it)", j.sip.Name, j.receipt.Target, err, s.dir))
		s.idxMu.Unlock()
		return
	}
	crashPoint("indexed")
	s.removeSent(j.sip.Path)
}

// waitIndexed waits for the index worker to finish the SIPs handed to it and says which could not
// be indexed. It is called once, when no SIP is sent any more.
func (s *spool) waitIndexed() error {
	if s.idx != nil {
		close(s.idx)
		<-s.idxDone
		s.idx = nil
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	return errors.Join(s.idxErrs...)
}

func (s *spool) removeSent(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("could not remove a sent SIP from the spool", "path", path, "err", err)
	}
}

// crashPoint is called at each step of finishing a SIP; tests set crashHook to kill the process
// there and prove that a rerun ends in the same state.
func crashPoint(stage string) {
	if crashHook != nil {
		crashHook(stage)
	}
}

var crashHook func(stage string)
