package bordereau

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
)

// values are the words a document writes for the codes it holds (final actions, statuses, tiers),
// keyed by "kind:code": English here, French registered in the catalogue under the same key so
// that another package's "destroy" can never change what a bordereau says.
var values = map[string][2]string{
	"final:keep":              {"keep", "conservation"},
	"final:destroy":           {"destroy", "destruction"},
	"final:sample":            {"sample", "tri"},
	"status:verified":         {"verified", "vérifiée"},
	"status:to-confirm":       {"to confirm", "à confirmer"},
	"tier:intermediate":       {"intermediate archiving", "archivage intermédiaire"},
	"tier:final":              {"final archives", "archives définitives"},
	"obs:" + ObsRuleToConfirm: {"rule to confirm: its values were not checked against the legal source", "règle à confirmer : ses valeurs n'ont pas été vérifiées sur le texte"},
	"obs:" + ObsNotSampled:    {"not selected by the sampling", "non retenu par l'échantillonnage"},
}

// french is every message a bordereau prints, with its French: what T translates.
var french = map[string]string{}

// untranslated, when set (by tests), hears of a message printed in French that has no translation.
var untranslated func(msg string)

func init() {
	for k, v := range values {
		french[k] = v[1]
	}
	for k, v := range map[string]string{
		// Titles and header block.
		"Proposal of elimination":   "Bordereau d'élimination",
		"Transfer slip":             "Bordereau de versement",
		"Proposal identifier":       "Identifiant de la proposition",
		"Transfer identifier":       "Identifiant du versement",
		"Date":                      "Date",
		"Establishment":             "Établissement",
		"Profile":                   "Profil",
		"Originating agency":        "Service producteur",
		"Transferring agency":       "Service versant",
		"Archival agency":           "Service d'archives",
		"Ingest contract":           "Contrat d'entrée",
		"Retention rules concerned": "Règles de gestion concernées",
		"Rule":                      "Règle",
		"Title":                     "Intitulé",
		"Legal reference":           "Référence réglementaire",
		"Status":                    "Statut",
		"Totals":                    "Totaux",
		"%d dossiers, %d rows":      "%d dossiers, %d lignes",
		"%d bytes":                  "%d octets",
		"Nothing is proposed for elimination: %s": "Aucun dossier n'est proposé à l'élimination : %s",
		// Lots.
		"Lots":                 "Lots",
		"Line id":              "Id ligne",
		"Class":                "Classe",
		"Description":          "Description (typologie)",
		"Extreme dates":        "Dates extrêmes",
		"Start":                "Début",
		"End":                  "Fin",
		"Year of DUA end":      "Année de fin de DUA",
		"Dossiers":             "Nombre de dossiers",
		"Rows":                 "Volume (lignes)",
		"Bytes":                "Volume (octets)",
		"DUA":                  "DUA",
		"Final action":         "Sort final",
		"Observations":         "Observations",
		"Tier":                 "Phase",
		"Access rule":          "Règle de communicabilité",
		"Communicable after":   "Communicable après le",
		"SIPs":                 "SIP",
		"%s to %s":             "%s – %s",
		"Extreme dates: start": "Dates extrêmes (début)",
		"Extreme dates: end":   "Dates extrêmes (fin)",
		"Packages (SIPs)":      "Paquets (SIP)",
		"SIP identifier":       "Identifiant du SIP",
		"File":                 "Fichier",
		"SHA-256":              "Empreinte SHA-256",
		"Size (bytes)":         "Taille (octets)",
		"Target":               "Destination",
		"VITAM operation":      "Opération VITAM",
		"ATR":                  "ATR",
		"not known yet":        "pas encore connu",
		"Annex: dossiers proposed for elimination":    "Annexe : dossiers proposés à l'élimination",
		"Annex of proposal %s":                        "Annexe de la proposition %s",
		"Line ids: the lot L001 is the line %s/L001.": "Identifiants de ligne : le lot L001 est la ligne %s/L001.",
		"Line ids: the lot V001 is the line %s/V001.": "Identifiants de ligne : le lot V001 est la ligne %s/V001.",
		"Key":        "Clé",
		"Identity":   "Identité",
		"DUA end":    "Fin de DUA",
		"Reason":     "Motif",
		"Lot":        "Lot",
		"Table":      "Table",
		"Key column": "Colonne de la clé",
		// Visa.
		"Visa": "Visa",
		"Visa of the head of the archives service":  "Visa du chef du service d'archives",
		"Visa of the head of the producing service": "Visa du chef du service producteur",
		"Visa of the transferring service":          "Visa du service versant",
		"Acceptance by the archives service":        "Prise en charge par le service d'archives",
		"Name:":                                     "Nom :",
		"Position:":                                 "Qualité :",
		"Date:":                                     "Date :",
		"Signature:":                                "Signature :",
		"No elimination without the visa of the archives service (Code du patrimoine, R212-14). Each lot is answered by its line id: accepted or rejected.": "Aucune élimination sans le visa du service d'archives (Code du patrimoine, art. R212-14). Chaque lot est visé par son identifiant de ligne : accepté ou refusé.",
		"Decision":       "Décision",
		"Visa reference": "Référence du visa",
		"Visa date":      "Date du visa",
		"Signatory":      "Signataire",
		// Values.
		"unlimited":              "illimitée",
		"%d year":                "%d an",
		"%d month":               "%d mois",
		"%d day":                 "%d jour",
		"%d years":               "%d ans",
		"%d months":              "%d mois",
		"%d days":                "%d jours",
		ReasonNoSamplingCriteria: "la règle intégrée conserve tous les dossiers : l'échantillonnage n'a pas de critère ; renseignez `sampling:` dans votre tableau de gestion (docs/retention.md)",
	} {
		french[k] = v
	}
	lang.Translate(french)
}

// tr prints a document in one language.
type tr struct {
	p  *message.Printer
	fr bool
}

func newTr(tag language.Tag) tr { return tr{p: lang.Printer(tag), fr: lang.IsFrench(tag)} }

// T translates a label (a message of the catalogue, with no verb unless args are given).
func (t tr) T(msg string, args ...any) string {
	if t.fr && untranslated != nil && french[msg] == "" {
		untranslated(msg)
	}
	return t.p.Sprintf(msg, args...)
}

// V translates a value that may be a catalogue message or free text (a reason from the caller):
// text holding a % is never used as a format.
func (t tr) V(s string) string {
	if s == "" || strings.Contains(s, "%") || french[s] == "" {
		return s // free text from the caller, printed as given
	}
	return t.p.Sprintf(s)
}

// Val is the word for a code of a kind (final, status, tier); an unknown code is written as is.
func (t tr) Val(kind, code string) string {
	v, ok := values[kind+":"+code]
	if !ok {
		return code
	}
	if t.fr {
		return t.T(kind + ":" + code)
	}
	return v[0]
}

// Date writes d as DD/MM/YYYY in French, YYYY-MM-DD otherwise; "" for the zero date.
func (t tr) Date(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	if t.fr {
		return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year)
	}
	return d.String()
}

// Span is the extreme dates "from … to …".
func (t tr) Span(a, b civil.Date) string {
	switch {
	case a.IsZero() && b.IsZero():
		return ""
	case a.IsZero():
		return t.Date(b)
	case b.IsZero() || a == b:
		return t.Date(a)
	}
	return t.T("%s to %s", t.Date(a), t.Date(b))
}

// Num writes n with the language's digit grouping (for people; CSV cells keep plain digits).
func (t tr) Num(n int64) string { return t.p.Sprintf("%d", n) }

// DUA reads a schedule duration ("7y", "1y6m", "unlimited") into words.
func (t tr) DUA(s string) string {
	if s == "unlimited" {
		return t.T("unlimited")
	}
	var out []string
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return s
		}
		var n int
		fmt.Sscan(rest[:i], &n)
		unit, ok := map[byte]string{'y': "year", 'm': "month", 'd': "day"}[rest[i]]
		if !ok {
			return s
		}
		if n != 1 {
			unit += "s"
		}
		out = append(out, t.T("%d "+unit, n))
		rest = rest[i+1:]
	}
	return strings.Join(out, " ")
}

// visaTitle is the heading of a signature box.
func (t tr) visaTitle(v Visa, transfer bool) string {
	switch {
	case v.Role == RoleArchives && transfer:
		return t.T("Acceptance by the archives service")
	case v.Role == RoleArchives:
		return t.T("Visa of the head of the archives service")
	case v.Role == RoleTransferring:
		return t.T("Visa of the transferring service")
	}
	return t.T("Visa of the head of the producing service")
}

func agencyText(a Agency) string {
	switch {
	case a.Name == "":
		return a.ID
	case a.ID == "":
		return a.Name
	}
	return a.Name + " (" + a.ID + ")"
}
