package deposit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

// Config is one establishment's deposit service.
type Config struct {
	Establishment string
	// Dir is this establishment's deposits folder (inside its state folder): transactions, their
	// units and objects, and the journal.
	Dir string
	// Profile gives the establishment's profiles, its SEDA ids applied; an error for an unknown name.
	Profile func(name string) (*profiles.Profile, error)
	// The establishment's own agencies and ingest contract: a header naming others is refused.
	// Empty: the profile's SEDA value is the establishment's.
	OriginatingAgency, SubmissionAgency, ArchivalAgreement string
	// Job gives the job a close runs (targets, state, ledger, tiers…); Process fills in Profile,
	// SourceConn and Classes.
	Job func(p *profiles.Profile) pipeline.JobSpec
	// Enqueue hands a closed transaction to a worker (which calls Process); nil: Close runs
	// Process itself in the background (Wait waits for it).
	Enqueue func(ctx context.Context, txID string) error
	// SIPJob gives the job whose target (Target, else TargetIntermediate, else TargetFinal),
	// ledger and transfer options a submitted SIP goes to; nil: Job(nil), which must then
	// accept a nil profile.
	SIPJob func() pipeline.JobSpec
	// XSDDir, when set, also validates submitted SIPs against the official SEDA XSDs.
	XSDDir string
	Limits Limits
	Now    func() time.Time
	Log    *slog.Logger
}

// Limits bound what one depositor can make the service store or read into memory.
type Limits struct {
	MaxUnitBytes   int64 // one dossier document (default 16 MiB)
	MaxUnitsBytes  int64 // all the documents of a transaction (default 4 GiB)
	MaxUnits       int   // documents per transaction (default 100,000: VITAM's SIP limit)
	MaxObjectBytes int64 // one object (default 8 GiB)
	MaxChunkBytes  int64 // one chunk (default 256 MiB)
	MaxObjects     int   // objects per transaction (default 100,000)
	MaxSIPBytes    int64 // a submitted SIP (default 16 GiB)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxUnitBytes, 16<<20)
	def(&l.MaxUnitsBytes, 4<<30)
	def(&l.MaxObjectBytes, 8<<30)
	def(&l.MaxChunkBytes, 256<<20)
	def(&l.MaxSIPBytes, 16<<30)
	if l.MaxUnits <= 0 {
		l.MaxUnits = 100_000
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = 100_000
	}
	return l
}

// Service is one establishment's deposits. Its methods are safe for concurrent use, and several
// processes (servers, workers) may share one Dir: every change to a transaction is made under
// its lock file.
type Service struct {
	cfg Config
	lim Limits
	log *slog.Logger
	bg  sync.WaitGroup
	jnl openJournal
}

// record is a transaction as its tx.json holds it: the reply, and what the service keeps of it.
type record struct {
	Transaction
	// KeyKind is the units' key kind ("int" or "string"), set by the first unit.
	KeyKind string `json:"key_kind,omitempty"`
	// ObjectCount counts the objects started; UnitsBytes the documents' bytes.
	ObjectCount int   `json:"object_count,omitempty"`
	UnitsBytes  int64 `json:"units_bytes,omitempty"`
	// SIPFile is a KindSIP transaction's: name at the target, size, digests, message id.
	SIPFile *submitted `json:"sip_file,omitempty"`
}

// Open opens (creating it when needed) an establishment's deposits folder.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Dir == "" {
		return nil, errors.New("deposit: no deposits folder")
	}
	if cfg.Establishment == "" {
		return nil, errors.New("deposit: no establishment")
	}
	if cfg.Profile == nil || cfg.Job == nil {
		return nil, fmt.Errorf("deposit %s: Profile and Job are required", cfg.Establishment)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "tx"), filepath.Join(cfg.Dir, "refs")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("deposit %s: %w", cfg.Establishment, err)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, lim: cfg.Limits.withDefaults(), log: log.With("establishment", cfg.Establishment)}, nil
}

// Wait waits for the processing that Close started in the background (Config.Enqueue nil).
func (s *Service) Wait() { s.bg.Wait() }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// idPattern is what Create gives: anything else cannot name a folder of this service.
var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Service) txDir(id string) string { return filepath.Join(s.cfg.Dir, "tx", id) }

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// load reads a transaction's record; an id this service did not give is NotFound.
func (s *Service) load(id string) (*record, error) {
	if !idPattern.MatchString(id) {
		return nil, errorf(NotFound, "", "no transaction %q in establishment %s", id, s.cfg.Establishment)
	}
	b, err := os.ReadFile(filepath.Join(s.txDir(id), "tx.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(NotFound, "", "no transaction %q in establishment %s", id, s.cfg.Establishment)
	}
	if err != nil {
		return nil, fmt.Errorf("deposit %s: transaction %s: %w", s.cfg.Establishment, id, err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("deposit %s: transaction %s: damaged tx.json: %w", s.cfg.Establishment, id, err)
	}
	return &r, nil
}

func (s *Service) save(r *record) error {
	r.Updated = s.now()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.txDir(r.ID), "tx.json"), b); err != nil {
		return fmt.Errorf("deposit %s: transaction %s: %w", s.cfg.Establishment, r.ID, err)
	}
	return nil
}

// checkText refuses a header value that is too long or holds control characters: it goes into
// manifests, files and messages.
func checkText(field, v string, max int) error {
	if len(v) > max {
		return errorf(Invalid, field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(v) {
		return errorf(Invalid, field, "not UTF-8")
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) >= 0 {
		return errorf(Invalid, field, "holds a control character")
	}
	return nil
}

func checkHeader(h Header) error {
	if h.Profile == "" {
		return errorf(Invalid, "header.profile", "required")
	}
	if h.Class == "" {
		return errorf(Invalid, "header.class", "required")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"header.profile", h.Profile, 64}, {"header.class", h.Class, 64}, {"header.originating_agency", h.OriginatingAgency, 255},
		{"header.submission_agency", h.SubmissionAgency, 255}, {"header.archival_agreement", h.ArchivalAgreement, 255},
		{"header.reference", h.Reference, 255}, {"header.comment", h.Comment, 4096}} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// Create opens a units transaction. A header whose Reference an earlier transaction of this
// establishment has returns that one (a client retrying after a lost reply). The referential
// checks (profile, class, agencies, contract) are Close's, so that one call reports them all at
// the point the depositor says the transaction is complete.
func (s *Service) Create(ctx context.Context, h Header, by string) (Transaction, error) {
	if err := checkHeader(h); err != nil {
		return Transaction{}, err
	}
	t, _, err := s.create(ctx, KindUnits, h, by, h.Reference, func(*record) error { return nil })
	return t, err
}

// create makes a transaction of kind k; fill completes its record before it is first saved
// (the SIP of a KindSIP one). It holds the establishment's create lock, so that two requests with
// one Reference make one transaction.
func (s *Service) create(ctx context.Context, k Kind, h Header, by, refKey string, fill func(*record) error) (Transaction, bool, error) {
	unlock, err := lockFile(ctx, filepath.Join(s.cfg.Dir, "create.lock"), lockWait)
	if err != nil {
		return Transaction{}, false, err
	}
	defer unlock()
	var refPath string
	if refKey != "" {
		sum := sha256.Sum256([]byte(string(k) + "\x00" + refKey))
		refPath = filepath.Join(s.cfg.Dir, "refs", hex.EncodeToString(sum[:]))
		if b, err := os.ReadFile(refPath); err == nil {
			if r, err := s.load(strings.TrimSpace(string(b))); err == nil {
				t, err := s.view(r)
				return t, false, err
			}
		}
	}
	now := s.now()
	r := &record{Transaction: Transaction{ID: newID(), Establishment: s.cfg.Establishment, Kind: k, Header: h,
		State: StateOpen, Created: now, By: by}}
	if err := os.MkdirAll(filepath.Join(s.txDir(r.ID), "objects"), 0o750); err != nil {
		return Transaction{}, false, fmt.Errorf("deposit %s: %w", s.cfg.Establishment, err)
	}
	if err := fill(r); err != nil {
		os.RemoveAll(s.txDir(r.ID))
		return Transaction{}, false, err
	}
	if err := s.save(r); err != nil {
		return Transaction{}, false, err
	}
	if refPath != "" {
		if err := atomicfile.WriteFile(refPath, []byte(r.ID)); err != nil {
			return Transaction{}, false, err
		}
	}
	ev := Event{Event: EventCreate, Tx: r.ID, Kind: string(k), By: by, Profile: h.Profile, Class: h.Class}
	if k == KindSIP {
		ev.Event, ev.SHA256, ev.Size, ev.SIP = EventSubmit, r.SIPFile.SHA256, r.SIPFile.Size, r.SIPFile.Name
	}
	if err := s.journal(ctx, ev); err != nil {
		return Transaction{}, false, err
	}
	s.log.Info("deposit transaction created", "tx", r.ID, "kind", k, "by", by)
	t, err := s.view(r)
	return t, true, err
}

// Get is a transaction's status, with its objects.
func (s *Service) Get(ctx context.Context, id string) (Transaction, error) {
	if err := ctx.Err(); err != nil {
		return Transaction{}, err
	}
	r, err := s.load(id)
	if err != nil {
		return Transaction{}, err
	}
	return s.view(r)
}

// view is the reply for r: its record with its objects listed from their sidecars.
func (s *Service) view(r *record) (Transaction, error) {
	t := r.Transaction
	objs, err := s.objects(r.ID)
	if err != nil {
		return t, err
	}
	t.Objects = objs
	return t, nil
}
