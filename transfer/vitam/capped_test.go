package vitam

import (
	"io"
	"strings"
	"testing"
)

// A body without Content-Length is cut at the cap with an error, never silently; one of exactly
// the cap reads whole.
func TestCappedBodyFailsPastTheCap(t *testing.T) {
	for _, tc := range []struct {
		body string
		err  string
	}{{"0123456789", ""}, {"0123456789X", "DIP: more than the 10 bytes allowed"}} {
		c := &cappedBody{rc: io.NopCloser(strings.NewReader(tc.body)), left: 10, limit: 10, what: "DIP"}
		b, err := io.ReadAll(c)
		if tc.err == "" && (err != nil || string(b) != tc.body) || tc.err != "" && (err == nil || err.Error() != tc.err || len(b) != 10) {
			t.Errorf("%q: read %q, %v", tc.body, b, err)
		}
	}
}
