package roles_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/roles"
)

// The log takes a roles.User as it is.
var _ = accesslog.User(roles.User{})

func example(t *testing.T) *roles.Policy {
	t.Helper()
	p, err := roles.Parse("example.yaml", roles.ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	scol     = roles.User{ID: "cmartin", Groups: []string{"staff", "scolarite"}, Via: accesslog.ViaOIDC}
	drh      = roles.User{ID: "rh1", Groups: []string{"drh-carrieres"}, Via: accesslog.ViaProxy}
	archives = roles.User{ID: "pdurand", Groups: []string{"archives"}, Via: accesslog.ViaOIDC}
	dpo      = roles.User{ID: "dpo", Groups: []string{"dpo"}, Via: accesslog.ViaOIDC}
	nobody   = roles.User{ID: "x", Groups: []string{"staff"}, Via: accesslog.ViaOIDC}
)

func TestMayConsult(t *testing.T) {
	p := example(t)
	for _, tc := range []struct {
		u                    roles.User
		profile, class, tier string
		reason, role         string
	}{
		{scol, "apogee", "etudiant", "intermediate", "", "scolarite"},
		{scol, "apogee", "", "intermediate", "", "scolarite"}, // a search over the profile
		{scol, "apogee", "etudiant", "final", roles.ReasonTierNotAllowed, ""},
		{scol, "apogee", "doctorant", "intermediate", roles.ReasonClassNotAllowed, ""},
		{scol, "harpege", "agent", "intermediate", roles.ReasonProfileNotAllowed, ""},
		{drh, "harpege", "agent", "intermediate", "", "drh"},
		{drh, "harpege", "agent", "final", roles.ReasonTierNotAllowed, ""},
		{archives, "harpege", "agent", "final", "", "archives"},
		{archives, "apogee", "etudiant", "intermediate", "", "archives"},
		{archives, "apogee", "etudiant", "active", roles.ReasonTierNotConsulted, ""},
		{archives, "apogee", "etudiant", "destroy", roles.ReasonTierNotConsulted, ""},
		{dpo, "apogee", "etudiant", "intermediate", roles.ReasonProfileNotAllowed, ""},
		{nobody, "apogee", "etudiant", "intermediate", roles.ReasonNoRole, ""},
	} {
		d := p.MayConsult(tc.u, tc.profile, tc.class, tc.tier)
		if d.Allowed != (tc.reason == "") || d.Reason != tc.reason || d.Role != tc.role {
			t.Errorf("%s %s/%s/%s: %+v, want reason %q role %q", tc.u.ID, tc.profile, tc.class, tc.tier, d, tc.reason, tc.role)
		}
	}
	// No roles file: nobody.
	var none *roles.Policy
	if d := none.MayConsult(archives, "apogee", "etudiant", "intermediate"); d.Allowed || d.Reason != roles.ReasonNoPolicy {
		t.Errorf("nil policy: %+v", d)
	}
	if d := none.MayReadLog(archives); d.Allowed || d.Reason != roles.ReasonNoPolicy {
		t.Errorf("nil policy, log: %+v", d)
	}
}

// A search is limited to what its reader may open.
func TestScope(t *testing.T) {
	p := example(t)
	sc := p.Scope(roles.User{ID: "x", Groups: []string{"scolarite", "drh"}})
	if len(sc) != 2 || sc[0].Profile != "apogee" || sc[1].Profile != "harpege" ||
		!sc[0].Covers("apogee", "etudiant", "intermediate") || sc[0].Covers("apogee", "etudiant", "final") || sc[0].Covers("apogee", "doctorant", "intermediate") ||
		!sc[1].Covers("harpege", "agent", "intermediate") {
		t.Errorf("%+v", sc)
	}
	if sc := p.Scope(archives); len(sc) != 1 || !sc[0].Covers("harpege", "agent", "final") {
		t.Errorf("archives: %+v", sc)
	}
	if p.Scope(dpo) != nil || p.Scope(nobody) != nil || (*roles.Policy)(nil).Scope(archives) != nil {
		t.Error("a scope without consult grants")
	}
}

func TestMayReadLog(t *testing.T) {
	p := example(t)
	for u, want := range map[*roles.User]string{&archives: "", &dpo: "", &scol: roles.ReasonLogNotAllowed, &nobody: roles.ReasonNoRole} {
		if d := p.MayReadLog(*u); d.Allowed != (want == "") || d.Reason != want {
			t.Errorf("%s: %+v, want %q", u.ID, d, want)
		}
	}
}

// Only the archives service records a visa on a proposal of elimination.
func TestMayRecordVisa(t *testing.T) {
	p := example(t)
	for u, want := range map[*roles.User]string{&archives: "", &dpo: roles.ReasonNotArchives, &scol: roles.ReasonNotArchives, &nobody: roles.ReasonNoRole} {
		if d := p.MayRecordVisa(*u); d.Allowed != (want == "") || d.Reason != want {
			t.Errorf("%s: %+v, want %q", u.ID, d, want)
		}
	}
	if d := (*roles.Policy)(nil).MayRecordVisa(archives); d.Reason != roles.ReasonNoPolicy {
		t.Errorf("no policy: %+v", d)
	}
}

// A refusal says why to the person, in their language.
func TestDecisionMessages(t *testing.T) {
	p := example(t)
	for _, tc := range []struct {
		d      roles.Decision
		en, fr string
	}{
		{p.MayConsult(scol, "apogee", "etudiant", "final"),
			"your roles (scolarite) do not give access to final archives of profile apogee: they are consulted through the archives service",
			"vos rôles (scolarite) ne donnent pas accès aux archives définitives du profil apogee : elles se consultent par le service d'archives"},
		{p.MayConsult(drh, "apogee", "etudiant", "intermediate"),
			"your roles (drh) do not cover profile apogee", "vos rôles (drh) ne couvrent pas le profil apogee"},
		{p.MayConsult(scol, "apogee", "doctorant", "intermediate"),
			"your roles (scolarite) do not cover class doctorant of profile apogee", "vos rôles (scolarite) ne couvrent pas la classe doctorant du profil apogee"},
		{p.MayConsult(nobody, "apogee", "etudiant", "intermediate"),
			"your groups give you no role in the roles file", "vos groupes ne vous donnent aucun rôle dans le fichier de rôles"},
		{p.MayReadLog(scol), "your roles (scolarite) do not allow reading the access log", "vos rôles (scolarite) ne permettent pas de lire le journal des accès"},
		{(*roles.Policy)(nil).MayReadLog(scol), "no roles file: nobody may consult archived dossiers", "aucun fichier de rôles : personne ne peut consulter les dossiers archivés"},
		{p.MayConsult(archives, "apogee", "etudiant", "intermediate"), "allowed (role archives)", "autorisé (rôle archives)"},
		{p.MayRecordVisa(dpo), "your roles (dpo) are not the archives service's: only its head's visa allows an elimination (Code du patrimoine R212-14)",
			"vos rôles (dpo) ne sont pas ceux du service d'archives : seul le visa de son responsable autorise une élimination (Code du patrimoine, art. R212-14)"},
		{p.MayConsult(archives, "apogee", "etudiant", "%d"), "%d dossiers cannot be consulted here: only intermediate and final archives can",
			"les dossiers en phase %d ne se consultent pas ici : seules les archives intermédiaires et définitives le peuvent"},
	} {
		if got := tc.d.Message(lang.English); got != tc.en {
			t.Errorf("en: %s\nwant %s", got, tc.en)
		}
		if got := tc.d.Message(lang.French); got != tc.fr {
			t.Errorf("fr: %s\nwant %s", got, tc.fr)
		}
	}
}

func TestCheckMotive(t *testing.T) {
	p := example(t)
	ids := "droit-acces, verification-diplome, demande-judiciaire, recherche-derogation, controle-audit, contentieux, autre"
	for _, tc := range []struct {
		cat, text, reason, en string
	}{
		{"contentieux", "recours TA 2026-114", "", ""},
		{"droit-acces", "  courriel ", "", ""},
		{"", "demande de l'intéressé", roles.ReasonMotiveMissing, "a motive is required: choose a category (" + ids + ") and say why"},
		{"curiosite", "je voulais voir", roles.ReasonMotiveUnknown, `motive category "curiosite" is not one of: ` + ids},
		{"autre", " voir  ", roles.ReasonMotiveTooShort, "the motive's text is too short: say in a few words why (at least 8 characters)"},
		{"autre", "éééééé", roles.ReasonMotiveTooShort, "the motive's text is too short: say in a few words why (at least 8 characters)"},
	} {
		err := p.CheckMotive(tc.cat, tc.text)
		var me *roles.MotiveError
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%s %q: %v", tc.cat, tc.text, err)
		case tc.reason != "" && (!errors.As(err, &me) || me.Reason != tc.reason || err.Error() != tc.en):
			t.Errorf("%s %q: %v\nwant %s: %s", tc.cat, tc.text, err, tc.reason, tc.en)
		}
	}
	err := p.CheckMotive("", "")
	if fr := err.(*roles.MotiveError).Message(lang.French); fr != "un motif est obligatoire : choisissez une catégorie ("+ids+") et précisez pourquoi" {
		t.Errorf("fr: %s", fr)
	}
	// Without a list, the defaults and their labels.
	var none *roles.Policy
	if err := none.CheckMotive("verification-diplome", "employeur, 3/12"); err != nil {
		t.Error(err)
	}
	if m, ok := p.Motive("contentieux"); !ok || m.Label != "Contentieux de l'établissement" {
		t.Errorf("%+v", m)
	}
	if m, ok := p.Motive("droit-acces"); !ok || m.Label != "Droit d'accès de la personne (RGPD, art. 15)" {
		t.Errorf("%+v", m)
	}
}

// Every mistake, at its line, in the file's order.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "roles:\n  - name: a\n    groups: [x]\n    acces_log: true\n", `r.yaml:4: roles[0].acces_log: unknown field "acces_log"`},
		{"unknown top key", "role:\n  - name: a\n", `r.yaml:1: role: unknown field "role"`},
		{"unknown motive key", "motives:\n  - droit-acces\n  - {id: x, lable: y}\nroles: []\n", `r.yaml:3: motives[1]: unknown field "lable"`},
		{"no roles", "motives: [autre]\n", "r.yaml:1: roles: no role: nobody could consult; name at least one role with its groups"},
		{"empty", "# nothing\n", "r.yaml:1: empty roles file: want motives (optional) and roles"},
		{"alias", "roles:\n  - name: a\n    groups: &g [x]\n    access_log: true\n  - name: b\n    groups: *g\n    access_log: true\n", "r.yaml:6: YAML aliases (*name) are not allowed in a roles file: repeat the value"},
		{"tag", "roles:\n  - name: a\n    groups: ![x]\n    access_log: true\n", "r.yaml:3: YAML tags (!name) are not allowed in a roles file: write the value alone"},
		{"wrong type", "roles:\n  - name: a\n    groups: x\n", `r.yaml:3: roles[0].groups: want a list, got "x"`},
		{"duplicate key", "roles:\n  - name: a\n    name: b\n", `r.yaml:3:5: roles[0].name: defined twice: the first "name" is at line 2`},
		{"tiers", `roles:
  - name: scolarite
    groups: [scolarite]
    consult:
      - profile: apogee
        tiers: [intermediate, finale, intermediate, final]
      - profile: "*"
        classes: [""]
        tiers: []
`, `r.yaml:6: roles[0].consult[0].tiers[1]: unknown tier "finale": want intermediate or final (active dossiers are still in the application; those due for destruction are not archived)
r.yaml:6: roles[0].consult[0].tiers[2]: tier intermediate is listed twice
r.yaml:6: roles[0].consult[0].tiers[3]: final archives are consulted only through the archives service (CNIL, délibération 2005-213): grant them to the role with archives_service: true
r.yaml:7: roles[0].consult[1].profile: "*" (every profile) is for the archives service only (archives_service: true): name the profiles this service works with
r.yaml:8: roles[0].consult[1].classes[0]: empty class name
r.yaml:9: roles[0].consult[1].tiers: missing: want intermediate, final or both`},
		{"roles", `motives: [zz, droit-acces, droit-acces, "a b"]
roles:
  - name: a
    groups: []
  - name: a
    groups: [g, " "]
    consult: [{tiers: [intermediate]}]
  - groups: [h]
    access_log: true
`, `r.yaml:1: motives[0]: category "zz" is not a default one (droit-acces, verification-diplome, demande-judiciaire, recherche-derogation, controle-audit, autre): give it a label ({id: zz, label: …})
r.yaml:1: motives[2]: category "droit-acces" is listed twice (first at line 1)
r.yaml:1: motives[3]: category id "a b": no spaces or commas (it is typed on the command line and recorded in the access log)
r.yaml:3: roles[0]: role "a" grants nothing: give it consult, access_log: true, or both
r.yaml:4: roles[0].groups: a role needs at least one group: the sign-on groups whose members hold it
r.yaml:5: roles[1].name: role "a" is defined twice (first at line 3)
r.yaml:6: roles[1].groups[1]: empty group name
r.yaml:7: roles[1].consult[0].profile: missing: name the profile (apogee, harpege…), or "*" for every profile
r.yaml:8: roles[2].name: a role needs a name (the service: scolarite, archives…)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := roles.Parse("r.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || (tc.name != "duplicate key" && err.Error() != tc.want) {
				t.Errorf("got\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "roles.yaml")
	if _, err := roles.Load(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(p, roles.ExampleYAML, 0o644)
	pol, err := roles.Load(p)
	if err != nil || pol.File != p || len(pol.Roles) != 4 || pol.Roles[2].Name != "archives" || !pol.Roles[2].ArchivesService || pol.Roles[2].Line != 41 {
		t.Fatalf("%+v %v", pol, err)
	}
}

// A roles file is written by hand: whatever it holds, Parse reports, never panics.
func FuzzParse(f *testing.F) {
	f.Add(string(roles.ExampleYAML))
	f.Add("roles:\n  - name: a\n    groups: [x]\n    consult: [{profile: apogee, tiers: [intermediate]}]\n")
	f.Add("motives: [{id: x}, y, [z]]\n")
	f.Add("roles:\n !00\n0000000: #0")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := roles.Parse("f.yaml", []byte(src))
		if err == nil && len(p.Roles) == 0 {
			t.Fatalf("accepted a policy without roles: %q", src)
		}
	})
}
