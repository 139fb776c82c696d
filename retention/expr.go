package retention

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/versement/versement/civil"
)

// Event is a date found by a start-event expression, with how it was found ("end of year
// 2015-2016"), so that a decision can say where its clock started.
type Event struct {
	Date civil.Date
	Note string
}

func (e Event) String() string { return e.Date.String() }

// Ongoing is what latestEnd returns when one of the end dates it was given is missing (NULL or blank
// text): the activity (an assignment, a contract) has not ended, so the active phase has not either.
type Ongoing struct{ Note string }

// Notes of an Ongoing end, one per kind of missing value.
const (
	noteEndNULL  = "an end date is NULL (still running)"
	noteEndBlank = "an end date is blank text (still running)"
	noteNoEnd    = "no end of activity recorded"
)

// missing reports whether v is a value the engine reads as "no date": NULL, text that is empty or
// only spaces ("", " "), or the zero date or time. It is the one rule for blank text in dates: a
// missing start is no start (undetermined, or skipped among others), a missing end is "still
// running" (latestEnd), and coalesce passes over it. blank tells blank text from NULL, for notes.
func missing(v any) (isMissing, blank bool) {
	switch x := v.(type) {
	case nil:
		return true, false
	case civil.Date:
		return x.IsZero(), false
	case time.Time:
		return x.IsZero(), false
	}
	if s, ok := asString(v); ok && strings.TrimSpace(s) == "" {
		return true, true
	}
	return false, false
}

// MonthDay is the academic year's cut-off: year code N ends on this day of year N+1.
type MonthDay struct {
	Month time.Month
	Day   int
}

// DefaultYearEnd is 31 August: COD_ANU "2015" (2015-2016) ends on 2016-08-31.
var DefaultYearEnd = MonthDay{time.August, 31}

func (m MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(m.Month), m.Day) }

// ParseMonthDay reads "MM-DD" (e.g. "08-31", "09-30").
func ParseMonthDay(s string) (MonthDay, error) {
	t, err := time.Parse("01-02", strings.TrimSpace(s))
	if err != nil {
		return MonthDay{}, fmt.Errorf("%q: want MM-DD, e.g. 08-31", s)
	}
	return MonthDay{t.Month(), t.Day()}, nil
}

// program is one compiled expression, with the top-level names (tables) it reads, so that a
// dossier lacking one of them is reported instead of read as NULL.
type program struct {
	src   string
	prog  *vm.Program
	names []string
}

func (p *program) run(env map[string]any) (any, error) {
	for _, n := range p.names {
		if _, ok := env[n]; !ok {
			return nil, fmt.Errorf("%s: the dossier has no table %s", p.src, n)
		}
	}
	out, err := expr.Run(p.prog, env)
	if err != nil {
		// The position expr appends ("(1:1)") points into the expression, which the message
		// already quotes; at run time it is noise in a decision's reason.
		msg := oneLine(err).Error()
		msg = runtimePos.ReplaceAllString(msg, "")
		return nil, fmt.Errorf("%s: %s", p.src, msg)
	}
	return out, nil
}

var runtimePos = regexp.MustCompile(` \(\d+:\d+\)$`)

// oneLine drops the source excerpt expr appends to its errors after a newline: a decision's reason
// and a schedule error are one line each.
func oneLine(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return fmt.Errorf("%s", msg)
}

// compileExpr compiles src with the retention functions; yearEnd is the academic-year cut-off that
// endOfYear uses.
func compileExpr(src string, yearEnd MonthDay) (*program, error) {
	prog, err := expr.Compile(src, functions(yearEnd)...)
	if err != nil {
		return nil, oneLine(err)
	}
	names := identifiers(prog.Node())
	return &program{src: src, prog: prog, names: names}, nil
}

type identVisitor struct {
	seen     map[string]bool
	declared map[string]bool
}

func (v *identVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.seen[n.Value] = true
	case *ast.VariableDeclaratorNode:
		v.declared[n.Name] = true
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			v.declared[id.Value] = true
		}
	}
}

func identifiers(root ast.Node) []string {
	v := &identVisitor{seen: map[string]bool{}, declared: map[string]bool{}}
	ast.Walk(&root, v)
	var out []string
	for n := range v.seen {
		if !v.declared[n] && n != "nil" && n != "true" && n != "false" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// functions are the expression functions of docs/retention.md.
func functions(yearEnd MonthDay) []expr.Option {
	return []expr.Option{
		expr.Function("date", func(p ...any) (any, error) {
			if len(p) != 1 {
				return nil, fmt.Errorf("date: want 1 argument, got %d", len(p))
			}
			return toEvent(p[0])
		}),
		expr.Function("parseDate", func(p ...any) (any, error) {
			if len(p) != 2 {
				return nil, fmt.Errorf("parseDate: want (text, layout), got %d arguments", len(p))
			}
			if m, _ := missing(p[0]); m {
				return nil, nil
			}
			text, ok1 := asString(p[0])
			layout, ok2 := p[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("parseDate: want (text, layout), got (%T, %T)", p[0], p[1])
			}
			d, err := parseLayout(text, layout)
			if err != nil {
				return nil, err
			}
			return Event{Date: d}, nil
		}),
		expr.Function("latest", func(p ...any) (any, error) { return extreme("latest", p, 1) }),
		expr.Function("earliest", func(p ...any) (any, error) { return extreme("earliest", p, -1) }),
		expr.Function("latestEnd", func(p ...any) (any, error) {
			var all []any
			flatten(p, &all)
			if len(all) == 0 {
				return nil, nil
			}
			// A blank end is read as NULL is: the row has not ended. Dropping it instead would
			// make an agent whose last assignment has a blank end look as if they had left.
			blankSeen := false
			for _, v := range all {
				if m, blank := missing(v); m && !blank {
					return Ongoing{Note: noteEndNULL}, nil
				} else if m {
					blankSeen = true
				}
			}
			if blankSeen {
				return Ongoing{Note: noteEndBlank}, nil
			}
			return extreme("latestEnd", all, 1)
		}),
		expr.Function("endOfYear", func(p ...any) (any, error) {
			if len(p) != 1 {
				return nil, fmt.Errorf("endOfYear: want 1 argument (a year code or a list of them), got %d", len(p))
			}
			var all []any
			flatten(p, &all)
			best := -1
			for _, v := range all {
				if m, _ := missing(v); m {
					continue
				}
				y, err := toYear(v)
				if err != nil {
					return nil, fmt.Errorf("endOfYear: %w", err)
				}
				if y > best {
					best = y
				}
			}
			if best < 0 {
				return nil, nil
			}
			d := civil.Date{Year: best + 1, Month: yearEnd.Month, Day: min(yearEnd.Day, civil.DaysIn(best+1, yearEnd.Month))}
			return Event{Date: d, Note: fmt.Sprintf("end of year %d-%d", best, best+1)}, nil
		}),
		expr.Function("addYears", func(p ...any) (any, error) { return add("addYears", p, 'y') }),
		expr.Function("addMonths", func(p ...any) (any, error) { return add("addMonths", p, 'm') }),
		expr.Function("addDays", func(p ...any) (any, error) { return add("addDays", p, 'd') }),
		expr.Function("coalesce", func(p ...any) (any, error) {
			// Blank text counts as NULL here too: coalesce(.D_FIN_EXECUTION, .D_FIN_CONTRAT_TRAV)
			// with a blank execution end takes the contract's end, as Oracle (where '' is NULL) does.
			// When every value is missing, a blank one is returned rather than NULL, so that
			// latestEnd can say which it was.
			var blankSeen any
			for _, v := range p {
				m, blank := missing(v)
				if !m {
					return v, nil
				}
				if blank && blankSeen == nil {
					blankSeen = v
				}
			}
			return blankSeen, nil
		}),
		expr.Function("year", func(p ...any) (any, error) {
			if len(p) != 1 {
				return nil, fmt.Errorf("year: want 1 argument, got %d", len(p))
			}
			if m, _ := missing(p[0]); m {
				return nil, nil
			}
			y, err := toYear(p[0])
			if err != nil {
				return nil, fmt.Errorf("year: %w", err)
			}
			return y, nil
		}),
	}
}

func add(name string, p []any, unit byte) (any, error) {
	if len(p) != 2 {
		return nil, fmt.Errorf("%s: want (date, n), got %d arguments", name, len(p))
	}
	ev, err := toEvent(p[0])
	if err != nil || ev == nil {
		return nil, err
	}
	n, ok := toInt(p[1])
	if !ok {
		return nil, fmt.Errorf("%s: n must be an integer, got %T", name, p[1])
	}
	e := ev.(Event)
	var d Duration
	switch unit {
	case 'y':
		d.Years = n
	case 'm':
		d.Months = n
	default:
		d.Days = n
	}
	base := e.Date.String()
	if e.Note != "" {
		base = e.Note + " " + base
	}
	return Event{Date: d.AddTo(e.Date), Note: fmt.Sprintf("%s after %s", d, base)}, nil
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	}
	return 0, false
}

// toYear reads a year from an academic-year code ("2015"), a number or a date.
func toYear(v any) (int, error) {
	switch x := v.(type) {
	case civil.Date:
		return x.Year, nil
	case Event:
		return x.Date.Year, nil
	case time.Time:
		return x.Year(), nil
	}
	if n, ok := toInt(v); ok {
		if n < 1 || n > 9998 {
			return 0, fmt.Errorf("year %d out of range", n)
		}
		return n, nil
	}
	if s, ok := asString(v); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 9998 {
			return 0, fmt.Errorf("year code %q is not a year", s)
		}
		return n, nil
	}
	return 0, fmt.Errorf("cannot read a year from %T", v)
}

// asString accepts string and named string types (extract.Decimal).
func asString(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	if rv.IsValid() && rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// toEvent turns a value of the env (or a function result) into an Event; nil stays nil.
func toEvent(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case Event:
		return x, nil
	case civil.Date:
		if x.IsZero() {
			return nil, nil
		}
		if !x.Valid() {
			return nil, fmt.Errorf("impossible date %04d-%02d-%02d", x.Year, int(x.Month), x.Day)
		}
		return Event{Date: x}, nil
	case time.Time:
		if x.IsZero() {
			return nil, nil
		}
		return Event{Date: civil.Of(x)}, nil
	case Ongoing:
		return nil, fmt.Errorf("an open-ended period (%s) is not a date", x.Note)
	}
	if s, ok := asString(v); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		for _, layout := range []string{"YYYY-MM-DD", "DD/MM/YYYY", "YYYYMMDD"} {
			if d, err := parseLayout(s, layout); err == nil {
				return Event{Date: d}, nil
			}
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return Event{Date: civil.Of(t)}, nil
		}
		if len(s) > 10 {
			if d, err := parseLayout(s[:10], "YYYY-MM-DD"); err == nil && (s[10] == 'T' || s[10] == ' ') {
				return Event{Date: d}, nil
			}
		}
		return nil, fmt.Errorf("text %q is not a date (want YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD; use parseDate for others)", s)
	}
	return nil, fmt.Errorf("a %T is not a date", v)
}

// parseLayout reads text with a layout of YYYY, MM and DD (any other character must match itself),
// e.g. "DD/MM/YYYY". It refuses days that do not exist (31/04/2015).
func parseLayout(text, layout string) (civil.Date, error) {
	goLayout := strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02").Replace(layout)
	if goLayout == layout {
		return civil.Date{}, fmt.Errorf("parseDate: layout %q has none of YYYY, MM, DD", layout)
	}
	t, err := time.Parse(goLayout, strings.TrimSpace(text))
	if err != nil {
		return civil.Date{}, fmt.Errorf("text %q does not match %s or is not a date", text, layout)
	}
	return civil.Of(t), nil
}

func flatten(p []any, out *[]any) {
	for _, v := range p {
		rv := reflect.ValueOf(v)
		if v != nil && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) {
			inner := make([]any, rv.Len())
			for i := range inner {
				inner[i] = rv.Index(i).Interface()
			}
			flatten(inner, out)
			continue
		}
		*out = append(*out, v)
	}
}

// extreme returns the latest (sign 1) or earliest (sign -1) date among p, flattening lists and
// skipping NULLs; nil when there is none.
func extreme(name string, p []any, sign int) (any, error) {
	var all []any
	flatten(p, &all)
	var best *Event
	for _, v := range all {
		if o, ok := v.(Ongoing); ok {
			return o, nil
		}
		ev, err := toEvent(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if ev == nil {
			continue
		}
		e := ev.(Event)
		if best == nil || e.Date.Compare(best.Date) == sign {
			best = &e
		}
	}
	if best == nil {
		return nil, nil
	}
	return *best, nil
}
