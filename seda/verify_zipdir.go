package seda

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
)

// The verifier reads a zip's central directory itself, one record at a time, into compact entries
// (names in an arena): archive/zip's Reader keeps a zip.File of about 300 bytes per entry for the
// whole run, as much as the rest of what verify keeps of a 480,000-object package. The reading
// follows archive/zip's (reader.go, Go 1.26): the same end-of-directory search, zip64 records,
// tolerance of an entry count truncated to 16 bits, errors (zip.ErrFormat…), and, when an entry
// is opened, the same checks of its length and CRC-32 (zipEntryReader).

const (
	zipDirHeaderLen  = 46
	zipFileHeaderLen = 30
	zipDirEndLen     = 22
	zipDir64LocLen   = 20
	zipDir64EndLen   = 56
	zipDataDescLen   = 16
)

type zipDirEnd struct {
	records, size, offset uint64
}

// readZipDir reads the central directory of the zip in ra into entries, and their modes (only the
// listing needs them).
func readZipDir(ra io.ReaderAt, size int64, a *arena) (*chunked[entry], []fs.FileMode, error) {
	end, baseOffset, err := readZipDirEnd(ra, size)
	if err != nil {
		return nil, nil, err
	}
	rs := io.NewSectionReader(ra, 0, size)
	if _, err := rs.Seek(baseOffset+int64(end.offset), io.SeekStart); err != nil {
		return nil, nil, err
	}
	buf := bufio.NewReader(rs)
	list := &chunked[entry]{}
	var modes []fs.FileMode
	var e entry
	var scratch []byte
	for {
		e = entry{}
		var mode fs.FileMode
		err = readZipDirHeader(&e, &mode, buf, a, &scratch)
		if err == zip.ErrFormat || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		e.offset += baseOffset
		list.add(e)
		modes = append(modes, mode)
	}
	if uint16(list.len()) != uint16(end.records) { // only 16 bits, as archive/zip
		return nil, nil, err
	}
	return list, modes, nil
}

// readZipDirHeader reads one directory record; scratch is reused for its name and fields.
func readZipDirHeader(e *entry, mode *fs.FileMode, r io.Reader, a *arena, scratch *[]byte) error {
	var buf [zipDirHeaderLen]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return err
	}
	b := buf[:]
	if binary.LittleEndian.Uint32(b) != 0x02014b50 {
		return zip.ErrFormat
	}
	u16 := func(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	creatorVersion := u16(4)
	e.flags = u16(8)
	e.method = u16(10)
	e.crc32 = u32(16)
	csize, usize := u32(20), u32(24)
	e.csize, e.size = uint64(csize), int64(usize)
	nameLen, extraLen, commentLen := int(u16(28)), int(u16(30)), int(u16(32))
	externalAttrs := u32(38)
	e.offset = int64(u32(42))
	n := nameLen + extraLen + commentLen
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	d := (*scratch)[:n]
	if _, err := io.ReadFull(r, d); err != nil {
		return err
	}
	e.name = a.addBytes(d[:nameLen])
	fh := zip.FileHeader{Name: e.name, CreatorVersion: creatorVersion, ExternalAttrs: externalAttrs}
	*mode = fh.Mode()
	needUSize, needCSize, needOffset := usize == ^uint32(0), csize == ^uint32(0), e.offset == int64(^uint32(0))
	for extra := d[nameLen : nameLen+extraLen]; len(extra) >= 4; {
		tag, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if len(extra) < n {
			break
		}
		field := extra[:n]
		extra = extra[n:]
		if tag != 0x0001 { // zip64
			continue
		}
		next := func() (uint64, bool) {
			if len(field) < 8 {
				return 0, false
			}
			v := binary.LittleEndian.Uint64(field)
			field = field[8:]
			return v, true
		}
		var ok bool
		var v uint64
		if needUSize {
			needUSize = false
			if v, ok = next(); !ok {
				return zip.ErrFormat
			}
			e.size = int64(v)
		}
		if needCSize {
			needCSize = false
			if v, ok = next(); !ok {
				return zip.ErrFormat
			}
			e.csize = v
		}
		if needOffset {
			needOffset = false
			if v, ok = next(); !ok {
				return zip.ErrFormat
			}
			e.offset = int64(v)
		}
	}
	if needCSize || needOffset {
		return zip.ErrFormat
	}
	return nil
}

func readZipDirEnd(r io.ReaderAt, size int64) (*zipDirEnd, int64, error) {
	var buf []byte
	var endOffset int64
	for i, n := range []int64{1024, 65 * 1024} {
		n = min(n, size)
		buf = make([]byte, int(n))
		if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
			return nil, 0, err
		}
		if p := findZipDirEnd(buf); p >= 0 {
			buf = buf[p:]
			endOffset = size - n + int64(p)
			break
		}
		if i == 1 || n == size {
			return nil, 0, zip.ErrFormat
		}
	}
	b := buf[4:]
	records := uint64(binary.LittleEndian.Uint16(b[6:]))
	dirSize := uint64(binary.LittleEndian.Uint32(b[8:]))
	dirOffset := uint64(binary.LittleEndian.Uint32(b[12:]))
	if int(binary.LittleEndian.Uint16(b[16:])) > len(b[18:]) {
		return nil, 0, errors.New("zip: invalid comment length")
	}
	d := &zipDirEnd{records, dirSize, dirOffset}
	if records == 0xffff || dirSize == 0xffff || dirOffset == 0xffffffff {
		p, err := findZipDir64End(r, endOffset)
		if err == nil && p >= 0 {
			endOffset = p
			err = readZipDir64End(r, p, d)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if d.size > 1<<63-1 || d.offset > 1<<63-1 {
		return nil, 0, zip.ErrFormat
	}
	base := endOffset - int64(d.size) - int64(d.offset)
	if o := base + int64(d.offset); o < 0 || o >= size {
		return nil, 0, zip.ErrFormat
	}
	// As archive/zip: a wrong non-zero base offset is ignored when a directory header is found
	// where offset 0 puts it.
	if base > 0 {
		off := int64(d.offset)
		var mode fs.FileMode
		if readZipDirHeader(&entry{}, &mode, io.NewSectionReader(r, off, size-off), &arena{}, new([]byte)) == nil {
			base = 0
		}
	}
	return d, base, nil
}

func findZipDirEnd(b []byte) int {
	for i := len(b) - zipDirEndLen; i >= 0; i-- {
		if b[i] == 'P' && b[i+1] == 'K' && b[i+2] == 0x05 && b[i+3] == 0x06 {
			n := int(b[i+zipDirEndLen-2]) | int(b[i+zipDirEndLen-1])<<8
			if n+zipDirEndLen+i > len(b) {
				return -1 // truncated comment
			}
			return i
		}
	}
	return -1
}

func findZipDir64End(r io.ReaderAt, endOffset int64) (int64, error) {
	loc := endOffset - zipDir64LocLen
	if loc < 0 {
		return -1, nil
	}
	buf := make([]byte, zipDir64LocLen)
	if _, err := r.ReadAt(buf, loc); err != nil {
		return -1, err
	}
	if binary.LittleEndian.Uint32(buf) != 0x07064b50 || binary.LittleEndian.Uint32(buf[4:]) != 0 || binary.LittleEndian.Uint32(buf[16:]) != 1 {
		return -1, nil
	}
	return int64(binary.LittleEndian.Uint64(buf[8:])), nil
}

func readZipDir64End(r io.ReaderAt, offset int64, d *zipDirEnd) error {
	buf := make([]byte, zipDir64EndLen)
	if _, err := r.ReadAt(buf, offset); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(buf) != 0x06064b50 {
		return zip.ErrFormat
	}
	d.records = binary.LittleEndian.Uint64(buf[32:])
	d.size = binary.LittleEndian.Uint64(buf[40:])
	d.offset = binary.LittleEndian.Uint64(buf[48:])
	return nil
}

// bodyOffset reads the entry's local header for where its data starts (zip.File.DataOffset).
func (e *entry) bodyOffset(ra io.ReaderAt) (int64, error) {
	var buf [zipFileHeaderLen]byte
	if _, err := ra.ReadAt(buf[:], e.offset); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(buf[:]) != 0x04034b50 {
		return 0, zip.ErrFormat
	}
	n := int64(binary.LittleEndian.Uint16(buf[26:])) + int64(binary.LittleEndian.Uint16(buf[28:]))
	return e.offset + zipFileHeaderLen + n, nil
}

// openZipEntry opens an entry as zip.File.Open does (OpenRaw for STORED ones, whose digest is a
// stronger check than the CRC-32).
func openZipEntry(ra io.ReaderAt, e *entry) (io.ReadCloser, error) {
	raw := io.NewSectionReader(ra, e.offset, int64(e.csize))
	var rc io.ReadCloser
	switch e.method {
	case zip.Store:
		return io.NopCloser(raw), nil
	case zip.Deflate:
		rc = newPooledInflater(raw)
	default:
		return nil, zip.ErrAlgorithm
	}
	zr := &zipEntryReader{rc: rc, hash: crc32.NewIEEE(), e: e}
	if e.flags&0x8 != 0 {
		zr.desc = io.NewSectionReader(ra, e.offset+int64(e.csize), zipDataDescLen)
	}
	return zr, nil
}

// zipEntryReader is archive/zip's checksumReader: no byte past the declared size, the declared
// size exactly, and the CRC-32 of the directory (and of the data descriptor, when there is one).
type zipEntryReader struct {
	rc    io.ReadCloser
	hash  hash.Hash32
	nread uint64
	e     *entry
	desc  io.Reader
	err   error
}

func (r *zipEntryReader) Read(b []byte) (n int, err error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err = r.rc.Read(b)
	r.hash.Write(b[:n])
	r.nread += uint64(n)
	if r.nread > uint64(r.e.size) {
		return 0, zip.ErrFormat
	}
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		if r.nread != uint64(r.e.size) {
			return 0, io.ErrUnexpectedEOF
		}
		if r.desc != nil {
			if err1 := readZipDataDesc(r.desc, r.e.crc32); err1 != nil {
				if err1 == io.EOF {
					err = io.ErrUnexpectedEOF
				} else {
					err = err1
				}
			} else if r.hash.Sum32() != r.e.crc32 {
				err = zip.ErrChecksum
			}
		} else if r.e.crc32 != 0 && r.hash.Sum32() != r.e.crc32 {
			err = zip.ErrChecksum
		}
	}
	r.err = err
	return n, err
}

func (r *zipEntryReader) Close() error { return r.rc.Close() }

func readZipDataDesc(r io.Reader, crc uint32) error {
	var buf [zipDataDescLen]byte
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return err
	}
	off := 0
	if binary.LittleEndian.Uint32(buf[:4]) != 0x08074b50 {
		off = 4 // no signature: these four bytes are the CRC-32
	}
	if _, err := io.ReadFull(r, buf[off:12]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(buf[:4]) != crc { // the sizes after it are not read, as archive/zip
		return zip.ErrChecksum
	}
	return nil
}
