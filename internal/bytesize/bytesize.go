// Package bytesize reads and prints byte counts the way people write them in profiles, jobs files
// and flags ("500MB", "2GiB", "1.5 KiB"), with go-humanize doing the arithmetic.
package bytesize

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// Parse reads a positive byte count: a number, optionally with a decimal (kB, MB, GB, TB) or binary
// (KiB, MiB, GiB, TiB) unit.
func Parse(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 500MB, 2GiB or 1000000", s)
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return int64(n), nil
}

// Format prints n in binary units ("7 B", "2.3 MiB", "198 MiB").
func Format(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}
