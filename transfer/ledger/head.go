package ledger

import "github.com/versement/versement/chain"

// Head is where a ledger ends: how many entries it holds and the hash of the last one (Genesis for
// an empty ledger). The chain proves that no entry was changed, removed or reordered before the
// last; only a head kept apart from the ledger shows that entries were removed from its end, or that
// the whole chain was recomputed. The writer keeps one in a file beside the ledger (HeadPath), every
// run report carries one, and a head published elsewhere (a notification, a ticket) can be checked
// with `versement verify --ledger FILE --head COUNT:HASH`.
type Head = chain.Head

// HeadPath is the head file of the ledger at path: beside it, with the ledger's extension replaced
// by ".head" (ledger.jsonl → ledger.head).
func HeadPath(path string) string { return chain.HeadPath(path) }

// ParseHead reads a head written as COUNT:HASH or HASH (64 hex digits).
func ParseHead(s string) (Head, error) { return chain.ParseHead(s) }

// ReadHead reads the head file at path (HeadPath of a ledger). A missing file is an error wrapping
// fs.ErrNotExist.
func ReadHead(path string) (Head, error) { return chain.ReadHead(path) }
