package deposit

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/versement/versement/internal/atomicfile"
)

// sidecar is an object's upload state, beside its data file: replaced atomically after the data
// is fsynced, so that what it says was received is on disk.
type sidecar struct {
	Object
	// Digest is the running SHA-256 of the Received bytes (crypto/sha256's marshalled state):
	// the whole object's digest is computed as the chunks come, across restarts.
	Digest []byte `json:"digest_state"`
}

// objectFile is where object name's files are: named by the digest of its case-folded name, so
// that no name reaches the file system and two names differing only by case collide.
func (s *Service) objectFile(id, name string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(name)))
	return filepath.Join(s.txDir(id), "objects", hex.EncodeToString(sum[:16]))
}

func readSidecar(base string) (*sidecar, error) {
	b, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, err
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("damaged object state %s.json: %w", base, err)
	}
	return &sc, nil
}

func writeSidecar(base string, sc *sidecar) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(base+".json", b)
}

// objects lists a transaction's objects by name.
func (s *Service) objects(id string) ([]Object, error) {
	files, err := filepath.Glob(filepath.Join(s.txDir(id), "objects", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, f := range files {
		sc, err := readSidecar(strings.TrimSuffix(f, ".json"))
		if err != nil {
			return nil, fmt.Errorf("deposit %s: transaction %s: %w", s.cfg.Establishment, id, err)
		}
		out = append(out, sc.Object)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Object is one object's upload state: a client resumes from its Received.
func (s *Service) Object(ctx context.Context, id, name string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	if _, err := s.load(id); err != nil {
		return Object{}, err
	}
	sc, err := readSidecar(s.objectFile(id, name))
	if errors.Is(err, fs.ErrNotExist) || err == nil && sc.Name != name {
		return Object{}, errorf(NotFound, "objects/"+name, "no object %q in transaction %s", name, id)
	}
	if err != nil {
		return Object{}, err
	}
	return sc.Object, nil
}

func checkDigest(field, what, v string) error {
	if len(v) != 64 || strings.Trim(v, "0123456789abcdef") != "" {
		return errorf(Invalid, field, "%s must be a SHA-256 in lowercase hex (64 characters)", what)
	}
	return nil
}

func (s *Service) checkChunk(c Chunk) error {
	if err := checkObjectName(c.Name); err != nil {
		return err
	}
	f := "objects/" + c.Name
	if err := checkDigest(f, "the chunk's digest", c.ChunkSHA256); err != nil {
		return err
	}
	if err := checkDigest(f, "the object's digest", c.ObjectSHA256); err != nil {
		return err
	}
	switch {
	case c.Total < 0 || c.Offset < 0 || c.Length < 0 || c.Offset+c.Length > c.Total:
		return errorf(Invalid, f, "chunk bytes %d+%d of %d: not within the object", c.Offset, c.Length, c.Total)
	case c.Length == 0 && c.Total > 0:
		return errorf(Invalid, f, "empty chunk")
	case c.Total > s.lim.MaxObjectBytes:
		return errorf(TooLarge, f, "object of %d bytes: the limit is %d", c.Total, s.lim.MaxObjectBytes)
	case c.Length > s.lim.MaxChunkBytes:
		return errorf(TooLarge, f, "chunk of %d bytes: the limit is %d", c.Length, s.lim.MaxChunkBytes)
	}
	return nil
}

// PutChunk stores one chunk of an object. The chunk's SHA-256 is checked before the chunk counts;
// it must start at the object's Received (a Conflict says where otherwise), except a chunk
// wholly received already with the same digest, acknowledged as a retry. The last chunk checks
// the whole object's SHA-256: wrong, the object's bytes are removed.
func (s *Service) PutChunk(ctx context.Context, id string, c Chunk, r io.Reader) (Object, error) {
	if err := s.checkChunk(c); err != nil {
		return Object{}, err
	}
	f := "objects/" + c.Name
	rec, unlock, err := s.lockTx(ctx, id, lockWait)
	if err != nil {
		return Object{}, err
	}
	defer unlock()
	if rec.Kind != KindUnits {
		return Object{}, errorf(Conflict, f, "transaction %s carries a SIP: it takes no objects", id)
	}
	if rec.State != StateOpen {
		return Object{}, errorf(Conflict, f, "transaction %s is %s: it takes no more objects", id, rec.State)
	}
	base := s.objectFile(id, c.Name)
	sc, err := readSidecar(base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if rec.ObjectCount >= s.lim.MaxObjects {
			return Object{}, errorf(TooLarge, f, "transaction %s has %d objects: the limit is %d", id, rec.ObjectCount, s.lim.MaxObjects)
		}
		h := sha256.New()
		st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		sc = &sidecar{Object: Object{Name: c.Name, Size: c.Total, SHA256: c.ObjectSHA256}, Digest: st}
		rec.ObjectCount++
		if err := s.save(rec); err != nil {
			return Object{}, err
		}
	case err != nil:
		return Object{}, err
	case sc.Name != c.Name:
		return Object{}, errorf(Conflict, f, "another object, %q, differs from %q only by case: an archive extracted on Windows or macOS would hold one", sc.Name, c.Name)
	case sc.Size != c.Total || sc.SHA256 != c.ObjectSHA256:
		return Object{}, errorf(Conflict, f, "object %q was started as %d bytes with SHA-256 %s: a chunk of another object (%d bytes, %s) cannot continue it",
			c.Name, sc.Size, sc.SHA256, c.Total, c.ObjectSHA256)
	}
	if c.Offset != sc.Received {
		if c.Offset+c.Length <= sc.Received && s.sameBytes(base, c, r) {
			return sc.Object, nil // a retry of a chunk already stored
		}
		got := sc.Received
		e := errorf(Conflict, f, "chunk at offset %d, but %d bytes are received: resume at %d", c.Offset, got, got)
		e.Received = &got
		return Object{}, e
	}
	if err := s.appendChunk(ctx, base, sc, c, r); err != nil {
		return Object{}, err
	}
	if sc.Complete {
		if err := s.journal(ctx, Event{Event: EventObject, Tx: id, Object: c.Name, Size: sc.Size, SHA256: sc.SHA256}); err != nil {
			return Object{}, err
		}
	}
	return sc.Object, nil
}

// sameBytes reports whether r holds chunk c, and the stored bytes at its range are the same.
func (s *Service) sameBytes(base string, c Chunk, r io.Reader) bool {
	body := sha256.New()
	if n, err := io.Copy(body, io.LimitReader(r, c.Length)); err != nil || n != c.Length || hex.EncodeToString(body.Sum(nil)) != c.ChunkSHA256 {
		return false
	}
	fd, err := os.Open(base + ".data")
	if err != nil {
		return false
	}
	defer fd.Close()
	stored := sha256.New()
	if n, err := io.Copy(stored, io.NewSectionReader(fd, c.Offset, c.Length)); err != nil || n != c.Length {
		return false
	}
	return hex.EncodeToString(stored.Sum(nil)) == c.ChunkSHA256
}

// appendChunk writes c's bytes after the received ones, hashing them as they are written, and
// commits them (data fsynced, then the sidecar) only once the chunk's digest is right.
func (s *Service) appendChunk(ctx context.Context, base string, sc *sidecar, c Chunk, r io.Reader) error {
	f := "objects/" + c.Name
	run := sha256.New()
	if err := run.(encoding.BinaryUnmarshaler).UnmarshalBinary(sc.Digest); err != nil {
		return fmt.Errorf("deposit: %s: damaged digest state: %w", f, err)
	}
	fd, err := os.OpenFile(base+".data", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("deposit: %s: %w", f, err)
	}
	defer fd.Close()
	// Bytes past Received are a chunk that was never acknowledged (a crash, a refused digest).
	if err := fd.Truncate(sc.Received); err != nil {
		return fmt.Errorf("deposit: %s: %w", f, err)
	}
	chunk := sha256.New()
	w := io.MultiWriter(io.NewOffsetWriter(fd, sc.Received), chunk, run)
	n, err := io.Copy(w, ctxReader{ctx, io.LimitReader(r, c.Length)})
	rollback := func() { _ = fd.Truncate(sc.Received) }
	if err != nil {
		rollback()
		return fmt.Errorf("deposit: %s: reading the chunk: %w", f, err)
	}
	if n != c.Length {
		rollback()
		return errorf(Invalid, f, "chunk body is %d bytes, the request said %d", n, c.Length)
	}
	if extra, _ := r.Read(make([]byte, 1)); extra > 0 {
		rollback()
		return errorf(Invalid, f, "chunk body is longer than the %d bytes the request said", c.Length)
	}
	if got := hex.EncodeToString(chunk.Sum(nil)); got != c.ChunkSHA256 {
		rollback()
		return errorf(Unprocessable, f, "chunk at offset %d: its SHA-256 is %s, not the declared %s: nothing was stored", c.Offset, got, c.ChunkSHA256)
	}
	last := c.Offset+c.Length == c.Total
	if last {
		if got := hex.EncodeToString(run.Sum(nil)); got != c.ObjectSHA256 {
			fd.Close()
			os.Remove(base + ".json")
			os.Remove(base + ".data")
			return errorf(Unprocessable, f, "the whole object's SHA-256 is %s, not the declared %s: the object was removed; upload it again from offset 0", got, c.ObjectSHA256)
		}
	}
	if err := fd.Sync(); err != nil {
		rollback()
		return fmt.Errorf("deposit: %s: %w", f, err)
	}
	st, err := run.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	next := *sc
	next.Received, next.Digest, next.Complete = sc.Received+n, st, last
	if err := writeSidecar(base, &next); err != nil {
		rollback()
		return fmt.Errorf("deposit: %s: %w", f, err)
	}
	*sc = next
	return nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
