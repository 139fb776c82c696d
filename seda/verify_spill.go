package seda

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// objectsInMemory is how many objects the verifier holds before it writes the finished ones to a
// temporary file (VerifyOptions.TempDir); a variable so that a test can make every package spill.
var objectsInMemory = 1 << 14

// objectStore holds a manifest's BinaryDataObjects in document order: in memory up to
// objectsInMemory, then the finished ones go to a temporary file, and come back in batches of that
// size for checking. An object is about 150 bytes with its Uri and digest, half of what the
// verifier kept per object of a large package. The ids stay in memory: each is checked against
// all others as it is read.
type objectStore struct {
	dir   string // for the temporary file ("" : os.TempDir())
	spill bool   // whether to spill at all (false for the fuzzer and parse-only callers)
	a     arena  // the in-memory objects' Uris and digests (ids are in the manifest's arena)
	mem   []object
	first int // index of mem[0]
	file  *os.File
	w     *bufio.Writer
	err   error // a failed spill: everything then stays in memory
}

func (s *objectStore) add(o object) int {
	s.mem = append(s.mem, o)
	return s.first + len(s.mem) - 1
}

// at is object i, which must not have been spilled (its element is still open, or it is recent).
func (s *objectStore) at(i int) *object { return &s.mem[i-s.first] }

func (s *objectStore) len() int { return s.first + len(s.mem) }

// finished says that objects before keep are complete: past the threshold they are written out.
func (s *objectStore) finished(keep int) {
	n := keep - s.first
	if !s.spill || s.err != nil || len(s.mem) < objectsInMemory || n < objectsInMemory/2 {
		return
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "versement-verify-*.objects")
		if err != nil {
			s.err = err
			return
		}
		s.file, s.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	var buf []byte
	for i := range s.mem[:n] {
		buf = s.mem[i].appendTo(buf[:0])
		if _, err := s.w.Write(buf); err != nil {
			s.err = err // the objects written so far stay readable: keep the rest in memory
			return
		}
	}
	rest := copy(s.mem, s.mem[n:])
	clear(s.mem[rest:])
	s.mem = s.mem[:rest]
	s.first += n
	s.a = arena{} // the spilled objects' strings go with them
}

// batches gives every object in order, in batches, with the index of each batch's first.
func (s *objectStore) batches(m *manifest, yield func(first int, objs []object) error) error {
	if s.first > 0 {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("verify: temporary file: %w", err)
		}
		br := bufio.NewReaderSize(io.NewSectionReader(s.file, 0, 1<<62), 256<<10)
		batch := make([]object, 0, objectsInMemory)
		var tmp []byte
		for i := 0; i < s.first; {
			var a arena
			batch = batch[:0]
			for ; i < s.first && len(batch) < objectsInMemory; i++ {
				o, err := readObject(br, &a, m, &tmp)
				if err != nil {
					return fmt.Errorf("verify: temporary file: %w", err)
				}
				batch = append(batch, o)
			}
			if err := yield(i-len(batch), batch); err != nil {
				return err
			}
			clear(batch)
		}
	}
	return yield(s.first, s.mem)
}

func (s *objectStore) remove() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}

// appendTo encodes o: its strings with their lengths, flags, size.
func (o *object) appendTo(b []byte) []byte {
	for _, s := range []string{o.id, o.uri, o.algo, o.value} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var flags byte
	if o.hexValue {
		flags |= 1
	}
	if o.attachment {
		flags |= 2
	}
	b = append(b, flags)
	return binary.AppendVarint(b, o.size)
}

// readObject decodes an object, taking its id, Uri and algorithm from what is already in memory
// (the id table, the entry names, the interned names) when they are there. tmp is a buffer to reuse.
func readObject(br *bufio.Reader, a *arena, m *manifest, tmp *[]byte) (object, error) {
	var o object
	for k := range 4 {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return o, err
		}
		if n > maxLeafBytes+64 {
			return o, fmt.Errorf("a record of %d bytes", n)
		}
		if uint64(cap(*tmp)) < n {
			*tmp = make([]byte, n)
		}
		b := (*tmp)[:n]
		if _, err := io.ReadFull(br, b); err != nil {
			return o, err
		}
		var s string
		if n > 0 {
			s = unsafe.String(&b[0], n) // only for the lookups below, then copied
		}
		switch k {
		case 0:
			if rec, _, ok := m.ids.find(s); ok {
				o.id = m.ids.id(rec)
			} else {
				o.id = a.add(s)
			}
		case 1:
			o.uri = m.canonicalURI(s, a)
		case 2:
			if v, ok := m.names[s]; ok {
				o.algo = v
			} else {
				o.algo = a.add(s)
			}
		case 3:
			o.value = a.add(s)
		}
	}
	flags, err := br.ReadByte()
	if err != nil {
		return o, err
	}
	o.hexValue, o.attachment = flags&1 != 0, flags&2 != 0
	o.size, err = binary.ReadVarint(br)
	return o, err
}

// canonicalURI is uri as kept: the name of the zip entry it names exactly (no copy), else a copy in a.
func (m *manifest) canonicalURI(uri string, a *arena) string {
	if m.entryName != nil {
		if name, ok := m.entryName(uri); ok {
			return name
		}
	}
	return a.add(uri)
}
