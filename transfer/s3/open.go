package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/versement/versement/transfer"
)

// Defaults of ReadOptions. archive/zip reads a directory 4 KiB at a time and an inflater 32 KiB
// at a time: each would be a request of its own without blocks. 256 KiB blocks hold a SIP's
// directory and compressed manifest in a block or two (a 1000-dossier SIP's are ~250 KB), and 8
// of them bound a Blob's memory to 2 MiB.
const (
	DefaultReadBlockSize = 256 << 10
	DefaultReadBlocks    = 8
)

// ReadOptions tune a Blob's block cache; the zero value takes the defaults.
type ReadOptions struct {
	BlockSize int64 // bytes of one ranged GetObject, aligned on multiples of it
	Blocks    int   // blocks kept, least recently used evicted first
}

// Open opens the SIP stored under name for random reads (transfer.Opener) with the default
// block cache.
func (t *Target) Open(ctx context.Context, name string) (transfer.Blob, error) {
	return t.OpenWith(ctx, name, ReadOptions{})
}

// OpenWith is Open with a block cache of its own size. The object is pinned as HeadObject finds
// it: every range request carries its ETag (If-Match) and version, so that bytes of two
// different objects are never mixed (a SIP is never overwritten here, but a bucket is not only
// ours).
func (t *Target) OpenWith(ctx context.Context, name string, o ReadOptions) (transfer.Blob, error) {
	if err := transfer.CheckName(name); err != nil {
		return nil, transfer.Permanent(err)
	}
	key := t.Key(name)
	head, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key})
	if notFound(err) {
		return nil, transfer.Permanent(fmt.Errorf("%s: %w", t.location(key), transfer.ErrNotExist))
	}
	if err != nil {
		return nil, classify(fmt.Errorf("S3 HeadObject %s: %w", t.location(key), err))
	}
	etag, version := head.ETag, head.VersionId
	where := t.location(key)
	fetch := func(ctx context.Context, off int64, p []byte) (int, error) {
		n := int64(len(p))
		out, err := t.client.GetObject(ctx, &s3.GetObjectInput{
			Bucket: &t.bucket, Key: &key, IfMatch: etag, VersionId: version,
			Range: aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)),
		}, func(o *s3.Options) {
			// A range has no checksum of its own to validate (the SIP's bytes are checked by the
			// manifest's digests): the SDK would log that on every block.
			o.DisableLogOutputChecksumValidationSkipped = true
		})
		if err != nil {
			return 0, readFailed(where, off, n, err)
		}
		defer out.Body.Close()
		got, err := io.ReadFull(out.Body, p)
		if err != nil {
			return got, transfer.Network(fmt.Errorf("S3 %s: bytes %d-%d: %d bytes received: %w", where, off, off+n-1, got, err))
		}
		return got, nil
	}
	return newBlob(ctx, aws.ToInt64(head.ContentLength), o, fetch), nil
}

// readFailed classifies a failed range request: a vanished object is ErrNotExist, one replaced
// since Open (412) is permanent, the rest as every other request of the backend.
func readFailed(where string, off, n int64, err error) error {
	if notFound(err) {
		return transfer.Permanent(fmt.Errorf("%s: %w (removed while it was read)", where, transfer.ErrNotExist))
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed" {
		return transfer.Permanent(fmt.Errorf("S3 %s: the object changed since it was opened: %w", where, err))
	}
	return classify(fmt.Errorf("S3 GetObject %s bytes %d-%d: %w", where, off, off+n-1, err))
}

// blob is an object read through a small cache of aligned blocks: the zip directory, the
// inflater and the XML decoder read a few KiB at a time, and each block is fetched once however
// many reads fall in it, even concurrent ones.
type blob struct {
	ctx       context.Context
	size      int64
	blockSize int64
	max       int
	fetch     func(ctx context.Context, off int64, p []byte) (int, error)

	mu     sync.Mutex
	blocks map[int64]*block
	tick   uint64

	bytes, requests atomic.Int64
}

type block struct {
	done chan struct{} // closed once data or err is set
	data []byte
	err  error
	used uint64 // blob.tick at the last read: the least recently used goes first
}

func newBlob(ctx context.Context, size int64, o ReadOptions, fetch func(context.Context, int64, []byte) (int, error)) *blob {
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultReadBlockSize
	}
	if o.Blocks <= 0 {
		o.Blocks = DefaultReadBlocks
	}
	return &blob{ctx: ctx, size: size, blockSize: o.BlockSize, max: o.Blocks, fetch: fetch, blocks: map[int64]*block{}}
}

func (b *blob) Size() int64 { return b.size }

func (b *blob) Stats() transfer.BlobStats {
	return transfer.BlobStats{Bytes: b.bytes.Load(), Requests: b.requests.Load()}
}

func (b *blob) Close() error {
	b.mu.Lock()
	b.blocks = map[int64]*block{}
	b.mu.Unlock()
	return nil
}

// ReadAt follows io.ReaderAt: fewer bytes than asked only with an error, io.EOF at the end. A
// read of two blocks or more (a large STORED object read in big pieces) is one request for
// exactly its bytes, not cached: blocks are for the small reads of a directory or an inflater.
func (b *blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("S3 read: negative offset")
	}
	if int64(len(p)) >= 2*b.blockSize && off < b.size {
		return b.direct(p, off)
	}
	n := 0
	for n < len(p) && off+int64(n) < b.size {
		at := off + int64(n)
		i := at / b.blockSize
		data, err := b.block(i)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[at-i*b.blockSize:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// direct reads p at off: what cached blocks hold at its start and at its end from them, the rest
// with one request of its own.
func (b *blob) direct(p []byte, off int64) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	want := p[:min(int64(len(p)), b.size-off)]
	n := 0
	for n < len(want) {
		at := off + int64(n)
		data, ok := b.cached(at / b.blockSize)
		if !ok {
			break
		}
		n += copy(want[n:], data[at-at/b.blockSize*b.blockSize:])
	}
	end := len(want)
	for end > n { // and at its end: a photo just before the manifest ends in the blocks it filled
		last := off + int64(end) - 1
		i := last / b.blockSize
		data, ok := b.cached(i)
		if !ok {
			break
		}
		from := max(i*b.blockSize, off+int64(n))
		copy(want[from-off:end], data[from-i*b.blockSize:])
		end = int(from - off)
	}
	if n < end {
		b.requests.Add(1)
		got, err := b.fetch(b.ctx, off+int64(n), want[n:end])
		b.bytes.Add(int64(got))
		if err != nil {
			return n + got, err
		}
	}
	n = len(want)
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// cached returns block i's bytes if they are there, fetched.
func (b *blob) cached(i int64) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	blk, ok := b.blocks[i]
	if !ok {
		return nil, false
	}
	select {
	case <-blk.done:
	default:
		return nil, false
	}
	if blk.err != nil || int64(len(blk.data)) < min(b.blockSize, b.size-i*b.blockSize) {
		return nil, false
	}
	b.tick++
	blk.used = b.tick
	return blk.data, true
}

// block returns block i's bytes, fetching them unless they are cached or being fetched.
func (b *blob) block(i int64) ([]byte, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.tick++
	blk, ok := b.blocks[i]
	if ok {
		blk.used = b.tick
		b.mu.Unlock()
		select {
		case <-blk.done:
		case <-b.ctx.Done():
			return nil, b.ctx.Err()
		}
		return blk.data, blk.err
	}
	blk = &block{done: make(chan struct{}), used: b.tick}
	b.blocks[i] = blk
	b.evict()
	b.mu.Unlock()

	off := i * b.blockSize
	n := min(b.blockSize, b.size-off)
	b.requests.Add(1)
	blk.data = make([]byte, n)
	got, err := b.fetch(b.ctx, off, blk.data)
	blk.data, blk.err = blk.data[:got], err
	b.bytes.Add(int64(got))
	if blk.err != nil {
		b.mu.Lock()
		if b.blocks[i] == blk {
			delete(b.blocks, i) // a later read tries again
		}
		b.mu.Unlock()
	}
	close(blk.done)
	return blk.data, blk.err
}

// evict drops the least recently used fetched blocks past the limit; blocks being fetched stay
// (their readers wait on them). Called with mu held.
func (b *blob) evict() {
	for len(b.blocks) > b.max {
		var oldest int64 = -1
		for i, blk := range b.blocks {
			select {
			case <-blk.done:
			default:
				continue
			}
			if oldest < 0 || blk.used < b.blocks[oldest].used {
				oldest = i
			}
		}
		if oldest < 0 {
			return
		}
		delete(b.blocks, oldest)
	}
}
