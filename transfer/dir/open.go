package dir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/versement/versement/transfer"
)

// Open opens the SIP stored under name for random reads (transfer.Opener): the file itself, read
// in place. The name is checked as Stat checks it, so a tampered index cannot make it read
// outside the folder.
func (t *Target) Open(ctx context.Context, name string) (transfer.Blob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := transfer.CheckName(name); err != nil {
		return nil, transfer.Permanent(err)
	}
	p := t.path(name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, transfer.Permanent(fmt.Errorf("%s: %w", p, transfer.ErrNotExist))
	} else if err != nil {
		return nil, t.fail("cannot read "+p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, t.fail("cannot read "+p, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, transfer.Permanent(fmt.Errorf("%s: not a regular file", p))
	}
	return &fileBlob{t: t, ctx: ctx, f: f, size: fi.Size()}, nil
}

// fileBlob is a SIP file read in place, counting what is read so that a folder's figures compare
// with S3's.
type fileBlob struct {
	t            *Target
	ctx          context.Context
	f            *os.File
	size         int64
	bytes, reads atomic.Int64
}

func (b *fileBlob) Size() int64 { return b.size }

func (b *fileBlob) Stats() transfer.BlobStats {
	return transfer.BlobStats{Bytes: b.bytes.Load(), Requests: b.reads.Load()}
}

func (b *fileBlob) ReadAt(p []byte, off int64) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := b.f.ReadAt(p, off)
	b.bytes.Add(int64(n))
	b.reads.Add(1)
	if err != nil && err != io.EOF {
		return n, b.t.fail("read "+b.f.Name(), err)
	}
	return n, err
}

func (b *fileBlob) Close() error { return b.f.Close() }
