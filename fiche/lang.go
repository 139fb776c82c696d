package fiche

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/lang"
)

// french is every message a sheet prints, with its French.
var french = map[string]string{
	"Dossier %s":                        "Dossier %s",
	"Archival context":                  "Contexte d'archivage",
	"Profile and class":                 "Profil et classe",
	"Key":                               "Clé",
	"Identifiers":                       "Identifiants",
	"Tier":                              "Phase",
	"Appraisal rule":                    "Règle de conservation",
	"%s, from %s, end of the DUA %s":    "%s, à compter du %s, fin de la DUA le %s",
	"final action: %s":                  "sort final : %s",
	"Access rule":                       "Règle de communicabilité",
	"%s, from %s, communicable from %s": "%s, à compter du %s, communicable le %s",
	"Package (SIP)":                     "Paquet (SIP)",
	"Kept at":                           "Lieu de conservation",
	"VITAM operation":                   "Opération VITAM",
	"Digests checked":                   "Empreintes vérifiées",
	"%d of %d objects read and checked against the manifest": "%d objets sur %d lus et vérifiés d'après le bordereau (manifest)",
	"Data objects":             "Objets de données",
	"Name":                     "Nom",
	"Format":                   "Format",
	"Size":                     "Taille",
	"checked":                  "vérifiée",
	"not read":                 "non lu",
	"absent from the database": "absente de la base",
	"no row":                   "aucune ligne",
	"bytes that were not UTF-8 replaced by �": "octets non UTF-8 remplacés par �",
	"object %s (%d bytes)":                    "objet %s (%d octets)",
	"yes":                                     "oui",
	"no":                                      "non",
	"Printed from the archives on %s by %s. Personal data: for the stated purpose only.": "Édité depuis les archives le %s par %s. Données personnelles : à n'utiliser que pour le motif déclaré.",
	"Photo": "Photo",
}

// values are the words for codes (tiers, final actions), keyed "kind:code".
var values = map[string][2]string{
	"tier:intermediate": {"intermediate archiving", "archivage intermédiaire"},
	"tier:final":        {"final archives", "archives définitives"},
	"tier:active":       {"active base", "base active"},
	"final:Keep":        {"keep", "conservation"},
	"final:Destroy":     {"destroy", "destruction"},
	"final:keep":        {"keep", "conservation"},
	"final:destroy":     {"destroy", "destruction"},
	"final:sample":      {"sample", "tri"},
}

func init() { lang.Translate(french) }

// tr prints a sheet's words in one language.
type tr struct {
	p  *message.Printer
	fr bool
}

func newTr(tag language.Tag) tr { return tr{p: lang.Printer(tag), fr: tag == lang.French} }

func (t tr) T(format string, args ...any) string { return t.p.Sprintf(format, args...) }

func (t tr) value(kind, code string) string {
	if v, ok := values[kind+":"+code]; ok {
		if t.fr {
			return v[1]
		}
		return v[0]
	}
	return code
}

// date reads an ISO date (or timestamp) as a person of the language writes it.
func (t tr) date(s string) string {
	if !t.fr || len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return s
	}
	out := s[8:10] + "/" + s[5:7] + "/" + s[:4]
	if len(s) >= 16 && s[10] == 'T' {
		out += " " + s[11:16]
	}
	return out
}

// text is what a cell shows.
func (t tr) text(c Cell, kind string) string {
	switch {
	case c.Null:
		return "—"
	case c.Object != "":
		return t.T("object %s (%d bytes)", c.Object, c.Size)
	case kind == "date" || kind == "timestamp-local" || kind == "timestamp":
		return t.date(c.Text)
	case kind == "boolean":
		if c.Text == "true" {
			return t.T("yes")
		}
		return t.T("no")
	case kind == "decimal" && t.fr:
		return strings.Replace(c.Text, ".", ",", 1)
	}
	return c.Text
}

func (t tr) size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Tier is the archiving tier as a person of the language reads it ("archivage intermédiaire").
func Tier(tag language.Tag, tier string) string { return newTr(tag).value("tier", tier) }

// Date is an ISO date (or timestamp) as a person of the language writes it (16/01/2000).
func Date(tag language.Tag, iso string) string { return newTr(tag).date(iso) }

// Size is a byte count for people (4.2 KiB).
func Size(n int64) string { return tr{}.size(n) }

// PrintedBy is the footer of a printed sheet: when, by whom, and that its personal data serve
// the stated purpose only.
func PrintedBy(tag language.Tag, when time.Time, who string) string {
	t := newTr(tag)
	return t.T("Printed from the archives on %s by %s. Personal data: for the stated purpose only.", t.date(when.Format("2006-01-02T15:04")), who)
}
