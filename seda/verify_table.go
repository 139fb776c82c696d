package seda

import (
	"encoding/binary"
	"hash/maphash"
	"unsafe"
)

// chunked is an append-only list in fixed chunks: growing it never copies (a slice that doubles
// holds its old and new arrays at once, 3× its size, at the moment it grows).
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkLen = 4096

func (c *chunked[T]) add(v T) int {
	if c.n%chunkLen == 0 {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
	return c.n - 1
}

func (c *chunked[T]) at(i int) *T { return &c.chunks[i/chunkLen][i%chunkLen] }

func (c *chunked[T]) len() int { return c.n }

// idRec is what the manifest says about an id: where its bytes are (idBytes), the element that
// carries it (its first one: a second is a DUPLICATE_ID) and, when it is a unit of the nesting
// graph, its node number. 16 bytes: a string header alone would be as much.
type idRec struct {
	chunk, off uint32 // in idTable.bytes
	kind       uint32 // element name, in manifest.kinds
	node       uint32 // 0: not in the graph
}

// idBytes holds ids back to back, each after its length (uvarint), in chunks that never move.
type idBytes struct {
	chunks [][]byte
	cur    int // the chunk being filled, when there is one (cur < len(chunks))
}

func (b *idBytes) add(s string) (chunk, off uint32) {
	need := binary.MaxVarintLen64 + len(s)
	if need > arenaChunk/8 { // a long id gets a chunk of its own
		b.chunks = append(b.chunks, binary.AppendUvarint(make([]byte, 0, need), uint64(len(s))))
		c := len(b.chunks) - 1
		b.chunks[c] = append(b.chunks[c], s...)
		return uint32(c), 0
	}
	if len(b.chunks) == 0 || b.cur >= len(b.chunks) || len(b.chunks[b.cur])+need > cap(b.chunks[b.cur]) {
		prev := 0
		if len(b.chunks) > 0 && b.cur < len(b.chunks) {
			prev = cap(b.chunks[b.cur])
		}
		b.chunks = append(b.chunks, make([]byte, 0, nextChunk(prev, need)))
		b.cur = len(b.chunks) - 1
	}
	c := &b.chunks[b.cur]
	off = uint32(len(*c))
	*c = binary.AppendUvarint(*c, uint64(len(s)))
	*c = append(*c, s...)
	return uint32(b.cur), off
}

func (b *idBytes) get(chunk, off uint32) string {
	c := b.chunks[chunk][off:]
	n, k := binary.Uvarint(c)
	if n == 0 {
		return ""
	}
	return unsafe.String(&c[k], int(n))
}

// strIndex finds strings kept elsewhere (a record's id, an entry's name) by number: open
// addressing over 4-byte slots, 5–8 bytes a string where a Go map[string]uint32 takes about 40.
type strIndex struct {
	seed  maphash.Seed
	slots []uint32 // 0: empty; else 1 + the string's number
	n     int
}

// find is the number of s, given key(number) for the strings in the index.
func (x *strIndex) find(s string, key func(uint32) string) (uint32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, s) & mask; ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return 0, false
		}
		if key(v-1) == s {
			return v - 1, true
		}
	}
}

// insert adds number v for key(v), which must not be in the index.
func (x *strIndex) insert(v uint32, key func(uint32) string) {
	if len(x.slots) == 0 {
		x.seed = maphash.MakeSeed()
		x.slots = make([]uint32, 1024)
	} else if (x.n+1)*4 > len(x.slots)*3 {
		old := x.slots
		x.slots = make([]uint32, 2*len(old))
		for _, s := range old {
			if s != 0 {
				x.place(s, key)
			}
		}
	}
	x.place(v+1, key)
	x.n++
}

func (x *strIndex) place(slot uint32, key func(uint32) string) {
	mask := uint64(len(x.slots) - 1)
	i := maphash.String(x.seed, key(slot-1)) & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = slot
}

// idTable maps ids to their records: about 30 bytes an id with its record and its bytes, where a
// Go map[string] of the same takes about 50 plus the string's own allocation.
type idTable struct {
	index strIndex
	recs  chunked[idRec]
	bytes idBytes
}

// id is the text of an id, kept in the table (its string points into the table's chunks).
func (t *idTable) id(r *idRec) string { return t.bytes.get(r.chunk, r.off) }

func (t *idTable) key(i uint32) string { return t.id(t.recs.at(int(i))) }

// find gives id's record and its number.
func (t *idTable) find(id string) (*idRec, uint32, bool) {
	i, ok := t.index.find(id, t.key)
	if !ok {
		return nil, 0, false
	}
	return t.recs.at(int(i)), i, true
}

// insert adds an id that is not in the table, and returns the table's copy of it.
func (t *idTable) insert(id string, kind uint32) string {
	c, off := t.bytes.add(id)
	t.index.insert(uint32(t.recs.add(idRec{chunk: c, off: off, kind: kind})), t.key)
	return t.bytes.get(c, off)
}
