package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
)

// ErrAlreadyArchived is returned by an Archiver for a dossier an earlier run already archived at
// the same tier: Run counts it and goes on.
var ErrAlreadyArchived = errors.New("already archived at this tier by an earlier run")

// PackagerConfig configures the real packaging stage.
type PackagerConfig struct {
	Profile *profiles.Profile
	Source  extract.Source // for the data dictionary (Class.Dictionary)
	AsOf    civil.Date     // the SIPs' message Date (midnight UTC of this day): same as-of, same bytes
	Spool   string         // folder where SIPs are written before they are sent
	State   *State
	Ledger  *ledger.Ledger
	// Targets per archived tier (intermediate, final; active dossiers of a decommission run go to
	// intermediate).
	Targets map[retention.Tier]transfer.Target
	// ObjectLock, "COMPLIANCE" or "GOVERNANCE", asks the target (S3) to lock each SIP until the
	// latest date its rules protect one of its dossiers (see lockUntil), and to put a legal hold on
	// a SIP holding a held dossier. Empty: no lock.
	ObjectLock string
	Log        *slog.Logger
	// OnSIP, when set, is called after each SIP is sent and recorded (tests use it to kill a run
	// at a known point).
	OnSIP func(SIP)
}

// Packager is the Archiver that writes SEDA SIPs, sends them through the ledger and records their
// dossiers in the state database. One SIP is open per (class, tier).
type Packager struct {
	cfg   PackagerConfig
	log   *slog.Logger
	open  map[sipKey]*building
	dicts map[string][]byte
	sips  []SIP
	// rejected are the SIPs the archive refused (a VITAM KO): they stay in the spool, the run goes
	// on with the others and ends in error, and the next run sends them again — once the archivist
	// has fixed what the ATR names (a contract, an agency), the same bytes are accepted.
	rejected []error
	// spoolDamaged are the spooled SIPs that did not match their record, set aside by reconcile.
	spoolDamaged []SpoolDamaged
	bytes        atomic.Int64
	date         time.Time
	// lobReader is reused for every LOB: a 64 KiB buffer per LOB was a quarter of the bytes a
	// run allocated (one photo in three Apogée dossiers).
	lobReader *bufio.Reader
	// doc is the dossier's JSON, reused from one dossier to the next (the writer copies it).
	doc bytes.Buffer
}

// manifestAllowance is what one dossier adds to the SIP's compressed manifest.xml and zip
// directory, reserved so that a finished SIP stays within the byte limit (measured on the demo
// Apogée dossiers: about 1 kB).
const manifestAllowance = 1536

type sipKey struct {
	class string
	tier  retention.Tier
}

type building struct {
	class       *profiles.Class
	tier        retention.Tier
	tmp         string
	f           *os.File
	cw          *countWriter
	w           *seda.Writer
	first, last string
	keys        []string
	keySum      hash.Hash  // of the keys, in order: with the as-of date, what names the SIP
	retainUntil civil.Date // the latest lockUntil of its dossiers
	legalHold   bool       // one of its dossiers is under a legal hold
}

// lockUntil is the date before which nothing may delete a dossier's SIP: the end of its DUA (no
// elimination before it, and only with the archives' visa after it) or of its access restriction,
// whichever is later. A final dossier is kept for ever; the lock then protects it at least as long
// as its access period, and the archive's own policy does the rest.
func lockUntil(d retention.Decision) civil.Date {
	until := d.DUAEnd
	if d.AccessEnd.After(until) {
		until = d.AccessEnd
	}
	if d.Hold != nil && d.Hold.Until.After(until) {
		until = d.Hold.Until
	}
	return until
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewPackager opens the packaging stage and reconciles what a previous, interrupted run left in
// the spool: SIPs recorded as spooled are sent (or found sent) and marked, stray files removed.
// The SIPs it finishes are reported by Close with Recovered set.
func NewPackager(ctx context.Context, cfg PackagerConfig) (*Packager, error) {
	if cfg.Profile == nil || cfg.State == nil || cfg.Ledger == nil || cfg.Spool == "" {
		return nil, errors.New("pipeline: the packager needs a profile, a state, a ledger and a spool folder")
	}
	if cfg.AsOf.IsZero() {
		return nil, errors.New("pipeline: the packager needs the as-of date (the SIPs' message date)")
	}
	// spool/tmp holds the SEDA writer's spill files: whatever an interrupted run left there is junk.
	if err := os.RemoveAll(filepath.Join(cfg.Spool, "tmp")); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Spool, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Packager{cfg: cfg, log: log, open: map[sipKey]*building{}, dicts: map[string][]byte{},
		date: time.Date(cfg.AsOf.Year, time.Month(cfg.AsOf.Month), cfg.AsOf.Day, 0, 0, 0, 0, time.UTC)}
	if err := p.reconcile(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// reconcile finishes the SIPs an interrupted run left: see docs/pipeline.md, "Crash safety".
func (p *Packager) reconcile(ctx context.Context) error {
	pend, err := p.cfg.State.pending(ctx, p.cfg.Profile.Name)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, r := range pend {
		known[r.Name] = true
		path := filepath.Join(p.cfg.Spool, r.Name)
		t := p.cfg.Targets[retention.Tier(r.Tier)]
		if _, err := os.Stat(path); err != nil {
			// The file is gone (removed by hand?). If the ledger has it, it is done; otherwise its
			// dossiers are forgotten and archived again by this run.
			if t != nil {
				if e, ok := p.cfg.Ledger.Lookup(t.String(), r.Name); ok && e.Done() && e.SHA256 == r.SHA256 {
					if err := p.cfg.State.sent(ctx, r.Name, t.String(), e.Seq); err != nil {
						return err
					}
					continue
				}
			}
			p.log.Warn("spooled SIP missing, its dossiers will be archived again", "sip", r.Name)
			if err := p.cfg.State.forget(ctx, r.Name); err != nil {
				return err
			}
			continue
		}
		if why := p.mismatch(path, r); why != "" {
			// Not the SIP the state recorded (damaged in the spool, or written over by another
			// run): sending it would fail for ever. It is set aside and forgotten, and this run
			// writes the SIP again from the source.
			kept := p.setAsideDamaged(path, r.Name)
			p.log.Warn("a spooled SIP does not match its record: set aside, this run writes it again", "sip", r.Name, "why", why, "kept", kept)
			if err := p.cfg.State.forget(ctx, r.Name); err != nil {
				return fmt.Errorf("state: SIP %s: %w", r.Name, err)
			}
			p.spoolDamaged = append(p.spoolDamaged, SpoolDamaged{SIP: r.Name, Why: why, Kept: kept})
			continue
		}
		if t == nil {
			return fmt.Errorf("SIP %s (tier %s) waits in the spool %s but this run has no target for tier %s", r.Name, r.Tier, p.cfg.Spool, r.Tier)
		}
		p.log.Info("sending a SIP an earlier run left in the spool (interrupted, or failed before sending it)", "sip", r.Name)
		s := SIP{ID: r.Name, Name: r.Name, MessageID: r.MessageID, Class: r.Class, Tier: retention.Tier(r.Tier),
			Dossiers: r.Dossiers, FirstKey: r.FirstKey, LastKey: r.LastKey, Bytes: r.Bytes,
			DigestAlgorithm: "SHA-256", Digest: r.SHA256, ManifestDigest: r.ManifestSHA512, Recovered: true, LegalHold: r.LegalHold}
		if r.RetainUntil != "" {
			if s.RetainUntil, err = civil.Parse(r.RetainUntil); err != nil {
				return fmt.Errorf("state: SIP %s: retain_until: %w", r.Name, err)
			}
		}
		if err := p.send(ctx, &s, path); err != nil {
			if err = p.setAside(err); err != nil {
				return err
			}
		}
	}
	// Anything else in the spool is a SIP whose keys were never recorded (or a partial one): it was
	// never sent, and this run rebuilds it byte for byte.
	ents, err := os.ReadDir(p.cfg.Spool)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() || known[e.Name()] {
			continue
		}
		if strings.HasSuffix(e.Name(), ".part") || strings.HasSuffix(e.Name(), ".zip") {
			p.log.Info("removing an unfinished SIP from the spool", "file", e.Name())
			if err := os.Remove(filepath.Join(p.cfg.Spool, e.Name())); err != nil {
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

// SpoolDamaged lists the spooled SIPs this packager found not matching their record.
func (p *Packager) SpoolDamaged() []SpoolDamaged { return p.spoolDamaged }

// mismatch says how the spooled file at path differs from its record, or "".
func (p *Packager) mismatch(path string, r stateSIP) string {
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
	if !strings.EqualFold(sum, r.SHA256) {
		return fmt.Sprintf("SHA-256 %s, the state recorded %s", sum, r.SHA256)
	}
	return ""
}

// setAsideDamaged moves a spooled file to spool/damaged/ and returns where, or removes it and
// returns "" when it cannot be moved (it must not be sent).
func (p *Packager) setAsideDamaged(path, name string) string {
	dir := filepath.Join(p.cfg.Spool, damagedDir)
	kept := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.Rename(path, kept); err == nil {
			return kept
		}
	}
	os.Remove(path)
	return ""
}

func (p *Packager) notice(ctx context.Context, class, kind, digest string) (bool, error) {
	return p.cfg.State.notice(ctx, p.cfg.Profile.Name, class, kind, digest)
}

// Bytes is the size of the SIPs finished so far by this packager.
func (p *Packager) Bytes() int64 { return p.bytes.Load() }

// archivedBefore says whether an earlier run archived the dossier at this tier. Run asks it from
// its reading goroutine, ahead of packaging (a dossier comes once per run, so the answer cannot
// change before it is packaged), and skips describing dossiers already archived.
func (p *Packager) archivedBefore(ctx context.Context, class string, tier retention.Tier, key string) (bool, error) {
	sip, err := p.cfg.State.Archived(ctx, p.cfg.Profile.Name, class, string(tier), key)
	return sip != "", err
}

// Archive adds one dossier to the open SIP of its class and tier, finishing that SIP first when the
// dossier would take it past the profile's byte limit, and after it when it reaches the dossier limit.
func (p *Packager) Archive(ctx context.Context, it *Item) error {
	prof := p.cfg.Profile
	if !it.checked {
		if done, err := p.archivedBefore(ctx, it.Class.Name, it.Tier, it.Key); err != nil {
			return err
		} else if done {
			return ErrAlreadyArchived
		}
	}
	k := sipKey{it.Class.Name, it.Tier}
	b := p.open[k]
	n := 1
	if b != nil {
		n = len(b.keys) + 1
	}
	prefix := fmt.Sprintf("D%06d-%s", n, fileSafe(it.Key))
	lobName := func(r extract.LOBRef) string { return prefix + "." + fileSafe(extract.DefaultLOBName(r)) }
	doc := &p.doc
	doc.Reset()
	if err := it.Dossier.WriteJSON(doc, lobName); err != nil {
		return err
	}
	est := int64(doc.Len())
	for r := range it.Dossier.LOBs() {
		if r.LOB.Size > 0 {
			est += r.LOB.Size
		}
	}
	if b != nil && len(b.keys) > 0 && b.cw.n+est+int64(len(b.keys)+1)*manifestAllowance > prof.MaxBytes() {
		if err := p.finish(ctx, b); err != nil {
			return err
		}
		b, n = nil, 1
		prefix = fmt.Sprintf("D%06d-%s", n, fileSafe(it.Key))
		doc.Reset()
		if err := it.Dossier.WriteJSON(doc, lobName); err != nil {
			return err
		}
	}
	if b == nil {
		var err error
		if b, err = p.start(ctx, it.Class, it.Tier, it.Key); err != nil {
			return err
		}
	}
	ow, err := b.w.CreateObject(seda.Object{Name: prefix + ".json", MimeType: "application/json", FormatID: "fmt/817"})
	if err != nil {
		return p.fail(b, err)
	}
	if _, err := ow.Write(doc.Bytes()); err != nil {
		return p.fail(b, err)
	}
	if err := ow.Close(); err != nil {
		return p.fail(b, err)
	}
	group := ow.Group()
	v := 1
	for r := range it.Dossier.LOBs() {
		v++
		if err := p.writeLOB(ctx, b, group, lobName(r), v, r); err != nil {
			return p.fail(b, fmt.Errorf("LOB %s.%s: %w", r.Table, r.Column, err))
		}
	}
	u := seda.Unit{Management: it.Decision.Management(seda.Version(prof.SEDA.Version)),
		Content: it.Description.SEDAContent(it.Key, prof), Groups: []seda.GroupID{group}}
	if _, err := b.w.AddUnit(u); err != nil {
		return p.fail(b, err)
	}
	b.addKey(it.Key)
	b.last = it.Key
	if u := lockUntil(it.Decision); u.After(b.retainUntil) {
		b.retainUntil = u
	}
	b.legalHold = b.legalHold || it.Decision.Hold != nil
	if len(b.keys) >= prof.MaxDossiers() {
		return p.finish(ctx, b)
	}
	return nil
}

// addKey records a dossier's key in the SIP (length-prefixed in the digest, so that no two key
// lists hash alike).
func (b *building) addKey(k string) {
	b.keys = append(b.keys, k)
	fmt.Fprintf(b.keySum, "%d:%s\n", len(k), k)
}

func (p *Packager) writeLOB(ctx context.Context, b *building, g seda.GroupID, name string, v int, r extract.LOBRef) error {
	rc, err := r.LOB.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if p.lobReader == nil {
		p.lobReader = bufio.NewReaderSize(rc, 64<<10)
	} else {
		p.lobReader.Reset(rc)
	}
	br := p.lobReader
	defer br.Reset(nil)
	head, _ := br.Peek(512)
	mime := http.DetectContentType(head)
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	o := seda.Object{Group: g, Name: name, Version: fmt.Sprintf("BinaryMaster_%d", v), MimeType: mime}
	switch mime {
	case "image/jpeg":
		o.FormatID = "fmt/43"
	case "image/png":
		o.FormatID = "fmt/11"
	}
	ow, err := b.w.CreateObject(o)
	if err != nil {
		return err
	}
	if _, err := ow.ReadFrom(br); err != nil {
		return err
	}
	return ow.Close()
}

// fail abandons the open SIP after an error while writing it: its partial file is removed (the
// dossiers it held are not recorded, so the next run archives them).
func (p *Packager) fail(b *building, err error) error {
	p.abort(b)
	return err
}

func (p *Packager) abort(b *building) {
	b.w.Abort()
	b.f.Close()
	os.Remove(b.tmp)
	delete(p.open, sipKey{b.class.Name, b.tier})
}

func (p *Packager) start(ctx context.Context, c *profiles.Class, tier retention.Tier, first string) (*building, error) {
	prof := p.cfg.Profile
	dict, err := p.dictionary(ctx, c)
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(p.cfg.Spool, fmt.Sprintf("%s-%s-%s.part", prof.Name, fileSafe(c.Name), tier))
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	cw := &countWriter{w: bufio.NewWriterSize(f, 256<<10)}
	// The message identifier is set at finish, once the last key is known.
	w, err := seda.NewWriter(cw, prof.SEDAHeader(fmt.Sprintf("%s-%s-%s", fileSafe(prof.Name), fileSafe(c.Name), tier), p.date), seda.WithTempDir(filepath.Join(p.cfg.Spool, "tmp")))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	b := &building{class: c, tier: tier, tmp: tmp, f: f, cw: cw, w: w, first: first, keySum: sha256.New()}
	p.open[sipKey{c.Name, tier}] = b
	ow, err := w.CreateObject(seda.Object{Name: "dictionary-" + fileSafe(c.Name) + ".json", MimeType: "application/json", FormatID: "fmt/817"})
	if err != nil {
		return nil, p.fail(b, err)
	}
	if _, err := ow.Write(dict); err != nil {
		return nil, p.fail(b, err)
	}
	if err := ow.Close(); err != nil {
		return nil, p.fail(b, err)
	}
	root := seda.Unit{Content: c.SEDASeries(prof, string(tier)), Groups: []seda.GroupID{ow.Group()}}
	if _, err := w.OpenUnit(root); err != nil {
		return nil, p.fail(b, err)
	}
	return b, nil
}

// dictionaryDoc is the data dictionary object of a SIP: what the tables and columns of the
// dossiers' JSON documents are, so that the data can be read without the source application.
type dictionaryDoc struct {
	Format  string            `json:"format"`
	Profile string            `json:"profile"`
	Class   string            `json:"class"`
	Key     string            `json:"key"`
	Tables  []dictionaryTable `json:"tables"`
}

type dictionaryTable struct {
	Name       string             `json:"name"`
	Comment    string             `json:"comment,omitempty"`
	PrimaryKey []string           `json:"primary_key,omitempty"`
	Columns    []dictionaryColumn `json:"columns"`
}

type dictionaryColumn struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	DBType   string `json:"db_type,omitempty"`
	Nullable bool   `json:"nullable"`
	Meaning  string `json:"meaning,omitempty"`
}

func (p *Packager) dictionary(ctx context.Context, c *profiles.Class) ([]byte, error) {
	if d, ok := p.dicts[c.Name]; ok {
		return d, nil
	}
	doc := dictionaryDoc{Format: "versement-dictionary/1", Profile: p.cfg.Profile.Name, Class: c.Name, Key: c.Root.Table + "." + c.Root.Key, Tables: []dictionaryTable{}}
	if p.cfg.Source != nil {
		infos, err := c.Dictionary(ctx, p.cfg.Source)
		if err != nil {
			return nil, fmt.Errorf("class %s: data dictionary: %w", c.Name, err)
		}
		for _, ti := range infos {
			t := dictionaryTable{Name: ti.Name, Comment: ti.Comment, PrimaryKey: ti.PrimaryKey, Columns: []dictionaryColumn{}}
			for _, col := range ti.Columns {
				t.Columns = append(t.Columns, dictionaryColumn{Name: col.Name, Kind: string(col.Kind), DBType: col.DBType, Nullable: col.Nullable, Meaning: col.Comment})
			}
			doc.Tables = append(doc.Tables, t)
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	p.dicts[c.Name] = b
	return b, nil
}

// sipID is the SIP's name and message identifier. It names the content: the profile, class and
// tier, the as-of date (which fixes every decision and the message date) and the digest of the
// dossiers' keys in order. Two SIPs of the same dossiers as of two dates, or of two key sets with the
// same ends, have two names; a rerun of the same run that rebuilds a SIP writes the same bytes
// under the same name, so a crash never leaves two copies at the target.
func sipID(profile, class string, tier retention.Tier, asOf civil.Date, keys []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "versement-sip/2\x00%s\x00%s\x00%s\x00%s\x00%x", profile, class, tier, asOf, keys)
	return fmt.Sprintf("%s-%s-%s-%s", fileSafe(profile), fileSafe(class), tier, hex.EncodeToString(h.Sum(nil)[:8]))
}

func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return b.String()
}

// finish closes a SIP, moves it under its final name in the spool, records its dossiers, sends it
// and marks it sent: the order that makes a crash at any point recoverable (docs/pipeline.md).
func (p *Packager) finish(ctx context.Context, b *building) error {
	prof := p.cfg.Profile
	delete(p.open, sipKey{b.class.Name, b.tier})
	id := sipID(prof.Name, b.class.Name, b.tier, p.cfg.AsOf, b.keySum.Sum(nil))
	name := id + ".zip"
	fail := func(err error) error {
		b.w.Abort()
		b.f.Close()
		os.Remove(b.tmp)
		return fmt.Errorf("SIP %s: %w", name, err)
	}
	if err := b.w.SetMessageIdentifier(id); err != nil {
		return fail(err)
	}
	if err := b.w.CloseUnit(); err != nil {
		return fail(err)
	}
	sum, err := b.w.Close()
	if err != nil {
		return fail(err)
	}
	if err := b.cw.w.(*bufio.Writer).Flush(); err != nil {
		return fail(err)
	}
	if err := b.f.Sync(); err != nil {
		return fail(err)
	}
	if err := b.f.Close(); err != nil {
		return fail(err)
	}
	path := filepath.Join(p.cfg.Spool, name)
	if err := os.Rename(b.tmp, path); err != nil {
		return fail(err)
	}
	if err := syncDir(p.cfg.Spool); err != nil {
		return fmt.Errorf("SIP %s: %w", name, err)
	}
	crashPoint("renamed")
	s := SIP{ID: id, Name: name, MessageID: id, Class: b.class.Name, Tier: b.tier, Dossiers: len(b.keys),
		FirstKey: b.first, LastKey: b.last, Bytes: sum.ZipSize, DigestAlgorithm: "SHA-256", Digest: sum.ZipSHA256,
		ManifestDigest: sum.ManifestSHA512, RetainUntil: b.retainUntil, LegalHold: b.legalHold}
	row := stateSIP{RetainUntil: b.retainUntil.String(), LegalHold: b.legalHold, Name: name, Profile: prof.Name, Class: s.Class, Tier: string(s.Tier), MessageID: id, FirstKey: s.FirstKey,
		LastKey: s.LastKey, Dossiers: s.Dossiers, Bytes: s.Bytes, SHA256: s.Digest, ManifestSHA512: s.ManifestDigest}
	if err := p.cfg.State.spooled(ctx, row, b.keys); err != nil {
		return err
	}
	crashPoint("spooled")
	return p.setAside(p.send(ctx, &s, path))
}

// setAside keeps a rejected SIP's error for the end of the run and lets the run go on; any other
// error stops it.
func (p *Packager) setAside(err error) error {
	if err == nil || !errors.Is(err, transfer.ErrRejected) {
		return err
	}
	p.log.Error("SIP rejected by the archive: it stays in the spool and the next run sends it again", "err", err)
	p.rejected = append(p.rejected, err)
	return nil
}

// send transfers a spooled SIP through the ledger, marks it sent and removes it from the spool.
func (p *Packager) send(ctx context.Context, s *SIP, path string) error {
	t := p.cfg.Targets[s.Tier]
	if t == nil {
		return fmt.Errorf("SIP %s: no target for tier %s", s.Name, s.Tier)
	}
	ts := transfer.SIP{Name: s.Name, Path: path, Size: s.Bytes, SHA256: s.Digest,
		ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: s.ManifestDigest}, MessageID: s.MessageID,
		Origin: transfer.Origin{Profile: p.cfg.Profile.Name, Class: s.Class, Tier: string(s.Tier)}}
	if p.cfg.ObjectLock != "" {
		if !s.RetainUntil.IsZero() {
			ts.Retention = &transfer.Retention{Mode: p.cfg.ObjectLock, Until: s.RetainUntil.Time(time.UTC)}
		}
		ts.LegalHold = s.LegalHold
	}
	if err := p.verify(ctx, s, path); err != nil {
		return err
	}
	e, skipped, err := p.cfg.Ledger.Send(ctx, t, ts, ledger.Batch{FirstKey: s.FirstKey, LastKey: s.LastKey, Count: s.Dossiers})
	if errors.Is(err, transfer.ErrConflict) {
		// The name is the content's (sipID): the same dossiers as of the same date, but other
		// bytes (the source changed since, or another versement wrote it). Sending again cannot
		// help; a person must decide which copy is right.
		return &SIPError{SIP: s.Name, Dossiers: s.Dossiers, Err: fmt.Errorf("SIP %s: %w: nothing was overwritten. "+
			"The target holds another SIP of the same dossiers and as-of date (written from other data, or by another state folder or version); "+
			"compare the two (versement verify %s and the one at the target), then move the target's copy aside or send to another target: "+
			"until then every run with the state %s stops here", s.Name, err, path, filepath.Dir(p.cfg.Spool))}
	}
	if err != nil {
		return &SIPError{SIP: s.Name, Dossiers: s.Dossiers, Err: fmt.Errorf("SIP %s: %w (it stays in the spool %s; the next run sends it)", s.Name, err, p.cfg.Spool)}
	}
	if !e.Done() {
		return &SIPError{SIP: s.Name, Dossiers: s.Dossiers, Err: fmt.Errorf("SIP %s: the target answered %s (ledger entry %d); it stays in the spool %s", s.Name, e.Status, e.Seq, p.cfg.Spool)}
	}
	crashPoint("ledgered")
	if err := p.cfg.State.sent(ctx, s.Name, t.String(), e.Seq); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.log.Warn("could not remove a sent SIP from the spool", "path", path, "err", err)
	}
	s.Target, s.Receipt, s.LedgerSeq, s.AlreadySent = t.String(), e.Receipt, e.Seq, skipped
	s.Location = e.Receipt.Location
	p.sips = append(p.sips, *s)
	p.bytes.Add(s.Bytes)
	p.log.Info("SIP sent", "sip", s.Name, "class", s.Class, "tier", s.Tier, "dossiers", s.Dossiers, "bytes", s.Bytes,
		"sha256", s.Digest, "target", s.Target, "ledger_seq", e.Seq, "already_there", e.Receipt.AlreadyThere || skipped)
	if p.cfg.OnSIP != nil {
		p.cfg.OnSIP(*s)
	}
	return nil
}

// crashPoint is called at each step of finishing a SIP; tests set crashHook to kill the process
// there and prove that a rerun ends in the same state.
func crashPoint(stage string) {
	if crashHook != nil {
		crashHook(stage)
	}
}

var crashHook func(stage string)

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close finishes the open SIPs (in class and tier order) and reports every SIP of the run. After a
// cancellation (ctx is not cancelled, but interrupted says so) the open SIPs are finished too: what
// they hold was decided and written, and sending it is the safe point.
func (p *Packager) Close(ctx context.Context) ([]SIP, error) {
	var errs []error
	keys := make([]sipKey, 0, len(p.open))
	for k := range p.open {
		keys = append(keys, k)
	}
	sortSIPKeys(keys)
	for _, k := range keys {
		if err := p.finish(ctx, p.open[k]); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, p.rejected...)
	return p.sips, errors.Join(errs...)
}

// Discard abandons the open SIPs without sending them (after a failure of the run).
func (p *Packager) Discard() {
	for _, b := range p.open {
		p.abort(b)
	}
}

func sortSIPKeys(k []sipKey) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && (k[j].class < k[j-1].class || (k[j].class == k[j-1].class && tierOrder(k[j].tier) < tierOrder(k[j-1].tier))); j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}
