package seda

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/beevik/etree"
)

// etreeBytes is what writeElement wrote before writePlain: etree's indentation and canonical writer.
func etreeBytes(e *etree.Element) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	doc := etree.NewDocument()
	doc.SetRoot(e)
	doc.IndentWithSettings(indentSettings)
	e.WriteTo(bw, &writeSettings)
	bw.WriteByte('\n')
	bw.Flush()
	return b.Bytes()
}

func plainBytes(e *etree.Element) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	if err := writeElement(bw, e); err != nil {
		panic(err)
	}
	bw.Flush()
	return b.Bytes()
}

var plainTexts = []string{"", "a", "Dupont & fils <x> \"q\" 'a'", "tab\there\nnl\r\ncr", "é€😀", "bad\x00\x01\uFFFE", "\xff\xfe", " ", "  lead and trail  ", "]]>"}

func randomTree(r *rand.Rand, depth int) *etree.Element {
	e := etree.NewElement([]string{"Title", "Management", "ns:Tag", "X"}[r.IntN(4)])
	for range r.IntN(3) {
		e.CreateAttr([]string{"id", "xml:lang", "href", "k"}[r.IntN(4)], plainTexts[r.IntN(len(plainTexts))])
	}
	switch {
	case depth > 0 && r.IntN(3) > 0:
		for range 1 + r.IntN(4) {
			e.AddChild(randomTree(r, depth-1))
		}
	case r.IntN(4) > 0:
		e.SetText(plainTexts[r.IntN(len(plainTexts))])
	}
	return e
}

// TestWritePlainIsEtree proves that the one-pass writer gives etree's bytes, on random trees of
// elements, attributes and text with everything that needs escaping or replacing, and that what it
// does not handle (mixed content, comments, CDATA) still goes through etree.
func TestWritePlainIsEtree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		e := randomTree(r, 4)
		want := etreeBytes(e.Copy())
		if !plainTree(e) {
			t.Fatalf("tree %d is not plain", i)
		}
		if got := plainBytes(e); !bytes.Equal(got, want) {
			t.Fatalf("tree %d:\n got %q\nwant %q", i, got, want)
		}
	}
	mixed := etree.NewElement("P")
	mixed.SetText("text")
	mixed.CreateElement("B").SetText("bold")
	mixed.CreateComment("note")
	if plainTree(mixed) {
		t.Fatal("mixed content taken as plain")
	}
	if got, want := plainBytes(mixed.Copy()), etreeBytes(mixed.Copy()); !bytes.Equal(got, want) {
		t.Fatalf("mixed: got %q want %q", got, want)
	}
}
