package vitamtest

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// manifestName is VITAM's MANIFEST_FILE_NAME_CHECK pattern.
var manifestName = regexp.MustCompile(`^([a-zA-Z0-9_\-]{0,56}[_-]{1}){0,1}(manifest.xml)\b`)

// streamedSIP is what a one-pass read of an upload found: the manifest's bytes, or why VITAM's
// reader (commons-compress's ZipArchiveInputStream, default settings) would stop.
type streamedSIP struct {
	manifestName string
	manifest     []byte
	entries      int
}

// readStream walks the local headers one after another, as ZipArchiveInputStream does, never
// looking at the central directory. Like commons-compress in its default settings it refuses a
// STORED entry whose sizes follow the data in a data descriptor: it cannot know where it ends.
func readStream(r io.Reader, maxManifest int64) (streamedSIP, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var s streamedSIP
	roots := 0
	for {
		var sig [4]byte
		if _, err := io.ReadFull(br, sig[:]); err != nil {
			return s, fmt.Errorf("truncated archive: %w", err)
		}
		switch binary.LittleEndian.Uint32(sig[:]) {
		case 0x04034b50: // local file header
		case 0x02014b50, 0x06054b50: // central directory or its end: every entry was read
			if s.manifest == nil {
				return s, errors.New("no manifest at the root")
			}
			if roots > 1 {
				return s, fmt.Errorf("MORE_THAN_ONE_MANIFEST: %d files at the root", roots)
			}
			return s, nil
		default:
			return s, fmt.Errorf("unexpected record %x where a local file header should be", sig)
		}
		var h [26]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return s, fmt.Errorf("truncated local header: %w", err)
		}
		flags := binary.LittleEndian.Uint16(h[2:])
		method := binary.LittleEndian.Uint16(h[4:])
		csize := uint64(binary.LittleEndian.Uint32(h[14:]))
		nameLen := int(binary.LittleEndian.Uint16(h[22:]))
		extraLen := int(binary.LittleEndian.Uint16(h[24:]))
		nameExtra := make([]byte, nameLen+extraLen)
		if _, err := io.ReadFull(br, nameExtra); err != nil {
			return s, fmt.Errorf("truncated local header: %w", err)
		}
		name := string(nameExtra[:nameLen])
		zip64 := false
		for extra := nameExtra[nameLen:]; len(extra) >= 4; {
			id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
			if 4+n > len(extra) {
				break
			}
			if id == 0x0001 && n >= 16 {
				zip64 = true
				csize = binary.LittleEndian.Uint64(extra[12:])
			}
			extra = extra[4+n:]
		}
		if flags&0x1 != 0 {
			//lint:ignore ST1005 commons-compress's own message, as VITAM logs it
			return s, fmt.Errorf("Unsupported feature encryption used in entry %s", name)
		}
		var data io.Reader
		switch method {
		case 0: // STORED
			if flags&0x8 != 0 {
				//lint:ignore ST1005 commons-compress's own message, as VITAM logs it
				return s, fmt.Errorf("Unsupported feature data descriptor used in entry %s", name)
			}
			data = io.LimitReader(br, int64(csize))
		case 8:
			data = flate.NewReader(br) // br is an io.ByteReader: flate reads no byte past the stream
		default:
			//lint:ignore ST1005 commons-compress's own message, as VITAM logs it
			return s, fmt.Errorf("Unsupported feature method %d used in entry %s", method, name)
		}
		isRoot := !strings.Contains(strings.TrimSuffix(name, "/"), "/") && !strings.HasSuffix(name, "/")
		keep := isRoot && manifestName.MatchString(name)
		var buf []byte
		if keep {
			b, err := io.ReadAll(io.LimitReader(data, maxManifest+1))
			if err != nil {
				return s, fmt.Errorf("entry %s: %w", name, err)
			}
			if int64(len(b)) > maxManifest {
				return s, fmt.Errorf("manifest %s larger than %d bytes", name, maxManifest)
			}
			buf = b
		}
		if _, err := io.Copy(io.Discard, data); err != nil {
			return s, fmt.Errorf("entry %s: %w", name, err)
		}
		if flags&0x8 != 0 { // data descriptor: optional signature, CRC-32, two sizes
			n := 12
			if zip64 {
				n = 20
			}
			peek, err := br.Peek(4)
			if err == nil && binary.LittleEndian.Uint32(peek) == 0x08074b50 {
				n += 4
			}
			if _, err := br.Discard(n); err != nil {
				return s, fmt.Errorf("entry %s: truncated data descriptor", name)
			}
		}
		s.entries++
		if isRoot {
			roots++
			if keep && s.manifest == nil {
				s.manifestName, s.manifest = name, buf
			}
		}
	}
}
