package seda

import (
	"strings"
	"unsafe"
)

// arena holds the strings the verifier keeps of a manifest and of a zip's directory (ids, Uris,
// digests, entry names) back to back in chunks that never move, so that a million of them cost
// their bytes and a string header each rather than one allocation each (rounded up to its size
// class, with the allocator's bookkeeping). A string from add points into its chunk, which stays
// alive as long as one of its strings does; nothing ever writes to a chunk's bytes again.
type arena struct{ cur []byte }

const arenaChunk = 256 << 10

// nextChunk is the size of an arena's next chunk: small first and doubling up to arenaChunk, so
// that a small package (and each of a fuzzer's thousands of inputs) does not clear 256 KiB it
// will not use.
func nextChunk(prev, need int) int {
	return max(min(arenaChunk, 2*prev), 4<<10, need)
}

func (a *arena) add(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > arenaChunk/8 {
		return strings.Clone(s)
	}
	if len(a.cur)+len(s) > cap(a.cur) {
		a.cur = make([]byte, 0, nextChunk(cap(a.cur), len(s)))
	}
	start := len(a.cur)
	a.cur = append(a.cur, s...)
	return unsafe.String(&a.cur[start], len(s))
}

func (a *arena) addBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return a.add(unsafe.String(&b[0], len(b)))
}
