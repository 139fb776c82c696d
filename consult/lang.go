package consult

import (
	"golang.org/x/text/language"

	"github.com/versement/versement/fiche"
	"github.com/versement/versement/internal/lang"
)

func init() {
	lang.Translate(map[string]string{
		"Dossier":        "Dossier",
		"Birth name":     "Nom de naissance",
		"First name":     "Prénom",
		"Born":           "Né(e) le",
		"Years":          "Années",
		"Tier":           "Phase",
		"Why it matched": "Correspondance",
		"The whole dossier (zip, with its manifest)": "Le dossier complet (zip, avec son manifeste)",
		"When":      "Date",
		"Who":       "Qui",
		"Operation": "Opération",
		"Motive":    "Motif",
		"Result":    "Résultat",
	})
}

var words = map[string][2]string{
	"op:search":        {"search", "recherche"},
	"op:view":          {"view", "consultation"},
	"op:download":      {"download", "téléchargement"},
	"op:access-log":    {"access log read", "lecture du journal des accès"},
	"result:ok":        {"done", "effectuée"},
	"result:refused":   {"refused", "refusée"},
	"result:not-found": {"not found", "introuvable"},
	"result:failed":    {"failed", "échec"},
}

func word(tag language.Tag, kind, code string) string {
	if w, ok := words[kind+":"+code]; ok {
		if tag == lang.French {
			return w[1]
		}
		return w[0]
	}
	return code
}

func tierIn(tag language.Tag, tier string) string { return fiche.Tier(tag, tier) }

func dateIn(tag language.Tag, d string) string { return fiche.Date(tag, d) }

func sizeIn(n int64) string { return fiche.Size(n) }
