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
		"When":                    "Date",
		"Who":                     "Qui",
		"Operation":               "Opération",
		"Motive":                  "Motif",
		"Result":                  "Résultat",
		"search (returned it)":    "recherche (l'a trouvé)",
		"view of the fiche":       "consultation de la fiche",
		"download of its objects": "téléchargement",
		"listing of its accesses": "lecture de ses accès",
		"access granted":          "accordé",
		"could not be read: %s":   "n'a pu être lu : %s",
		"access refused: %s":      "refusé : %s",
		"dossier not found":       "introuvable",
	})
}

func tierIn(tag language.Tag, tier string) string { return fiche.Tier(tag, tier) }

func dateIn(tag language.Tag, d string) string { return fiche.Date(tag, d) }

func sizeIn(n int64) string { return fiche.Size(n) }
