package civil

import (
	"testing"
	"time"
)

func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2023-01-31", 1, "2023-02-28"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2024-03-31", -1, "2024-02-29"},
		{"2024-01-15", -13, "2022-12-15"},
		{"2000-12-31", 1, "2001-01-31"},
		{"1999-08-31", 120, "2009-08-31"},
	}
	for _, c := range cases {
		got := mustParse(t, c.from).AddMonths(c.n).String()
		if got != c.want {
			t.Errorf("%s + %d months = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}

func TestNewRefusesImpossibleDates(t *testing.T) {
	for _, d := range [][3]int{{2023, 2, 29}, {2024, 4, 31}, {2024, 13, 1}, {2024, 0, 1}, {2024, 1, 0}} {
		_, err := New(d[0], time.Month(d[1]), d[2])
		if err == nil {
			t.Errorf("New%v: no error", d)
		}
	}
	if _, err := New(2024, 2, 29); err != nil {
		t.Errorf("2024-02-29: %v", err)
	}
	_, err := New(2023, 2, 29)
	if want := "date 2023-02-29 does not exist"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestParseAndCompare(t *testing.T) {
	a, b := mustParse(t, "2016-08-31"), mustParse(t, "2016-09-01")
	if !a.Before(b) || !b.After(a) || a.Compare(a) != 0 {
		t.Fatal("ordering is wrong")
	}
	if a.AddDays(1) != b {
		t.Fatalf("AddDays: %s", a.AddDays(1))
	}
	if _, err := Parse("31/08/2016"); err == nil || err.Error() != `date "31/08/2016": want YYYY-MM-DD` {
		t.Fatalf("Parse error: %v", err)
	}
	var z Date
	if z.String() != "" || !z.IsZero() || z.Valid() {
		t.Fatal("zero date")
	}
}

func mustParse(t *testing.T, s string) Date {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
