package deposit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

func openTx(t *testing.T, s *Service) Transaction {
	t.Helper()
	tx, err := s.Create(context.Background(), Header{Profile: "apogee", Class: "etudiant"}, "client")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func chunkOf(name string, data []byte, off, n int) (Chunk, *bytes.Reader) {
	end := min(off+n, len(data))
	return Chunk{Name: name, Offset: int64(off), Length: int64(end - off), Total: int64(len(data)),
		ChunkSHA256: hexSum(data[off:end]), ObjectSHA256: hexSum(data)}, bytes.NewReader(data[off:end])
}

// uploadResumable uploads size bytes in 4 MiB chunks, the service closed and reopened (a server
// restart) half-way with an unacknowledged chunk's bytes left behind, the client resuming from
// Object().Received. The chunks are generated as they are sent, and the stored object checked
// by its digest: memory stays at a few chunks whatever the size.
func uploadResumable(t *testing.T, size int) {
	ctx := context.Background()
	dir := t.TempDir()
	var q []string
	s := newService(t, dir, t.TempDir(), "dir://"+t.TempDir(), &q)
	tx := openTx(t, s)
	const n = 4 << 20
	chunk := func(i int) []byte { return randomBytes(min(n, size-i*n), uint64(i)) }
	whole := sha256.New()
	for i := 0; i*n < size; i++ {
		whole.Write(chunk(i))
	}
	sum := hex.EncodeToString(whole.Sum(nil))
	put := func(i int) Object {
		b := chunk(i)
		c := Chunk{Name: "big.bin", Offset: int64(i * n), Length: int64(len(b)), Total: int64(size), ChunkSHA256: hexSum(b), ObjectSHA256: sum}
		o, err := s.PutChunk(ctx, tx.ID, c, bytes.NewReader(b))
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		return o
	}
	half := size / n / 2
	for i := range half {
		put(i)
	}
	// The crash: half a chunk written, never acknowledged.
	f, err := os.OpenFile(s.objectFile(tx.ID, "big.bin")+".data", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(chunk(half)[:n/2])
	f.Close()

	s = newService(t, dir, t.TempDir(), "dir://"+t.TempDir(), &q) // the restarted server
	o, err := s.Object(ctx, tx.ID, "big.bin")
	if err != nil || o.Received != int64(half*n) || o.Complete {
		t.Fatalf("after the restart: %+v %v, want %d received", o, err, half*n)
	}
	for i := int(o.Received) / n; i*n < size; i++ {
		o = put(i)
	}
	if !o.Complete || o.Received != int64(size) || o.SHA256 != sum {
		t.Fatalf("after the last chunk: %+v", o)
	}
	f, err = os.Open(s.objectFile(tx.ID, "big.bin") + ".data")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stored := sha256.New()
	if m, err := io.Copy(stored, f); err != nil || m != int64(size) || hex.EncodeToString(stored.Sum(nil)) != sum {
		t.Fatalf("stored object differs from the upload (%d bytes, %v)", m, err)
	}
}

// TestChunkedUploadResumesAfterRestart: 64 MiB in 4 MiB chunks.
func TestChunkedUploadResumesAfterRestart(t *testing.T) { uploadResumable(t, 64<<20) }

// TestChunkedUploadLarge is the same with VERSEMENT_TEST_DEPOSIT_MIB (e.g. 2048: the 2 GiB).
func TestChunkedUploadLarge(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("VERSEMENT_TEST_DEPOSIT_MIB"))
	if mib <= 0 {
		t.Skip("VERSEMENT_TEST_DEPOSIT_MIB not set")
	}
	uploadResumable(t, mib<<20)
}

func TestChunkRefusals(t *testing.T) {
	ctx := context.Background()
	var q []string
	s := newService(t, t.TempDir(), t.TempDir(), "dir://"+t.TempDir(), &q)
	tx := openTx(t, s)
	data := randomBytes(10_000, 2)
	data2 := randomBytes(10_000, 3)

	// A chunk whose digest is wrong: refused, nothing stored.
	c, r := chunkOf("a.bin", data, 0, 4000)
	c.ChunkSHA256 = hexSum(data[1:4001])
	_, err := s.PutChunk(ctx, tx.ID, c, r)
	wantError(t, err, Unprocessable, "objects/a.bin", "chunk at offset 0: its SHA-256 is "+hexSum(data[:4000])+", not the declared "+hexSum(data[1:4001])+": nothing was stored")
	if o, _ := s.Object(ctx, tx.ID, "a.bin"); o.Received != 0 {
		t.Errorf("after a refused chunk: %+v", o)
	}
	if fi, err := os.Stat(s.objectFile(tx.ID, "a.bin") + ".data"); err == nil && fi.Size() != 0 {
		t.Errorf("a refused chunk left %d bytes", fi.Size())
	}
	// A good chunk, its retry acknowledged, a chunk past the received bytes a Conflict.
	c, r = chunkOf("a.bin", data, 0, 4000)
	if _, err := s.PutChunk(ctx, tx.ID, c, r); err != nil {
		t.Fatal(err)
	}
	c, r = chunkOf("a.bin", data, 0, 4000)
	if o, err := s.PutChunk(ctx, tx.ID, c, r); err != nil || o.Received != 4000 {
		t.Fatalf("retried chunk: %+v %v", o, err)
	}
	c, r = chunkOf("a.bin", data, 8000, 2000)
	e := wantError(t, s.put(c, r, tx.ID), Conflict, "objects/a.bin", "chunk at offset 8000, but 4000 bytes are received: resume at 4000")
	if e.Received == nil || *e.Received != 4000 {
		t.Errorf("Received %v, want 4000", e.Received)
	}
	// A chunk claiming bytes already received but holding others: a Conflict.
	c, r = chunkOf("a.bin", data2, 0, 4000)
	c.ObjectSHA256 = hexSum(data)
	wantError(t, s.put(c, r, tx.ID), Conflict, "objects/a.bin", "chunk at offset 0, but 4000 bytes are received: resume at 4000")
	// The last chunk with a wrong whole digest: refused, the object removed.
	bad := hexSum([]byte("other"))
	for off := 4000; off < len(data); off += 4000 {
		c, r = chunkOf("a.bin", data, off, 4000)
		c.ObjectSHA256 = hexSum(data)
		if off+4000 >= len(data) {
			break
		}
		if _, err := s.PutChunk(ctx, tx.ID, c, r); err != nil {
			t.Fatal(err)
		}
	}
	tx2 := openTx(t, s)
	d := randomBytes(100, 4)
	c, r = chunkOf("b.bin", d, 0, 100)
	c.ObjectSHA256 = bad
	wantError(t, s.put(c, r, tx2.ID), Unprocessable, "objects/b.bin", "the whole object's SHA-256 is "+hexSum(d)+", not the declared "+bad+": the object was removed; upload it again from offset 0")
	if _, err := s.Object(ctx, tx2.ID, "b.bin"); err == nil {
		t.Error("the object with the wrong digest is still there")
	}
	if m, _ := filepath.Glob(filepath.Join(s.txDir(tx2.ID), "objects", "*")); len(m) != 0 {
		t.Errorf("files left: %v", m)
	}
	// A name differing only by case from an object of the transaction.
	c, r = chunkOf("A.BIN", data, 0, 4000)
	wantError(t, s.put(c, r, tx.ID), Conflict, "objects/A.BIN", `another object, "a.bin", differs from "A.BIN" only by case: an archive extracted on Windows or macOS would hold one`)
	// Too large.
	c, r = chunkOf("huge.bin", data, 0, 4000)
	c.Total = 9 << 30
	wantError(t, s.put(c, r, tx.ID), TooLarge, "objects/huge.bin", "object of 9663676416 bytes: the limit is 8589934592")
}

func (s *Service) put(c Chunk, r *bytes.Reader, id string) error {
	_, err := s.PutChunk(context.Background(), id, c, r)
	return err
}

func TestObjectNamesRefused(t *testing.T) {
	var q []string
	s := newService(t, t.TempDir(), t.TempDir(), "dir://"+t.TempDir(), &q)
	tx := openTx(t, s)
	for _, tc := range []struct{ name, msg string }{
		{"../etc/passwd", `object name "../etc/passwd" refused: a path separator ('/' or '\'): give the file's name only`},
		{"..", `object name ".." refused: a folder reference`},
		{`a\b.pdf`, `object name "a\\b.pdf" refused: a path separator ('/' or '\'): give the file's name only`},
		{".hidden", `object name ".hidden" refused: it starts with '.' or '-' (hidden files and options to archive tools)`},
		{"-rf", `object name "-rf" refused: it starts with '.' or '-' (hidden files and options to archive tools)`},
		{"a\x01b", `object name "a\x01b" refused: it holds a control character`},
		{"what?.pdf", `object name "what?.pdf" refused: it holds one of : * ? " < > | (refused by Windows file systems and zip tools)`},
		{"name.", `object name "name." refused: it starts or ends with a space, or ends with '.' (Windows drops them)`},
		{"e\u0301te.pdf", `object name "e` + "\u0301" + `te.pdf" refused: not in Unicode NFC form (the same name would be two different byte strings): send it NFC-normalised`},
		{strings.Repeat("x", 256), `object name "` + strings.Repeat("x", 256) + `" refused: longer than 255 bytes (a file system's limit)`},
	} {
		c, r := chunkOf(tc.name, []byte("x"), 0, 1)
		wantError(t, s.put(c, r, tx.ID), Invalid, "objects/"+tc.name, tc.msg)
	}
	c, r := chunkOf("ok-été.pdf", []byte("x"), 0, 1)
	if err := s.put(c, r, tx.ID); err != nil {
		t.Errorf("a good name refused: %v", err)
	}
}

// BenchmarkPutChunk uploads 256 MiB in 64 MiB chunks (the chunk size): each chunk is
// hashed twice (its own digest and the running one) and fsynced.
func BenchmarkPutChunk(b *testing.B) {
	const size, n = 256 << 20, 64 << 20
	data := randomBytes(size, 9)
	sum := hexSum(data)
	sums := make([]string, size/n)
	for i := range sums {
		sums[i] = hexSum(data[i*n : (i+1)*n])
	}
	b.SetBytes(size)
	for b.Loop() {
		s, err := Open(context.Background(), Config{Establishment: "bench", Dir: b.TempDir(), Profile: builtinProfile,
			Job: func(*profiles.Profile) pipeline.JobSpec { return pipeline.JobSpec{} }})
		if err != nil {
			b.Fatal(err)
		}
		tx, err := s.Create(context.Background(), Header{Profile: "apogee", Class: "etudiant"}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		for i := range sums {
			c := Chunk{Name: "big.bin", Offset: int64(i * n), Length: n, Total: size, ChunkSHA256: sums[i], ObjectSHA256: sum}
			if _, err := s.PutChunk(context.Background(), tx.ID, c, bytes.NewReader(data[i*n:(i+1)*n])); err != nil {
				b.Fatal(err)
			}
		}
	}
}
