// Package lang says in which language a person reads versement's documents and messages, and
// holds their French translations in one message catalogue (golang.org/x/text/message): every
// package registers its own strings with French, and prints through a Printer. Logs keep English
// keys and are not translated.
package lang

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The languages versement writes in.
var (
	English = language.English
	French  = language.French
)

var (
	cat = catalog.NewBuilder(catalog.Fallback(language.English))
	// known are the French registered so far: one catalogue serves every package, so two packages
	// translating one English message two ways would print whichever registered last.
	mu    sync.Mutex
	known = map[string]string{}
)

// Translate registers French translations of English messages: each key is the English message
// (a fmt format), each value its French. A message another package translated otherwise is a
// programming error: it panics, naming both, when the program starts.
func Translate(fr map[string]string) {
	mu.Lock()
	defer mu.Unlock()
	for en, t := range fr {
		if prev, ok := known[en]; ok && prev != t {
			panic(fmt.Sprintf("lang: %q is translated twice: %q and %q; give one of them another English message", en, prev, t))
		}
		known[en] = t
		if err := cat.SetString(language.French, en, t); err != nil {
			panic("lang: " + en + ": " + err.Error())
		}
		// English is the key itself: setting it makes the catalogue know the message, so that a
		// French printer never falls back to a format the catalogue has not seen.
		if err := cat.SetString(language.English, en, en); err != nil {
			panic("lang: " + en + ": " + err.Error())
		}
	}
}

// Printer prints in language tag through the catalogue.
func Printer(tag language.Tag) *message.Printer {
	return message.NewPrinter(tag, message.Catalog(cat))
}

// Parse reads a --lang value or a locale name ("fr", "fr_FR.UTF-8", "en_GB", "C"): French for what
// starts with "fr", English otherwise.
func Parse(s string) language.Tag {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "fr") {
		return French
	}
	return English
}

// FromEnv is the language of the environment, as setlocale reads it: the first of LC_ALL,
// LC_MESSAGES and LANG that is set. flag, when not empty (the --lang option), wins.
func FromEnv(flag string) language.Tag {
	if flag != "" {
		return Parse(flag)
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			return Parse(s)
		}
	}
	return English
}

// IsFrench says whether tag is French.
func IsFrench(tag language.Tag) bool {
	base, _ := tag.Base()
	return base.String() == "fr"
}
