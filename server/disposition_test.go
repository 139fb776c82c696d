package server

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzContentDisposition: an object's name comes out of a SIP; whatever it holds, the header
// stays one well-formed line whose UTF-8 name gives the original back.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"photo élève.jpg", "", "a\"b\r\nSet-Cookie: x=1", "../../etc/passwd", "\xff\xfe", "dossier;42.zip"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := contentDisposition(name)
		for _, c := range []byte(got) {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("%q: byte %#x in the header", got, c)
			}
		}
		rest, ok := strings.CutPrefix(got, `attachment; filename="`)
		if !ok {
			t.Fatalf("%q", got)
		}
		ascii, enc, ok := strings.Cut(rest, `"; filename*=UTF-8''`)
		if !ok || strings.ContainsAny(ascii, `"\/;`) || strings.ContainsAny(enc, `"; `) {
			t.Fatalf("%q: not one safe filename and one encoded name", got)
		}
		back, err := url.PathUnescape(enc)
		want := name
		if want == "" {
			want = "document"
		}
		if err != nil || back != want {
			t.Fatalf("%q gives %q back (%v)", name, back, err)
		}
	})
}
