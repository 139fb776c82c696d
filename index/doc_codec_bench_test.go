package index

import "testing"

// BenchmarkEncodeEntry is the cost of one stored entry: its JSON deflated with the dictionary
// (klauspost's level 1 took it from 25–28 µs to 10–17 µs, and this entry from 460 bytes to 201).
func BenchmarkEncodeEntry(b *testing.B) {
	e := Entry{Profile: "apogee", Class: "etudiant", Tier: "intermediate", Key: "123456", Title: "Dossier étudiant de Marie Dupont (1990)",
		Identifiers: []Identifier{{Name: "COD_ETU", Value: "21000123"}, {Name: "INE", Value: "1234567890A"}},
		Person:      Person{FirstName: "Marie", BirthName: "Dupont", BirthDate: "1990-02-03"},
		Objects:     []Object{{Name: "Content/D123456.json", Size: 4567, Algorithm: "SHA-512", Digest: "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34", MIME: "application/json"}},
		Target:      "dir:///srv/archives", SIP: "apogee-etudiant-intermediate-0123456789abcdef.zip", Rule: "APP-APO-ETU", FinalAction: "Destroy"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		doc, err := encodeEntry(e)
		if err != nil {
			b.Fatal(err)
		}
		n = len(doc)
	}
	b.ReportMetric(float64(n), "bytes/entry")
}
