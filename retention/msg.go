package retention

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
)

// msg is something said to a person: an English format and its arguments, printed in the reader's
// language through the catalogue (retention/msg_fr.go). An argument that is itself a msg, or a
// list of them, is printed in the same language, and so is a Duration. Years are passed as text
// (year): a printer groups the digits of numbers, and 2015 is not 2 015.
type msg struct {
	format string
	args   []any
}

func say(format string, args ...any) msg { return msg{format, args} }

// year is a year as a message prints it: its digits, never grouped.
func year(y int) string { return strconv.Itoa(y) }

// msgs is a list of messages, printed joined by ", ".
type msgs []msg

func (m msg) String() string { return m.in(lang.English) }

// in prints m in language tag; English is the format itself.
func (m msg) in(tag language.Tag) string {
	args := make([]any, len(m.args))
	for i, a := range m.args {
		switch x := a.(type) {
		case msg:
			args[i] = x.in(tag)
		case notSelected:
			args[i] = x.msg().in(tag)
		case msgs:
			parts := make([]string, len(x))
			for j, y := range x {
				parts[j] = y.in(tag)
			}
			args[i] = strings.Join(parts, ", ")
		case Duration:
			args[i] = x.In(tag)
		default:
			args[i] = a
		}
	}
	if !lang.IsFrench(tag) {
		return fmt.Sprintf(m.format, args...)
	}
	return lang.Printer(tag).Sprintf(m.format, args...)
}

// In is the duration as a reader of tag reads it: "7y" in English (as schedules write it), "7 ans"
// in French.
func (d Duration) In(tag language.Tag) string {
	if !lang.IsFrench(tag) {
		return d.String()
	}
	if d.Unlimited {
		return "illimitée"
	}
	var parts []string
	unit := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n != 0 {
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	unit(d.Years, "an", "ans")
	unit(d.Months, "mois", "mois")
	unit(d.Days, "jour", "jours")
	if len(parts) == 0 {
		return "0 jour"
	}
	return strings.Join(parts, " ")
}

// ReasonIn is the decision's Reason in the reader's language (Reason itself is English, for the
// report and the logs).
func (d Decision) ReasonIn(tag language.Tag) string {
	if d.reason.format == "" {
		return d.Reason
	}
	return d.reason.in(tag)
}

// noteIn is a note on a date (how the start or the end of the active phase was found) in the
// reader's language. The notes are the expressions' own, in the few forms expr.go writes ("end of
// year 2015-2016", "80y after …", the still-running ones); any other (a schedule's start_label) is
// printed as written. Events stay plain comparable values that way.
func noteIn(tag language.Tag, note string) string {
	if !lang.IsFrench(tag) || note == "" {
		return note
	}
	if m := endOfYearNote.FindStringSubmatch(note); m != nil {
		return say("end of year %s-%s", m[1], m[2]).in(tag)
	}
	if m := afterNote.FindStringSubmatch(note); m != nil {
		if d, err := ParseDuration(m[1]); err == nil {
			base := m[3]
			if m[2] != "" {
				base = noteIn(tag, m[2]) + " " + m[3]
			}
			return say("%s after %s", d, base).in(tag)
		}
	}
	switch note {
	case noteEndNULL, noteEndBlank, noteNoEnd:
		return say(note).in(tag)
	}
	return note
}

var (
	endOfYearNote = regexp.MustCompile(`^end of year ([0-9]+)-([0-9]+)$`)
	afterNote     = regexp.MustCompile(`^([0-9a-z]+) after (?:(.*) )?([0-9]{4}-[0-9]{2}-[0-9]{2})$`)
)
