package testsvc

import "testing"

func TestWithDatabase(t *testing.T) {
	cases := map[string]string{
		"postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable": "postgres://postgres@127.0.0.1:55432/x?sslmode=disable",
		"postgres://postgres@127.0.0.1:55432":                          "postgres://postgres@127.0.0.1:55432/x",
	}
	for in, want := range cases {
		if got := withDatabase(in, "x"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}
