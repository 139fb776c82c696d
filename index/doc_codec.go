package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
	"sync"
)

// An entry is stored as its JSON, deflated with a preset dictionary of the JSON's own field names
// and common values: the names are most of a small document, and a dictionary lets a 1 KB
// record compress as if it were one of many (about half the index file at 1M entries). The first
// byte says how: docFlate, or '{' for plain JSON, which decodeEntry also reads. klauspost's
// Deflate rather than the standard library's: at level 1 it is twice as fast and uses the
// dictionary better (BenchmarkEncodeEntry: 201 bytes instead of 460); both write plain DEFLATE,
// so an index written by either reads with either.
const docFlate = 1

var docDict = func() []byte {
	// Later bytes of a dictionary are cheaper to refer to: the most common last.
	e := Entry{
		Identifiers: []Identifier{{Name: "INE", Value: ""}, {Name: "COD_ETU", Value: ""}},
		Objects:     []Object{{Name: "Content/D", Algorithm: "SHA-512", MIME: "application/json"}},
		Target:      "dir:///", Tier: "intermediaire", Class: "dossier-etudiant", Profile: "apogee",
		FinalAction: "Keep", Rule: "APP-", AccessRule: "AR0", Title: "Dossier étudiant ",
	}
	b, _ := json.Marshal(e)
	return append([]byte(`harpege"Destroy"image/jpeg"application/pdf"`), b...)
}()

var (
	deflaters = sync.Pool{New: func() any {
		w, _ := flate.NewWriterDict(nil, flate.BestSpeed, docDict)
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReaderDict(nil, docDict) }}
)

func encodeEntry(e Entry) ([]byte, error) {
	j, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(j)/2 + 16)
	b.WriteByte(docFlate)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&b)
	if _, err := w.Write(j); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeEntry(doc []byte) (Entry, error) {
	var e Entry
	if len(doc) == 0 {
		return Entry{}, errors.New("index: an entry is empty")
	}
	j := doc
	if doc[0] == docFlate {
		r := inflaters.Get().(io.ReadCloser)
		defer inflaters.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(doc[1:]), docDict); err != nil {
			return Entry{}, fmt.Errorf("index: an entry is unreadable: %w", err)
		}
		var err error
		if j, err = io.ReadAll(r); err != nil {
			return Entry{}, fmt.Errorf("index: an entry is unreadable: %w", err)
		}
	}
	if err := json.Unmarshal(j, &e); err != nil {
		return Entry{}, fmt.Errorf("index: an entry is unreadable: %w", err)
	}
	return e, nil
}
