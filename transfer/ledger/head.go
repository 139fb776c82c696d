package ledger

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/versement/versement/internal/atomicfile"
)

// Head is where a ledger ends: how many entries it holds and the hash of the last one (Genesis for
// an empty ledger). The chain proves that no entry was changed, removed or reordered before the
// last; only a head kept apart from the ledger shows that entries were removed from its end, or that
// the whole chain was recomputed. The writer keeps one in a file beside the ledger (HeadPath), every
// run report carries one, and a head published elsewhere (a notification, a ticket) can be checked
// with `versement verify --ledger FILE --head COUNT:HASH`.
type Head struct {
	Entries int64  `json:"entries"` // -1: not known (a head given as a hash alone)
	Hash    string `json:"hash"`
}

// String is COUNT:HASH, how ledger.head holds it and --head takes it; a head without a count is
// its hash alone.
func (h Head) String() string {
	if h.Entries < 0 {
		return h.Hash
	}
	return strconv.FormatInt(h.Entries, 10) + ":" + h.Hash
}

// HeadPath is the head file of the ledger at path: beside it, with the ledger's extension replaced
// by ".head" (ledger.jsonl → ledger.head).
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

// ReadHead reads the head file at path (HeadPath of a ledger). A missing file is an error wrapping
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
// It is readable by all, like the ledger: it holds nothing but a count and a hash.
func writeHead(path string, h Head) error {
	p, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := p.Chmod(0o644); err != nil {
		p.Abort()
		return err
	}
	if _, err := p.WriteString(h.String() + "\n"); err != nil {
		p.Abort()
		return err
	}
	return p.Commit()
}

// against compares the head with a ledger whose good entries have the given hashes. extra is how
// many entries the ledger holds past the head (0 when it ends there); problem is set when the
// ledger does not hold what the head says.
func (h Head) against(hashes []string) (extra int64, problem string) {
	n := int64(len(hashes))
	at := func(i int64) string { // hash of entry i (1-based); Genesis for "no entry"
		if i == 0 {
			return Genesis
		}
		return hashes[i-1]
	}
	if h.Entries < 0 {
		if h.Hash == Genesis {
			return n, ""
		}
		for i := n; i >= 1; i-- {
			if hashes[i-1] == h.Hash {
				return n - i, ""
			}
		}
		return 0, fmt.Sprintf("no entry has the hash %s: the entry it names was removed or altered, or the chain was recomputed", short(h.Hash))
	}
	switch {
	case h.Entries > n:
		return 0, fmt.Sprintf("records %d entries ending with %s, the ledger has %d: entries were removed", h.Entries, short(h.Hash), n)
	case at(h.Entries) != h.Hash:
		return 0, fmt.Sprintf("records %d entries ending with %s, but entry %d has the hash %s: the ledger was rewritten", h.Entries, short(h.Hash), h.Entries, short(at(h.Entries)))
	}
	return n - h.Entries, ""
}
