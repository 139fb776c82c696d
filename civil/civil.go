// Package civil holds a calendar date without a time or a time zone: what a DATE column means and
// what retention periods are counted in. Using time.Time for these shifts dates by a day across
// zones, the complaint users make of SIARD tools.
package civil

import (
	"fmt"
	"time"
)

// Date is a day in the proleptic Gregorian calendar. The zero value is not a valid date; IsZero
// tells it apart, and it is what a NULL date becomes.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// New returns the date, or an error naming it when it does not exist (31 April, 29 February 2023).
func New(year int, month time.Month, day int) (Date, error) {
	d := Date{year, month, day}
	if !d.Valid() {
		return Date{}, fmt.Errorf("date %04d-%02d-%02d does not exist", year, int(month), day)
	}
	return d, nil
}

// Of returns the date of t in t's own location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Parse reads an ISO 8601 calendar date (YYYY-MM-DD).
func Parse(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Of(t), nil
}

// Today is the current date in loc.
func Today(loc *time.Location) Date { return Of(time.Now().In(loc)) }

// String formats the date as YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a day that exists.
func (d Date) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= DaysIn(d.Year, d.Month)
}

// Time is midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmp(d.Year, e.Year)
	case d.Month != e.Month:
		return cmp(int(d.Month), int(e.Month))
	default:
		return cmp(d.Day, e.Day)
	}
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// AddDays returns d moved by n days (n may be negative).
func (d Date) AddDays(n int) Date { return Of(d.Time(time.UTC).AddDate(0, 0, n)) }

// AddMonths moves d by n months, clamping to the last day of the target month: 31 January + 1
// month is 28 (or 29) February, and 29 February + 12 months is 28 February. This is how periods
// "of N months/years from" a date are counted in French law (the day before the same date would
// not exist), unlike time.AddDate, which overflows into the next month.
func (d Date) AddMonths(n int) Date {
	total := d.Year*12 + int(d.Month-1) + n
	y, m := total/12, time.Month(total%12+1)
	if total%12 < 0 {
		y, m = (total-11)/12, time.Month((total%12+12)%12+1)
	}
	day := d.Day
	if last := DaysIn(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

// AddYears is AddMonths(12*n).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// DaysIn is the number of days in month m of year y.
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// MarshalText implements encoding.TextMarshaler (ISO 8601).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
