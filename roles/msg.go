package roles

import (
	"strings"

	"golang.org/x/text/language"

	"github.com/versement/versement/internal/lang"
)

func init() {
	lang.Translate(map[string]string{
		"no roles file: nobody may consult archived dossiers":                                                                 "aucun fichier de rôles : personne ne peut consulter les dossiers archivés",
		"your groups give you no role in the roles file":                                                                      "vos groupes ne vous donnent aucun rôle dans le fichier de rôles",
		"%s dossiers cannot be consulted here: only intermediate and final archives can":                                      "les dossiers en phase %s ne se consultent pas ici : seules les archives intermédiaires et définitives le peuvent",
		"your roles (%s) do not cover profile %s":                                                                             "vos rôles (%s) ne couvrent pas le profil %s",
		"your roles (%s) do not cover class %s of profile %s":                                                                 "vos rôles (%s) ne couvrent pas la classe %s du profil %s",
		"your roles (%s) do not give access to intermediate archives of profile %s":                                           "vos rôles (%s) ne donnent pas accès aux archives intermédiaires du profil %s",
		"your roles (%s) do not give access to final archives of profile %s: they are consulted through the archives service": "vos rôles (%s) ne donnent pas accès aux archives définitives du profil %s : elles se consultent par le service d'archives",
		"your roles (%s) do not allow reading the access log":                                                                 "vos rôles (%s) ne permettent pas de lire le journal des accès",
		"allowed (role %s)": "autorisé (rôle %s)",
		"your roles (%s) are not the archives service's: only its head's visa allows an elimination (Code du patrimoine R212-14)": "vos rôles (%s) ne sont pas ceux du service d'archives : seul le visa de son responsable autorise une élimination (Code du patrimoine, art. R212-14)",
		"a motive is required: choose a category (%s) and say why":                                                                "un motif est obligatoire : choisissez une catégorie (%s) et précisez pourquoi",
		"motive category %q is not one of: %s":                                                                                    "la catégorie de motif %q n'est pas dans la liste : %s",
		"the motive's text is too short: say in a few words why (at least %d characters)":                                         "le texte du motif est trop court : dites en quelques mots pourquoi (%d caractères au moins)",
	})
}

// Message says the decision to the person it concerns, in tag's language.
func (d Decision) Message(tag language.Tag) string {
	pr := lang.Printer(tag)
	roles := strings.Join(d.Roles, ", ")
	switch d.Reason {
	case "":
		return pr.Sprintf("allowed (role %s)", d.Role)
	case ReasonNoPolicy:
		return pr.Sprintf("no roles file: nobody may consult archived dossiers")
	case ReasonNoRole:
		return pr.Sprintf("your groups give you no role in the roles file")
	case ReasonTierNotConsulted:
		tier := d.tier
		switch tier { // retention's tier names, which it translates; anything else as it is
		case "active", "destroy", "held", "undetermined":
			tier = pr.Sprintf(tier)
		}
		return pr.Sprintf("%s dossiers cannot be consulted here: only intermediate and final archives can", tier)
	case ReasonProfileNotAllowed:
		return pr.Sprintf("your roles (%s) do not cover profile %s", roles, d.profile)
	case ReasonClassNotAllowed:
		return pr.Sprintf("your roles (%s) do not cover class %s of profile %s", roles, d.class, d.profile)
	case ReasonTierNotAllowed:
		if d.tier == TierFinal {
			return pr.Sprintf("your roles (%s) do not give access to final archives of profile %s: they are consulted through the archives service", roles, d.profile)
		}
		return pr.Sprintf("your roles (%s) do not give access to intermediate archives of profile %s", roles, d.profile)
	case ReasonLogNotAllowed:
		return pr.Sprintf("your roles (%s) do not allow reading the access log", roles)
	case ReasonNotArchives:
		return pr.Sprintf("your roles (%s) are not the archives service's: only its head's visa allows an elimination (Code du patrimoine R212-14)", roles)
	}
	return d.Reason
}

// Error is the English message.
func (e *MotiveError) Error() string { return e.Message(lang.English) }

// Message is the error in tag's language.
func (e *MotiveError) Message(tag language.Tag) string {
	pr := lang.Printer(tag)
	switch e.Reason {
	case ReasonMotiveMissing:
		return pr.Sprintf("a motive is required: choose a category (%s) and say why", strings.Join(e.ids, ", "))
	case ReasonMotiveUnknown:
		return pr.Sprintf("motive category %q is not one of: %s", e.Category, strings.Join(e.ids, ", "))
	}
	return pr.Sprintf("the motive's text is too short: say in a few words why (at least %d characters)", MinMotiveText)
}
