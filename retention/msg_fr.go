package retention

import "github.com/versement/versement/internal/lang"

// What retention says to a person, in French. Tiers are named as the French archives name the
// phases: active (courante), intermédiaire, définitive; a dossier due for destruction is "à
// éliminer", one under a legal hold "gel juridique".
func init() {
	lang.Translate(map[string]string{
		"active":       "active",
		"intermediate": "intermédiaire",
		"final":        "définitive",
		"destroy":      "à éliminer",
		"held":         "gel juridique",
		"undetermined": "indéterminé",
		"(to confirm)": "(à confirmer)",

		// Why a dossier is undetermined.
		"start event: %v":                             "événement de départ : %v",
		"start event gave no date (%s)":               "l'événement de départ ne donne pas de date (%s)",
		"end of active phase: %v":                     "fin de la phase active : %v",
		"end of active phase: %s: %v":                 "fin de la phase active : %s : %v",
		"end of active phase gave no date (%s)":       "la fin de la phase active ne donne pas de date (%s)",
		"access start: %v":                            "début de la restriction d'accès : %v",
		"access start gave no date (%s)":              "le début de la restriction d'accès ne donne pas de date (%s)",
		"hold %s: %v":                                 "gel %s : %v",
		"sampling: %v":                                "échantillonnage : %v",
		"sampling undetermined: %s":                   "échantillonnage indéterminé : %s",
		"not selected, and %s":                        "non retenu, et %s",
		"birth surname is empty":                      "le nom de naissance est vide",
		"birth surname initial %c has no A-Z folding": "l'initiale %c du nom de naissance n'a pas d'équivalent A-Z",
		"date of birth is NULL or blank":              "la date de naissance est NULL ou vide",
		"sampling year is NULL or blank":              "l'année d'échantillonnage est NULL ou vide",
		"sampled in: surname initial %s":              "retenu par l'échantillonnage : initiale du nom %s",
		"sampled in: born on day %d":                  "retenu par l'échantillonnage : né le %d du mois",
		"sampled in: year %s mod %d = %d":             "retenu par l'échantillonnage : année %s modulo %d = %d",
		"end of year %s-%s":                           "fin de l'année %s-%s",
		"%s after %s":                                 "%s après %s",
		"no end of activity recorded":                 "aucune fin d'activité enregistrée",
		"an end date is NULL (still running)":         "une date de fin est NULL (toujours en cours)",
		"an end date is blank text (still running)":   "une date de fin est un texte vide (toujours en cours)",
		"sampled out: no criterion selects it":        "non retenu par l'échantillonnage : aucun critère ne le sélectionne",

		// Explain.
		"%s: %s":                  "%s : %s",
		" start %s":               " départ %s",
		"access %s until %s":      "accès %s jusqu'au %s",
		"anomaly %s: %s":          "anomalie %s : %s",
		"source: %s":              "source : %s",
		" (to confirm)":           " (à confirmer)",
		"ended %s":                "terminée le %s",
		"ends %s":                 "se termine le %s",
		"active: %s":              "active : %s",
		"active %s":               "active %s",
		"last day in %s":          "dernier jour %s",
		"DUC %s %s":               "DUC %s %s",
		" from start":             " depuis le départ",
		" (no end)":               " (sans fin)",
		" after the active phase": " après la phase active",
		"then ":                   "puis ",
		"keep":                    "conservation",
		"destroy (proposed for elimination, needs the archives' visa: R212-14)": "destruction (proposée à l'élimination, soumise au visa des archives : R212-14)",
		"sample (no criteria set: every dossier kept)":                          "tri (aucun critère : chaque dossier est conservé)",
		"sample (%s)": "tri (%s)",
		"sample (%s; proposed for elimination, needs the archives' visa: R212-14)": "tri (%s ; proposé à l'élimination, soumis au visa des archives : R212-14)",
		"hold %s: %s":     "gel %s : %s",
		" (until %s)":     " (jusqu'au %s)",
		" (until lifted)": " (jusqu'à sa levée)",
	})
}
