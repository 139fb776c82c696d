package server

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/versement/versement/deposit"
)

func (s *Server) apiPutChunk(w http.ResponseWriter, r *http.Request, c *apiCall) {
	name, ok := objectName(w, r)
	if !ok {
		return
	}
	first, length, total, err := parseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Content-Range", "Content-Range: "+err.Error())
		return
	}
	if max := s.api.cfg.MaxChunkBytes; length > max {
		writeProblem(w, http.StatusRequestEntityTooLarge, string(deposit.TooLarge), "Content-Range", fmt.Sprintf("a chunk is at most %d bytes", max))
		return
	}
	if r.ContentLength < 0 {
		// Known up front, a chunk's length is checked before a byte is stored.
		writeProblem(w, http.StatusLengthRequired, kindLength, "Content-Length", "a chunk needs its Content-Length")
		return
	}
	if r.ContentLength != length {
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Content-Length",
			fmt.Sprintf("Content-Length is %d bytes but Content-Range says %d", r.ContentLength, length))
		return
	}
	chunkSum, err := sha256Digest(r.Header.Get("Content-Digest"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Content-Digest", "Content-Digest: "+err.Error()+" (want sha-256=:BASE64: of the chunk)")
		return
	}
	objectSum, err := sha256Digest(r.Header.Get("Repr-Digest"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Repr-Digest", "Repr-Digest: "+err.Error()+" (want sha-256=:BASE64: of the whole object)")
		return
	}
	extendRead(w, length)
	body := &exactBody{r: r.Body, left: length}
	o, err := c.deposits.PutChunk(r.Context(), r.PathValue("id"), deposit.Chunk{
		Name: name, Offset: first, Length: length, Total: total, ChunkSHA256: chunkSum, ObjectSHA256: objectSum,
	}, body)
	if err != nil {
		switch {
		case body.short:
			writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Content-Range",
				fmt.Sprintf("the body ended after %d bytes but Content-Range says %d", length-body.left, length))
		case body.long:
			writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "Content-Range",
				fmt.Sprintf("the body is longer than the %d bytes Content-Range says", length))
		default:
			s.depositProblem(w, r, "chunk", err)
		}
		return
	}
	setObjectHeaders(w, o)
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) apiObject(w http.ResponseWriter, r *http.Request, c *apiCall) {
	name, ok := objectName(w, r)
	if !ok {
		return
	}
	o, err := c.deposits.Object(r.Context(), r.PathValue("id"), name)
	if err != nil {
		s.depositProblem(w, r, "object", err)
		return
	}
	setObjectHeaders(w, o)
	writeJSON(w, http.StatusOK, o)
}

// objectName is the path's object name, refused when it cannot be one file's name (a decoded
// %2F, control characters); what the archive accepts beyond that is the Deposits' to say.
func objectName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	bad := name == "" || name == "." || name == ".." || len(name) > 255 ||
		strings.ContainsFunc(name, func(c rune) bool { return c == '/' || c == '\\' || unicode.IsControl(c) })
	if bad {
		writeProblem(w, http.StatusBadRequest, string(deposit.Invalid), "name", "an object's name is one path segment of 1 to 255 bytes, without '/', '\\' or control characters")
		return "", false
	}
	return name, true
}

var contentRange = regexp.MustCompile(`^bytes ([0-9]{1,18})-([0-9]{1,18})/([0-9]{1,18})$`)

// parseContentRange reads "bytes FIRST-LAST/TOTAL" (RFC 9110 §14.4), inclusive, as a request
// header carries it for a chunk, and returns the chunk's offset and length. An empty object,
// which no byte range can name, is "bytes */0" (the unsatisfied-range form) with an empty body.
func parseContentRange(v string) (first, length, total int64, err error) {
	if v == "bytes */0" {
		return 0, 0, 0, nil
	}
	m := contentRange.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, 0, errors.New("want bytes FIRST-LAST/TOTAL, e.g. bytes 0-1048575/5000000")
	}
	first, _ = strconv.ParseInt(m[1], 10, 64)
	last, _ := strconv.ParseInt(m[2], 10, 64)
	total, _ = strconv.ParseInt(m[3], 10, 64)
	if first > last || last >= total {
		return 0, 0, 0, fmt.Errorf("bytes %d-%d/%d: want FIRST <= LAST < TOTAL", first, last, total)
	}
	return first, last - first + 1, total, nil
}

// sha256Digest reads the sha-256 member of an RFC 9530 digest field (a structured dictionary:
// sha-256=:BASE64:, possibly with other algorithms) and returns it in lowercase hex.
func sha256Digest(field string) (string, error) {
	if field == "" {
		return "", errors.New("missing")
	}
	for member := range strings.SplitSeq(field, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(member), "=")
		if !ok || k != "sha-256" {
			continue
		}
		if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
			return "", errors.New("sha-256 is not a byte sequence")
		}
		sum, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
		if err != nil || len(sum) != 32 {
			return "", errors.New("sha-256 is not 32 bytes in base64")
		}
		return hex.EncodeToString(sum), nil
	}
	return "", errors.New("no sha-256 member")
}

// limitedBody reads at most n bytes and says whether the body had more; reading past n is an
// error, so that the Deposits stop and store nothing of a body over the limit.
type limitedBody struct {
	r    io.Reader
	n    int64
	over bool
}

var errBodyTooLarge = errors.New("request body over the limit")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		// One byte more tells a body of exactly n bytes from a longer one.
		var one [1]byte
		k, err := b.r.Read(one[:])
		if k > 0 {
			b.over = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	return k, err
}

// exactBody is a chunk's body, which must be exactly its Content-Range's length: shorter (a
// dropped connection) or longer is an error to the Deposits and a flag to the handler.
type exactBody struct {
	r           io.Reader
	left        int64
	short, long bool
}

var errChunkLength = errors.New("chunk body length differs from its Content-Range")

func (b *exactBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		k, err := b.r.Read(one[:])
		if k > 0 {
			b.long = true
			return 0, errChunkLength
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	k, err := b.r.Read(p)
	b.left -= int64(k)
	if err == io.EOF && b.left > 0 {
		b.short = true
		return k, io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		// A broken connection: the chunk is short.
		b.short = true
	}
	return k, err
}

// declared is the body's announced length, else max.
func declared(r *http.Request, max int64) int64 {
	if r.ContentLength > 0 {
		return r.ContentLength
	}
	return max
}

// extendRead gives a body of up to n bytes the time to come at minUploadRate, past the
// server's ReadTimeout (meant for the pages' small forms).
func extendRead(w http.ResponseWriter, n int64) {
	d := uploadDeadlineAt + time.Duration(n/minUploadRate)*time.Second
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
}
