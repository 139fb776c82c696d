package deposit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/versement/versement/extract"
)

// unitEntry is one line of units.idx: where a document is in units.ndjson and what Close checks
// of it without reading it again.
type unitEntry struct {
	Key     json.RawMessage `json:"key"`
	Off     int64           `json:"off"`
	Len     int64           `json:"len"`
	SHA256  string          `json:"sha256"`
	Class   string          `json:"class"`
	Tables  []string        `json:"tables"`
	Objects []objectRef     `json:"objects,omitempty"`
}

// objectRef is a LOB value of a document: {"object": NAME, "size": N}.
type objectRef struct {
	Name string `json:"name"`
	Size int64  `json:"size"` // -1: not given
}

func (s *Service) unitsData(id string) string  { return filepath.Join(s.txDir(id), "units.ndjson") }
func (s *Service) unitsIndex(id string) string { return filepath.Join(s.txDir(id), "units.idx") }

// readIndex reads a transaction's committed units. A torn last line (a crash during an append)
// is not one: the documents it would index are not counted either.
func (s *Service) readIndex(id string) ([]unitEntry, int64, error) {
	f, err := os.Open(s.unitsIndex(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var out []unitEntry
	var good int64
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return out, good, nil // a partial line without its newline is a torn append
		}
		if err != nil {
			return nil, 0, err
		}
		var e unitEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, 0, fmt.Errorf("deposit: transaction %s: damaged units index: %w", id, err)
		}
		out = append(out, e)
		good += int64(len(line))
	}
}

// keyString is a key as the pipeline's state spells it, for duplicates.
func keyString(k any) string {
	switch v := k.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return "s:" + v
	}
	return fmt.Sprint(k)
}

// AddUnits adds dossier documents (NDJSON, or one JSON array of them), all or none: a document
// that is not one (extract.ReadJSON) refuses the whole call with its position named. A document
// whose key is already in the transaction with the same bytes is skipped (a retried call); with
// other bytes it is a Conflict. It returns how many documents were added.
func (s *Service) AddUnits(ctx context.Context, id string, r io.Reader, by string) (int, error) {
	rec, unlock, err := s.lockTx(ctx, id, lockWait)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if rec.Kind != KindUnits {
		return 0, errorf(Conflict, "units", "transaction %s carries a SIP: it takes no units", id)
	}
	if rec.State != StateOpen {
		return 0, errorf(Conflict, "units", "transaction %s is %s: it takes no more units", id, rec.State)
	}
	idx, idxSize, err := s.readIndex(id)
	if err != nil {
		return 0, err
	}
	seen := make(map[string]string, len(idx))
	var dataEnd int64
	for _, e := range idx {
		seen[string(e.Key)] = e.SHA256
		dataEnd = max(dataEnd, e.Off+e.Len)
	}
	data, err := os.OpenFile(s.unitsData(id), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("deposit: transaction %s: %w", id, err)
	}
	defer data.Close()
	// What is past the last indexed document was never committed.
	if err := data.Truncate(dataEnd); err != nil {
		return 0, fmt.Errorf("deposit: transaction %s: %w", id, err)
	}
	rollback := func() { _ = data.Truncate(dataEnd) }
	w := bufio.NewWriterSize(io.NewOffsetWriter(data, dataEnd), 256<<10)
	off, added, total := dataEnd, []unitEntry{}, rec.UnitsBytes
	keyKind := rec.KeyKind
	err = eachDocument(r, s.lim.MaxUnitBytes, func(i int, raw []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		field := fmt.Sprintf("units[%d]", i)
		e, kind, err := parseUnit(raw, field)
		if err != nil {
			return err
		}
		if keyKind == "" {
			keyKind = kind
		} else if kind != keyKind {
			return errorf(Invalid, field+".key", "a %s key, but the transaction's units have %s keys", kind, keyKind)
		}
		if prev, ok := seen[string(e.Key)]; ok {
			if prev == e.SHA256 {
				return nil
			}
			return errorf(Conflict, field+".key", "key %s is already in the transaction with another document", e.Key)
		}
		if len(idx)+len(added) >= s.lim.MaxUnits {
			return errorf(TooLarge, field, "the transaction already holds %d units: the limit is %d", len(idx)+len(added), s.lim.MaxUnits)
		}
		if total += int64(len(raw)) + 1; total > s.lim.MaxUnitsBytes {
			return errorf(TooLarge, field, "the transaction's documents exceed %d bytes", s.lim.MaxUnitsBytes)
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
		e.Off, e.Len = off, int64(len(raw))
		off += e.Len + 1
		seen[string(e.Key)] = e.SHA256
		added = append(added, e)
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = data.Sync()
	}
	if err != nil {
		rollback()
		var de *Error
		if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, err
		}
		return 0, fmt.Errorf("deposit: transaction %s: storing units: %w", id, err)
	}
	if len(added) == 0 {
		return 0, nil
	}
	if err := appendIndex(s.unitsIndex(id), idxSize, added); err != nil {
		rollback()
		return 0, fmt.Errorf("deposit: transaction %s: %w", id, err)
	}
	rec.Units, rec.KeyKind, rec.UnitsBytes = len(idx)+len(added), keyKind, total
	if err := s.save(rec); err != nil {
		return 0, err
	}
	if err := s.journal(ctx, Event{Event: EventUnits, Tx: id, By: by, Units: len(added)}); err != nil {
		return 0, err
	}
	return len(added), nil
}

// appendIndex appends entries to the index after its committed size, in one write, fsynced.
func appendIndex(path string, size int64, entries []unitEntry) error {
	var b bytes.Buffer
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	if _, err := f.WriteAt(b.Bytes(), size); err != nil {
		_ = f.Truncate(size)
		return err
	}
	return f.Sync()
}

// parseUnit checks one document as ReadJSON reads it, and reads what the index keeps: its key,
// class and the objects its LOB values name.
func parseUnit(raw []byte, field string) (unitEntry, string, error) {
	d, err := extract.ReadJSON(bytes.NewReader(raw), nil)
	if err != nil {
		return unitEntry{}, "", errorf(Invalid, field, "%v", err)
	}
	var doc struct {
		Key    json.RawMessage `json:"key"`
		Tables []struct {
			Rows [][]json.RawMessage `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return unitEntry{}, "", errorf(Invalid, field, "%v", err)
	}
	sum := sha256.Sum256(raw)
	e := unitEntry{Class: d.Class, SHA256: hex.EncodeToString(sum[:])}
	for _, t := range d.Tables {
		e.Tables = append(e.Tables, t.Table)
	}
	kind := "string"
	if _, ok := d.Key.(int64); ok {
		kind = "int"
	}
	k, _ := json.Marshal(keyString(d.Key)) // one spelling per key: 7 and "7" are different keys
	e.Key = k
	for ti, t := range doc.Tables {
		for ri, row := range t.Rows {
			for ci, v := range row {
				v = bytes.TrimSpace(v)
				if len(v) == 0 || v[0] != '{' {
					continue
				}
				var o struct {
					Object *string `json:"object"`
					Size   *int64  `json:"size"`
				}
				if json.Unmarshal(v, &o) != nil || o.Object == nil {
					continue
				}
				if err := checkObjectName(*o.Object); err != nil {
					de := err.(*Error)
					de.Field = fmt.Sprintf("%s.tables[%d].rows[%d][%d]", field, ti, ri, ci)
					return unitEntry{}, "", de
				}
				ref := objectRef{Name: *o.Object, Size: -1}
				if o.Size != nil {
					ref.Size = *o.Size
				}
				e.Objects = append(e.Objects, ref)
			}
		}
	}
	return e, kind, nil
}

// eachDocument calls fn for every document of r: NDJSON (or concatenated JSON values), or one
// JSON array of them. No document may hold more than max bytes: the reader stops there, before a
// depositor can fill the memory with one endless value.
func eachDocument(r io.Reader, max int64, fn func(i int, raw []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	lr := &boundedReader{r: br, max: max + 64<<10}
	dec := json.NewDecoder(lr)
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return errorf(Invalid, "units", "no document")
	}
	if err != nil {
		return err
	}
	array := first == '['
	if array {
		if _, err := dec.Token(); err != nil {
			return errorf(Invalid, "units", "%v", err)
		}
	}
	for i := 0; ; i++ {
		if array && !dec.More() {
			if _, err := dec.Token(); err != nil {
				return errorf(Invalid, "units", "%v", err)
			}
			return nil
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF && !array {
			if i == 0 {
				return errorf(Invalid, "units", "no document")
			}
			return nil
		}
		if lr.over {
			return errorf(TooLarge, fmt.Sprintf("units[%d]", i), "a document larger than %d bytes", max)
		}
		if err != nil {
			return errorf(Invalid, fmt.Sprintf("units[%d]", i), "not JSON: %v", err)
		}
		if int64(len(raw)) > max {
			return errorf(TooLarge, fmt.Sprintf("units[%d]", i), "a document of %d bytes: the limit is %d", len(raw), max)
		}
		lr.mark(dec.InputOffset())
		if err := fn(i, raw); err != nil {
			return err
		}
	}
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return b, br.UnreadByte()
		}
	}
}

// boundedReader fails once more than max bytes were read past the end of the last document: the
// decoder would otherwise buffer a whole value whatever its size.
type boundedReader struct {
	r          io.Reader
	read, last int64
	max        int64
	over       bool
}

func (b *boundedReader) mark(off int64) { b.last = off }

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read-b.last > b.max {
		b.over = true
		return 0, errors.New("document too large")
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}
