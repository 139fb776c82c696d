package bytesize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "500MB": 500e6, "500 MB": 500e6, "2GiB": 2 << 30, "1.5 KiB": 1536, "1KiB": 1024, "3B": 3} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1MB", "1XB", "abc", "2 GO"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
	if _, err := Parse("2 GO"); err.Error() != `"2 GO": want a positive size such as 500MB, 2GiB or 1000000` {
		t.Errorf("error text: %v", err)
	}
	if _, err := Parse("99999 EiB"); err == nil || err.Error() != `"99999 EiB": want a positive size such as 500MB, 2GiB or 1000000` && err.Error() != `"99999 EiB": too large` {
		t.Errorf("overflow: %v", err)
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{7: "7 B", 1536: "1.5 KiB", 2411724: "2.3 MiB", 207618048: "198 MiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
