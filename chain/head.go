package chain

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/versement/versement/internal/atomicfile"
)

// Head is where a file ends: how many entries it holds and the hash of the last one (Genesis for
// an empty file). The chain proves that no entry was changed, removed or reordered before the
// last; only a head kept apart from the file shows that entries were removed from its end, or that
// the whole chain was recomputed.
type Head struct {
	Entries int64  `json:"entries"` // -1: not known (a head given as a hash alone)
	Hash    string `json:"hash"`
}

// String is COUNT:HASH, how a head file holds it and --head takes it; a head without a count is
// its hash alone.
func (h Head) String() string {
	if h.Entries < 0 {
		return h.Hash
	}
	return strconv.FormatInt(h.Entries, 10) + ":" + h.Hash
}

// HeadPath is the head file of the file at path: beside it, with its extension replaced by
// ".head" (ledger.jsonl → ledger.head, access.jsonl → access.head).
func HeadPath(path string) string {
	ext := filepath.Ext(path)
	if ext == ".head" || ext == "" {
		return path + ".head"
	}
	return strings.TrimSuffix(path, ext) + ".head"
}

// ParseHead reads a head written as COUNT:HASH or HASH (64 hex digits).
func ParseHead(s string) (Head, error) {
	s = strings.TrimSpace(s)
	h := Head{Entries: -1, Hash: s}
	if c, hash, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return Head{}, fmt.Errorf("%q: want HASH or COUNT:HASH (COUNT a number of entries)", s)
		}
		h = Head{Entries: n, Hash: hash}
	}
	h.Hash = strings.ToLower(h.Hash)
	if !isHash(h.Hash) {
		return Head{}, fmt.Errorf("%q: want HASH or COUNT:HASH (HASH 64 hex digits, as ledger.head and the run report give it)", s)
	}
	if h.Entries == 0 && h.Hash != Genesis {
		return Head{}, fmt.Errorf("%q: an empty ledger's head is 0:%s", s, Genesis)
	}
	return h, nil
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ReadHead reads the head file at path (HeadPath of a file). A missing file is an error wrapping
// fs.ErrNotExist.
func ReadHead(path string) (Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return Head{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return Head{}, fmt.Errorf("%s: %w", path, err)
	}
	h, err := ParseHead(string(b))
	if err != nil {
		return Head{}, fmt.Errorf("%s is not a ledger head: %w", path, err)
	}
	if h.Entries < 0 {
		return Head{}, fmt.Errorf("%s is not a ledger head: %q has no entry count", path, strings.TrimSpace(string(b)))
	}
	return h, nil
}

// writeHead replaces the head file atomically: a crash leaves the previous head or the new one.
func writeHead(path string, h Head, perm fs.FileMode) error {
	p, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := p.Chmod(perm); err != nil {
		p.Abort()
		return err
	}
	if _, err := p.WriteString(h.String() + "\n"); err != nil {
		p.Abort()
		return err
	}
	return p.Commit()
}

// probe compares a head with a file while the file is read once, from its first entry, keeping
// only what the comparison needs (a file of millions of entries is not held in memory).
type probe struct {
	h     Head
	at    string // hash of entry h.Entries, once seen (Genesis for 0)
	match int64  // for a head without a count: the last entry with its hash (0: none)
}

func newProbe(h Head) *probe {
	p := &probe{h: h}
	if h.Entries == 0 {
		p.at = Genesis
	}
	return p
}

// see is called with each good entry's number (1-based) and hash, in order.
func (p *probe) see(i int64, hash string) {
	switch {
	case p.h.Entries < 0 && hash == p.h.Hash:
		p.match = i
	case i == p.h.Entries:
		p.at = hash
	}
}

// against says how the head compares with a file of n good entries: extra is how many entries
// the file holds past the head (0 when it ends there); problem is set when the file does not hold
// what the head says. noun names the file ("ledger").
func (p *probe) against(noun string, n int64) (extra int64, problem string) {
	h := p.h
	if h.Entries < 0 {
		switch {
		case h.Hash == Genesis:
			return n, ""
		case p.match > 0:
			return n - p.match, ""
		}
		return 0, fmt.Sprintf("no entry has the hash %s: the entry it names was removed or altered, or the chain was recomputed", short(h.Hash))
	}
	switch {
	case h.Entries > n:
		return 0, fmt.Sprintf("records %d entries ending with %s, the %s has %d: entries were removed", h.Entries, short(h.Hash), noun, n)
	case p.at != h.Hash:
		return 0, fmt.Sprintf("records %d entries ending with %s, but entry %d has the hash %s: the %s was rewritten", h.Entries, short(h.Hash), h.Entries, short(p.at), noun)
	}
	return n - h.Entries, ""
}
