package extract

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/versement/versement/civil"
)

// convert turns what a database/sql driver returned for a column into a Value of the column's Kind.
// SQLite is dynamically typed: a value that does not fit its column's declared kind (text in an
// INTEGER column) is kept as text rather than refused or bent, because faithfulness matters more
// than the declared type.
func convert(c *Column, v any) (Value, error) {
	if v == nil {
		return nil, nil
	}
	// Fast paths: hand the driver's own interface value back, which allocates nothing.
	switch x := v.(type) {
	case string:
		if c.Kind == KindText && utf8.ValidString(x) {
			return v, nil
		}
	case int64:
		if c.Kind == KindInteger {
			return v, nil
		}
	}
	switch c.Kind {
	case KindInteger:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int:
			return int64(x), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
			return Decimal(strconv.FormatFloat(x, 'f', -1, 64)), nil
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
			if d, ok := canonicalDecimal(x); ok {
				return d, nil // NUMBER(p,0) beyond int64: still exact
			}
		case []byte:
			return convert(c, string(x))
		}
	case KindDecimal:
		switch x := v.(type) {
		case string:
			if d, ok := canonicalDecimal(x); ok {
				return d, nil
			}
		case []byte:
			return convert(c, string(x))
		case int64:
			return padScale(strconv.FormatInt(x, 10), c.DBType), nil
		case float64:
			// SQLite stores NUMERIC values as REAL (or INTEGER when integral): the shortest text that
			// reads back as the same double is the decimal that was written (up to 15 significant
			// digits), shown with the declared scale as PostgreSQL and Oracle would.
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return strconv.FormatFloat(x, 'g', -1, 64), nil
			}
			return padScale(strconv.FormatFloat(x, 'f', -1, 64), c.DBType), nil
		}
	case KindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f, nil
			}
		}
	case KindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			switch strings.ToLower(x) {
			case "t", "true", "1":
				return true, nil
			case "f", "false", "0":
				return false, nil
			}
		}
	case KindDate:
		switch x := v.(type) {
		case time.Time:
			return civil.Of(x), nil // the driver's own location: PostgreSQL and SQLite give UTC midnight
		case string:
			if len(x) >= 10 {
				if d, err := civil.Parse(x[:10]); err == nil {
					if len(x) == 10 {
						return d, nil
					}
					return KeptText{Text: x, As: d}, nil // a time, an offset: more than a date
				}
			}
		}
	case KindTimestamp:
		switch x := v.(type) {
		case time.Time:
			if c.Local {
				// A wall-clock reading: keep its fields, whatever location the driver put it in.
				return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
			}
			return x, nil
		case string:
			if t, zoned, ok := parseTimestampZone(x); ok {
				if zoned != c.Local && x == strings.TrimSpace(x) {
					return t, nil
				}
				// An offset a wall-clock column cannot hold, a zone a zoned one would invent, or
				// spaces around: the text says more than the timestamp.
				return KeptText{Text: x, As: t}, nil
			}
		}
	}
	// Text, and anything that did not fit its kind.
	switch x := v.(type) {
	case string:
		if utf8.ValidString(x) {
			return x, nil
		}
		return InvalidText(x), nil
	case []byte:
		if utf8.Valid(x) {
			return string(x), nil
		}
		return InvalidText(append([]byte(nil), x...)), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("column %s: unexpected value of type %T from the driver", c.Name, v)
}

// padScale writes a decimal with the scale its column declares ("NUMERIC(6,3)": 12.5 → 12.500),
// when that adds zeros only.
func padScale(s, dbType string) Decimal {
	scale := declaredScale(dbType)
	if scale <= 0 {
		return Decimal(s)
	}
	_, frac, _ := strings.Cut(s, ".")
	if len(frac) >= scale {
		return Decimal(s)
	}
	if !strings.Contains(s, ".") {
		s += "."
	}
	return Decimal(s + strings.Repeat("0", scale-len(frac)))
}

// canonicalDecimal checks that s is a plain decimal number and returns it without surrounding
// spaces, a leading '+', or superfluous leading zeros. Trailing zeros are kept: "12.50" says the
// scale the database gave.
func canonicalDecimal(s string) (Decimal, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return "", false
	}
	for _, p := range []string{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", false
			}
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if hasDot && frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return Decimal(out), true
}

// Layouts of timestamp text: with a zone first, then without.
var (
	zonedLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST", // how Go's time.Time.String writes, which SQLite drivers store
		"2006-01-02T15:04Z07:00",
		"2006-01-02 15:04Z07:00",
	}
	wallLayouts = []string{ // no text matches two of them: the most common (SQL's) first
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04",
		"2006-01-02T15:04",
		"2006-01-02",
	}
)

// parseTimestampZone reads timestamp text, saying whether it carries a zone.
func parseTimestampZone(s string) (t time.Time, zoned, ok bool) {
	s = strings.TrimSpace(s)
	// Every zoned layout writes its zone as Z or a signed offset after the 10-character date: text
	// with neither cannot match one, and trying (each failure builds an error) was 7 % of a run's CPU
	// on Apogée, whose timestamps carry no zone.
	if len(s) > 10 && strings.ContainsAny(s[10:], "Z+-") {
		for _, l := range zonedLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, true, true
			}
		}
	}
	for _, l := range wallLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, false, true
		}
	}
	return time.Time{}, false, false
}
