package retention

import (
	"fmt"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/lang"
)

// msg is something said to a person: an English format and its arguments, printed in the reader's
// language through the catalogue (retention/msg_fr.go). An argument that is itself a msg, or a
// list of them, is printed in the same language.
type msg struct {
	format string
	args   []any
}

func say(format string, args ...any) msg { return msg{format, args} }

// msgs is a list of messages, printed joined by ", ".
type msgs []msg

func (m msg) String() string { return m.in(nil) }

// in prints m with p; nil prints the English.
func (m msg) in(p *message.Printer) string {
	args := make([]any, len(m.args))
	for i, a := range m.args {
		switch x := a.(type) {
		case msg:
			args[i] = x.in(p)
		case notSelected:
			args[i] = x.msg().in(p)
		case msgs:
			s := ""
			for j, y := range x {
				if j > 0 {
					s += ", "
				}
				s += y.in(p)
			}
			args[i] = s
		default:
			args[i] = a
		}
	}
	if p == nil {
		return fmt.Sprintf(m.format, args...)
	}
	return p.Sprintf(m.format, args...)
}

// ReasonIn is the decision's Reason in the reader's language (Reason itself is English, for the
// report and the logs).
func (d Decision) ReasonIn(tag language.Tag) string { return d.reasonIn(lang.Printer(tag)) }

func (d Decision) reasonIn(p *message.Printer) string {
	if d.reason.format == "" {
		return d.Reason
	}
	return d.reason.in(p)
}
