package consult

import (
	"fmt"

	"golang.org/x/text/language"

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
	"tier:intermediate": {"intermediate archiving", "archivage intermédiaire"},
	"tier:final":        {"final archives", "archives définitives"},
	"op:search":         {"search", "recherche"},
	"op:view":           {"view", "consultation"},
	"op:download":       {"download", "téléchargement"},
	"op:access-log":     {"access log read", "lecture du journal des accès"},
	"result:ok":         {"done", "effectuée"},
	"result:refused":    {"refused", "refusée"},
	"result:not-found":  {"not found", "introuvable"},
	"result:error":      {"failed", "échec"},
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

func tierIn(tag language.Tag, tier string) string { return word(tag, "tier", tier) }

func dateIn(tag language.Tag, d string) string {
	if tag != lang.French || len(d) != 10 {
		return d
	}
	return d[8:10] + "/" + d[5:7] + "/" + d[:4]
}

func sizeIn(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
