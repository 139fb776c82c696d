package pipeline

import "github.com/versement/versement/internal/lang"

// The summary's French (the tiers' names are retention's: retention/msg_fr.go).
func init() {
	lang.Translate(map[string]string{
		"run":                       "archivage",
		"dry run (nothing written)": "simulation (rien n'est écrit)",
		", interrupted":             ", interrompu",
		"versement %s: profile %s, source %s (%s), as of %s":           "versement : %s, profil %s, source %s (%s), à la date du %s",
		", decommission: active dossiers go to intermediate archiving": ", décommissionnement : les dossiers actifs passent en archivage intermédiaire",
		"tier":                                  "phase",
		"dossiers":                              "dossiers",
		"total":                                 "total",
		" as intermediate, with their HoldRule": " en intermédiaire, avec leur HoldRule",
		" (%d of them active, by decommission)": " (dont %d actifs, par décommissionnement)",
		"\nby rule:\n":                          "\npar règle :\n",
		"would be archived":                     "seraient archivés",
		"archived":                              "archivés",
		"left in place":                         "laissés en base",
		"elimination proposal":                  "proposition d'élimination",
		"legal hold: kept in place":             "gel juridique : laissés en base",
		"no decision: see below":                "aucune décision : voir plus bas",
		"not archived in this run":              "non archivés par ce versement",
		"\nundetermined (fix the data or the rule, then run again; `versement explain` tells more):\n":                                                        "\nindéterminés (corrigez les données ou la règle, puis relancez ; `versement explain` en dit plus) :\n",
		"  %s, all %d undetermined dossiers: %s":                                                                                                              "  %s, les %d dossiers indéterminés : %s",
		"  and %d more dossiers (the JSON report lists the first %d)\n":                                                                                       "  et %d dossiers de plus (le rapport JSON liste les %d premiers)\n",
		"\ndata anomalies (dates that cannot be true, or that the rule had to arbitrate; the tier is unchanged; `versement explain --key KEY` tells more):\n": "\nanomalies des données (dates impossibles, ou que la règle a dû arbitrer ; la phase est inchangée ; `versement explain --key CLÉ` en dit plus) :\n",
		"\n%d dossier(s) were already archived at their tier by earlier runs: not archived again\n":                                                           "\n%d dossier(s) déjà archivé(s) dans leur phase par des versements antérieurs : non archivé(s) à nouveau\n",
		"\nnothing new was archived: 0 SIPs\n":                                                                                                                "\nrien de nouveau n'a été archivé : 0 SIP\n",
		"\n%d SIP(s), %s":                                                                                                                                     "\n%d SIP, %s",
		" (%d left in the spool by an earlier run)":                                                                                                           " (dont %d laissé(s) dans le spool par un versement antérieur)",
		"; the list is in the report (--json, --report FILE)\n":                                                                                               " ; la liste est dans le rapport (--json, --report FICHIER)\n",
		"\n  %s  %s %s  %d dossiers  %s  %s:%s":                                                                                                               "\n  %s  %s %s  %d dossiers  %s  %s:%s",
		"  (left in the spool by an earlier run)":                                                                                                             "  (laissé dans le spool par un versement antérieur)",
		"\nledger: %d SIP(s) the state marks sent had lost their entry, recorded again: %s\n":                                                                 "\njournal : %d SIP que l'état marque envoyé(s) avaient perdu leur entrée, enregistrée(s) à nouveau : %s\n",
		"\nledger: %d SIP(s) the state marks sent were neither in the ledger nor at the target, archived again: %s\n":                                         "\njournal : %d SIP que l'état marque envoyé(s) n'étaient ni au journal ni à la cible, archivé(s) à nouveau : %s\n",
		"\nspool: SIP %s did not match its record (%s): set aside":                                                                                            "\nspool : le SIP %s ne correspondait pas à son enregistrement (%s) : mis de côté",
		" as %s":                                  " sous %s",
		", written again by this run\n":           ", écrit à nouveau par ce versement\n",
		"ledger head: %s\n":                       "tête du journal : %s\n",
		"\n%d dossiers in %.1fs (%.0f dossiers/s": "\n%d dossiers en %.1f s (%.0f dossiers/s",
		"%d dossier(s) proposed for elimination: nothing was deleted; the proposal needs the archives' visa (R212-14)\n": "%d dossier(s) proposé(s) à l'élimination : rien n'a été supprimé ; la proposition attend le visa des archives (R212-14)\n",
		"files written: %s\n": "fichiers écrits : %s\n",
	})
}
