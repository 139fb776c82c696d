package index

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEntryCodec(t *testing.T) {
	e := Entry{Profile: "apogee", Key: "42", Person: Person{FirstName: "Hélène", BirthName: "LE GOFF"},
		Identifiers: []Identifier{{"COD_ETU", "20000042"}}, Objects: []Object{{Name: "Content/D42-1.json", Size: 12, Algorithm: "SHA-512", Digest: strings.Repeat("ab", 64), MIME: "application/json"}},
		Archived: time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)}
	doc, err := encodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(e)
	if doc[0] != docFlate || len(doc) >= len(j)*3/4 {
		t.Errorf("encoded %d bytes (JSON %d): want deflated to under 3/4", len(doc), len(j))
	}
	for _, d := range [][]byte{doc, j} { // plain JSON is read too
		got, err := decodeEntry(d)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("decode: %v\n got %+v\nwant %+v", err, got, e)
		}
	}
	for _, bad := range [][]byte{nil, doc[:len(doc)/2], {docFlate}, []byte("{")} {
		if _, err := decodeEntry(bad); err == nil || !strings.HasPrefix(err.Error(), "index: an entry is") {
			t.Errorf("decode %q: %v", bad, err)
		}
	}
}
