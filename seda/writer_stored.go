package seda

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"
)

// VITAM reads an upload as a stream (commons-compress's ZipArchiveInputStream in its default
// settings), which refuses a STORED entry whose sizes come after the data in a data descriptor:
// it cannot know where such an entry ends. archive/zip's CreateHeader always writes one, so a
// STORED object is held back until its CRC-32 and size are known, then written with CreateRaw
// and the values in its local header. Deflated entries keep their data descriptor: a streaming
// reader finds their end from the Deflate stream itself.

// storedMemLimit is how much of a STORED object stays in memory before it goes to a temporary
// file: student photos fit, scanned documents of several megabytes do not need to.
const storedMemLimit = 1 << 20

// storedObject holds one STORED object's bytes until Close. The Writer keeps one and reuses it
// (one object is open at a time), so its buffer and file are made once per SIP.
type storedObject struct {
	dir  string
	mem  bytes.Buffer
	file *os.File // past storedMemLimit
	crc  hash.Hash32
	size int64
}

func (s *storedObject) reset() {
	s.mem.Reset()
	s.size = 0
	if s.crc == nil {
		s.crc = crc32.NewIEEE()
	}
	s.crc.Reset()
	if s.file != nil {
		if _, err := s.file.Seek(0, io.SeekStart); err != nil || s.file.Truncate(0) != nil {
			s.remove()
		}
	}
}

func (s *storedObject) Write(p []byte) (int, error) {
	s.crc.Write(p)
	if s.file == nil && s.mem.Len()+len(p) <= storedMemLimit {
		s.size += int64(len(p))
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "seda-stored-*.bin")
		if err != nil {
			return 0, fmt.Errorf("temporary file for a stored object: %w", err)
		}
		s.file = f
	}
	if s.mem.Len() > 0 {
		if _, err := s.file.Write(s.mem.Bytes()); err != nil {
			return 0, err
		}
		s.mem.Reset()
	}
	n, err := s.file.Write(p)
	s.size += int64(n)
	return n, err
}

// reader gives the bytes back, from memory or from the start of the file.
func (s *storedObject) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if s.mem.Len() > 0 {
		if _, err := s.file.Write(s.mem.Bytes()); err != nil {
			return nil, err
		}
		s.mem.Reset()
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.LimitReader(s.file, s.size), nil
}

func (s *storedObject) remove() {
	if s == nil || s.file == nil {
		return
	}
	s.file.Close()
	os.Remove(s.file.Name())
	s.file = nil
}

// writeStored writes a held-back object as one zip entry. An object of 4 GiB or more would need a
// zip64 extra field in its local header, which archive/zip's CreateRaw does not write: such an
// object is deflated instead, which every streaming reader reads.
func (w *Writer) writeStored(name string, s *storedObject) error {
	r, err := s.reader()
	if err != nil {
		return err
	}
	var entry io.Writer
	if s.size >= math.MaxUint32 {
		entry, err = w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: w.mod})
	} else {
		fh := &zip.FileHeader{
			Name: name, Method: zip.Store, Modified: w.mod,
			CreatorVersion: 20, ReaderVersion: 20, // what CreateHeader writes for other entries
			CRC32: s.crc.Sum32(), CompressedSize64: uint64(s.size), UncompressedSize64: uint64(s.size),
			Extra: extendedTime(w.mod),
		}
		// CreateRaw writes the MS-DOS fields as given (it derives nothing from Modified), so the
		// deprecated fields are the only way to give a raw entry its time.
		//lint:ignore SA1019 see above
		fh.ModifiedDate, fh.ModifiedTime = msDosTime(w.mod)
		entry, err = w.zw.CreateRaw(fh)
	}
	if err != nil {
		return err
	}
	buf := copyBuf.Get().(*[]byte)
	defer copyBuf.Put(buf)
	_, err = io.CopyBuffer(entry, r, *buf)
	return err
}

// msDosTime is the MS-DOS date and time of t, as archive/zip writes them in CreateHeader.
func msDosTime(t time.Time) (date, clock uint16) {
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}

// extendedTime is the Info-ZIP extended timestamp field CreateHeader adds, so that every entry
// of a SIP carries its time the same way.
func extendedTime(t time.Time) []byte {
	b := make([]byte, 9)
	binary.LittleEndian.PutUint16(b[0:], 0x5455)
	binary.LittleEndian.PutUint16(b[2:], 5)
	b[4] = 1 // modification time only
	binary.LittleEndian.PutUint32(b[5:], uint32(t.Unix()))
	return b
}
