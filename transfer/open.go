package transfer

import (
	"context"
	"io"
)

// Opener is implemented by targets that can read a stored SIP back in pieces: a folder (the file)
// and S3 (ranged GetObject requests). Consulting one dossier reads the zip's central directory,
// the manifest and that dossier's objects, not the whole SIP, so a 1 GiB SIP on S3 costs a few
// requests. VITAM is not one: what it archived is read through its access API. Find it with As:
// the decorators do not claim it (a read is not sent, so there is nothing to dry-run, and a
// failed range request is the caller's to retry), As reaches the target they wrap.
type Opener interface {
	// Open opens the SIP stored under name, or returns an error wrapping ErrNotExist. The Blob
	// reads with ctx for as long as it is open: a cancelled ctx fails its reads.
	Open(ctx context.Context, name string) (Blob, error)
}

// Blob is a stored SIP opened for random reads. It is safe for concurrent use.
type Blob interface {
	io.ReaderAt
	// Size is the SIP's size in bytes, as the target stores it.
	Size() int64
	// Stats says what reading it has cost so far: what a benchmark and a log of a consultation
	// show.
	Stats() BlobStats
	Close() error
}

// BlobStats counts what a Blob fetched from its target.
type BlobStats struct {
	Bytes    int64 // bytes fetched from the target (S3: response bodies; a folder: bytes read)
	Requests int64 // range requests (S3) or reads (a folder)
}
