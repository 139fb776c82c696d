package bordereau

import (
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
)

// The attestation's words, registered beside the bordereaux' (lang.go): its codes in values, its
// labels in french. The English keys are the attestation's own wherever a bordereau's label would
// need another French.
func init() {
	for k, v := range map[string][2]string{
		"decision:" + DecisionAccepted: {"accepted", "accepté"},
		"decision:" + DecisionRefused:  {"refused", "refusé"},
		"decision:":                    {"no answer in the visa", "sans réponse dans le visa"},
		"outcome:" + OutcomeDestroyed:  {"destroyed", "détruit"},
		"outcome:" + OutcomeSpared:     {"spared", "non éliminé"},
		"outcome:" + OutcomeInSource:   {"in the source (never archived)", "dans la source (jamais archivé)"},
		// The reasons a dossier is spared: codes of package eliminate, which the document writes
		// in words; a code not here is printed as given.
		"spare:hold":         {"under a legal hold since the proposal", "sous gel (conservation pour contentieux) depuis la proposition"},
		"spare:tier-changed": {"the schedule no longer destroys it", "le tableau de gestion ne prévoit plus sa destruction"},
		"spare:refused":      {"its lot was refused by the visa", "son lot a été refusé au visa"},
		"spare:unanswered":   {"its lot has no answer in the visa: it stays proposed", "son lot n'a pas de réponse dans le visa : il reste proposé"},
		"spare:not-found":    {"not in the SIP the state names", "absent du SIP où l'état le situe"},
		"spare:locked":       {"its SIP is under Object Lock: destroyed when the lock ends", "son SIP est verrouillé (Object Lock) : détruit à la fin du verrou"},
		"spare:not-sent":     {"its rewritten SIP is not yet at the target", "son SIP réécrit n'est pas encore à destination"},
		"spare:vitam-kept":   {"VITAM kept it (its rules or holds there)", "conservé par VITAM (ses règles ou gels y sont en cours)"},
		// What a dossier the schedule no longer destroys has become (its Detail).
		"tier:active":        {"active: the service still needs it", "base active : le service en a encore besoin"},
		"tier:held":          {"under a legal hold", "sous gel"},
		"tier:undetermined":  {"undetermined as of the execution", "indéterminé à la date de l'exécution"},
		"tier:class-removed": {"its class is no longer in the profile", "sa classe n'est plus dans le profil"},
		"tier:rule-changed":  {"its rule changed since the proposal: to propose again", "sa règle a changé depuis la proposition : à proposer de nouveau"},
		"oldsip:deleted":     {"deleted", "supprimé"},
		"oldsip:pending":     {"not deleted yet", "pas encore supprimé"},
		"vitam:analysis":     {"elimination analysis", "analyse d'élimination"},
		"vitam:action":       {"elimination action", "action d'élimination"},
		"oldsip:simulation":  {"simulation: would be replaced", "simulation : serait remplacé"},
	} {
		values[k] = v
		attestationFrench[k] = v[1]
	}
	for k, v := range attestationFrench {
		french[k] = v
	}
	lang.Translate(attestationFrench)
}

// attestationFrench is the attestation's part of the catalogue.
var attestationFrench = map[string]string{
	"Attestation of elimination":         "Attestation d'élimination",
	"SIMULATION — nothing was destroyed": "SIMULATION — rien n'a été détruit",
	"Attestation identifier":             "Identifiant de l'attestation",
	"Date of execution":                  "Date de l'exécution",
	"Executed by":                        "Exécutée par",
	"Visa of the archives service":       "Visa du service d'archives",
	"Visa recorded by":                   "Visa enregistré par",
	"Visa recorded on":                   "Visa enregistré le",
	"Destroyed":                          "Détruits",
	"Spared":                             "Non éliminés",
	"In the source":                      "Dans la source",
	"Proposed":                           "Proposés",
	"Outcome":                            "Sort",
	"Detail":                             "Précision",
	"SIP":                                "SIP",
	"%d destroyed, %d spared, %d in the source": "%d détruits, %d non éliminés, %d dans la source",
	"Lots and decisions of the visa":            "Lots et décisions du visa",
	"SIPs rewritten":                            "SIP réécrits",
	"Old SIP":                                   "Ancien SIP",
	"Old SHA-256":                               "Empreinte SHA-256 de l'ancien",
	"New SIP":                                   "Nouveau SIP",
	"New SHA-256":                               "Empreinte SHA-256 du nouveau",
	"Removed":                                   "Retirés",
	"Kept":                                      "Conservés",
	"Old SIP's state":                           "État de l'ancien SIP",
	"deleted whole: every dossier was destroyed":  "supprimé en entier : tous ses dossiers sont détruits",
	"locked until %s: deleted when the lock ends": "verrouillé jusqu'au %s : supprimé à la fin du verrou",
	"No SIP was rewritten.":                       "Aucun SIP n'a été réécrit.",
	"VITAM operations":                            "Opérations VITAM",
	"Kind":                                        "Nature",
	"Operation identifier":                        "Identifiant de l'opération",
	"Units":                                       "Unités",
	"Dossiers destroyed":                          "Dossiers détruits",
	"Dossiers spared":                             "Dossiers non éliminés",
	"Dossiers in the source":                      "Dossiers dans la source",
	"Dossiers and their outcome":                  "Dossiers et leur sort",
	"None.":                                       "Aucun.",
	"These dossiers were never archived: versement deletes no source data. The application's administrator deletes them from its base (the list of their keys is a CSV file of its own).": "Ces dossiers n'ont jamais été archivés : versement ne supprime aucune donnée de la source. L'administrateur de l'application les supprime de sa base (la liste de leurs clés est un fichier CSV à part).",
	"Dossiers waiting for the Object Lock of their SIP to end: %d. A later execution destroys them.":                                                                                      "Dossiers en attente de la fin du verrou (Object Lock) de leur SIP : %d. Une exécution ultérieure les détruira.",
	"Certificate":     "Certification",
	certificateDone:   "Les dossiers listés ci-dessus comme détruits ont été détruits le %s sous le visa %s du %s donné par le service d'archives (Code du patrimoine, art. R212-14), leur durée de conservation étant échue (RGPD, art. 5.1.e : limitation de la conservation).",
	certificateDryRun: "Simulation : rien n'a été détruit. Les dossiers listés ci-dessus comme détruits sont ceux qu'une exécution le %s sous le visa %s du %s détruirait (Code du patrimoine, art. R212-14 ; RGPD, art. 5.1.e).",
	"Ledger head when this attestation was written: %s. The ledger's next entry records the execution with the SHA-256 of this attestation's JSON; `versement verify --ledger LEDGER --head %s` checks the chain.": "Tête du journal à l'écriture de cette attestation : %s. L'entrée suivante du journal enregistre l'exécution avec l'empreinte SHA-256 du JSON de cette attestation ; `versement verify --ledger JOURNAL --head %s` vérifie la chaîne.",
	"Ledger head": "Tête du journal",
	"Certified by the head of the producing service": "Certifié par le chef du service producteur",
}

// The closing statements: the certificate proper.
const (
	certificateDone   = "The dossiers listed above as destroyed were destroyed on %s under the visa %s of %s given by the archives service (Code du patrimoine, art. R212-14), their retention period being over (GDPR, art. 5(1)(e): storage limitation)."
	certificateDryRun = "Simulation: nothing was destroyed. The dossiers listed above as destroyed are those an execution on %s under the visa %s of %s would destroy (Code du patrimoine, art. R212-14; GDPR, art. 5(1)(e))."
)

// Time writes an instant in UTC: DD/MM/YYYY HH:MM UTC in French, RFC 3339 otherwise.
func (t tr) Time(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	at = at.UTC()
	if t.fr {
		return t.Date(civil.Of(at)) + at.Format(" 15:04 UTC")
	}
	return at.Format(time.RFC3339)
}
