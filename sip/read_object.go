package sip

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/versement/versement/seda"
)

// digests are the algorithms the verifier accepts (seda's DigestAlgorithm constants), with their
// constructors.
var digests = map[seda.DigestAlgorithm]func() hash.Hash{
	seda.MD5: md5.New, seda.SHA1: sha1.New, seda.SHA256: sha256.New, seda.SHA384: sha512.New384, seda.SHA512: sha512.New,
}

func newDigest(algo string) (hash.Hash, error) {
	if f := digests[seda.DigestAlgorithm(algo)]; f != nil {
		return f(), nil
	}
	return nil, fmt.Errorf("digest algorithm %q is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", truncateText(algo, 40))
}

// decodeDigestValue reads a MessageDigest as lowercase or uppercase hex, else base64, of the
// algorithm's length, as the verifier does.
func decodeDigestValue(s string, size int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == size {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == size {
			return b, nil
		}
	}
	return nil, fmt.Errorf("digest %q is neither hex nor base64 of a %d-byte digest", truncateText(s, 140), size)
}

// Checked wraps the bytes of object o, from wherever they come (a SIP's zip entry, an archive's
// download of the same object), so that they are checked against o's Size and digest as they are
// read: never a byte past Size, and the read that reaches the end fails with an error wrapping
// ErrDigest if they differ. what names the object in errors.
func Checked(ctx context.Context, rc io.ReadCloser, o Object, what string) (io.ReadCloser, error) {
	h, want, err := expected(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &checkedReader{ctx: ctx, rc: rc, h: h, want: want, size: o.Size, what: what}, nil
}

// expected is the hash to compute over o's bytes and the digest it must give.
func expected(o Object) (hash.Hash, []byte, error) {
	h, err := newDigest(o.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	want, err := decodeDigestValue(o.Digest, h.Size())
	return h, want, err
}

// checkedReader hands over an object's bytes up to the manifest's Size and checks size and digest
// at the end.
type checkedReader struct {
	ctx  context.Context
	rc   io.ReadCloser
	h    hash.Hash
	want []byte
	size int64 // the manifest's Size; -1: not declared
	n    int64
	what string
	err  error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.size >= 0 && int64(len(p)) > c.size-c.n+1 {
		p = p[:c.size-c.n+1] // one byte more than declared is enough to tell a longer file
	}
	n, err := c.rc.Read(p)
	if c.size >= 0 && c.n+int64(n) > c.size {
		n = int(c.size - c.n)
		c.h.Write(p[:n])
		c.n += int64(n)
		c.err = fmt.Errorf("%s: %w: longer than the %d bytes the manifest declares", c.what, ErrDigest, c.size)
		return n, c.err
	}
	c.h.Write(p[:n])
	c.n += int64(n)
	switch {
	case err == io.EOF:
		c.err = c.check()
		return n, c.err
	case err != nil:
		c.err = fmt.Errorf("%s: read after %d bytes: %w", c.what, c.n, err)
		return n, c.err
	}
	return n, nil
}

// check is the verdict at the end of the bytes: io.EOF, or what differs.
func (c *checkedReader) check() error {
	if c.size >= 0 && c.n != c.size {
		return fmt.Errorf("%s: %w: %d bytes, the manifest declares %d", c.what, ErrDigest, c.n, c.size)
	}
	if got := c.h.Sum(nil); !bytes.Equal(got, c.want) {
		return fmt.Errorf("%s: %w: digest %s, the manifest declares %s", c.what, ErrDigest, hex.EncodeToString(got), hex.EncodeToString(c.want))
	}
	return io.EOF
}

func (c *checkedReader) Close() error { return c.rc.Close() }
