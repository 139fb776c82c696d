package indextest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/versement/versement/index"
)

// Generator makes realistic entries for benchmarks: French surnames (a few thousand: common
// ones and ones composed of French syllables, some with particles and accents), first names
// (a few hundred, some compound), birth dates 1950–2008, 1 to 3 identifiers, a registration span
// after the 18th birthday. Entry(i) depends only on the seed and i, so a benchmark can ask for
// entry i again to search for it.
type Generator struct {
	seed      uint64
	surnames  []string
	firstF    []string
	firstM    []string
	particles []string
}

var (
	commonSurnames = strings.Fields(`MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL
		LEFÈVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MULLER
		LEFEBVRE FAURE ANDRÉ MERCIER BLANC GUÉRIN BOYER GARNIER CHEVALIER FRANÇOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN
		CLÉMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOËL MEYER
		DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE
		RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER
		PHILIPPE BOURGEOIS PIERRE BENOÎT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUPUY GUILLOT
		HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN
		JACQUET ADAM PARIS POIRIER MARTY AUBRY GUYOT CARRÉ CHARLES RENAULT CHARPENTIER MÉNARD MAILLARD BARON BERTIN
		BAILLY HERVÉ SCHNEIDER FERNANDEZ COLLET LÉGER BOUVIER JULIEN PRÉVOST MILLET PERROT DANIEL CÔTÉ NGUYEN KERGUÉLEN
		QUÉRÉ JÉZÉQUEL GOASDOUÉ LE GOFF LE GALL LE ROUX LE BRETON N'DIAYE DIALLO TRAORÉ BENALI HADDAD O'NEILL D'ALEMBERT
		DE LA FONTAINE GAUTIER-LEBŒUF L'HÔTE STRAUß MÜLLER DUPRÉ ÉTIENNE CHÂTEAU`)
	firstFemale = strings.Fields(`Marie Nathalie Isabelle Sylvie Catherine Françoise Martine Christine Monique Valérie Sandrine Stéphanie
		Nicole Véronique Sophie Céline Chantal Patricia Anne Brigitte Julie Aurélie Émilie Camille Léa Chloé Manon Emma
		Inès Jade Louise Zoé Lola Clara Anaïs Noémie Maëlle Océane Laëtitia Hélène Agnès Cécile Élodie Renée Ophélie
		Mélanie Virginie Sabrine Lucie Pauline Margaux Justine Mathilde Élise Juliette Héloïse Bérénice Gaëlle Maïwenn
		Aïcha Fatoumata Yasmine Myriam Nadia Thi Linh Joëlle Geneviève Josiane Ghislaine Solène Capucine Apolline Romane`)
	firstMale = strings.Fields(`Jean Pierre Michel André Philippe Alain Jacques Bernard Christophe Patrick Nicolas Daniel Frédéric Éric
		Laurent Stéphane David Olivier Sébastien Julien Thierry Pascal Christian François Thomas Alexandre Guillaume
		Antoine Maxime Hugo Lucas Théo Louis Gabriel Raphaël Léo Noé Arthur Jules Mathis Enzo Clément Loïc Gaëtan
		Jérôme Benoît Hervé Joël Noël Rémi Cédric Grégory Yannick Ronan Erwan Gwenaël Mickaël Aurélien Timothée Côme
		Mamadou Moussa Karim Mehdi Youssef Ahmed Minh Duc Kévin Dylan Anthony Fabrice Gérard Didier Régis Bruno`)
	syllA = strings.Fields(`BER CHA DU GAR LA MAR MO PE RI RO TOU VAL BOU CLÉ FAU GUÉ JO LE MÉ PON SAU THI VER BLAN BRE
		CHE DE FON GIL HU LAM NO PI QUÉ RE SI TA VI KER GRA MAL BEL COR`)
	syllB = strings.Fields(`NARD RON VAL RET CHARD NIER REAU TIN LLET VIER QUET BERT GNON ZIN THIER DIEU MONT COURT LIN
		NEAU ROUX GEAT LOT CHON ÇON FRÈRE DOT VOT GUIN SSIER`)
	syllM = []string{"", "", "", "", "LE", "RI", "MA", "ZE", "TO"}
)

// NewGenerator returns a generator; the same seed gives the same entries.
func NewGenerator(seed uint64) *Generator {
	g := &Generator{seed: seed}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			g.surnames = append(g.surnames, s)
		}
	}
	for _, s := range commonSurnames {
		add(strings.ReplaceAll(s, "_", " "))
	}
	for _, a := range syllA {
		for _, m := range syllM {
			for _, b := range syllB {
				add(a + m + b)
			}
		}
	}
	g.firstF = append(g.firstF, firstFemale...)
	g.firstM = append(g.firstM, firstMale...)
	for _, x := range firstFemale[:20] {
		g.firstF = append(g.firstF, "Marie-"+x, "Anne-"+x)
	}
	for _, x := range firstMale[:25] {
		g.firstM = append(g.firstM, "Jean-"+x, x+"-Marie")
	}
	g.particles = []string{"LE ", "DE ", "DU ", "LA ", "DES ", "DE LA ", "D'", "L'"}
	return g
}

// Sizes of the generator's name lists.
func (g *Generator) Sizes() (surnames, firstNames int) {
	return len(g.surnames), len(g.firstF) + len(g.firstM)
}

// pick chooses in a list with a skew: the first names are the most frequent (the first of a few
// thousand about 0.5 % of picks, as MARTIN is in France).
func pick(r *rand.Rand, list []string, skew float64) string {
	return list[int(float64(len(list))*math.Pow(r.Float64(), skew))]
}

// Entry is the i-th generated entry (i ≥ 0), of profile apogee, key i+1.
func (g *Generator) Entry(i int) index.Entry {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	birth := pick(r, g.surnames, 1.5)
	if r.IntN(40) == 0 {
		birth = g.particles[r.IntN(len(g.particles))] + birth
	}
	female := r.IntN(2) == 0
	var first, usage string
	if female {
		first = pick(r, g.firstF, 2)
		if r.IntN(7) == 0 {
			usage = pick(r, g.surnames, 1.5)
		}
	} else {
		first = pick(r, g.firstM, 2)
	}
	born := time.Date(1950+r.IntN(59), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	start := born.Year() + 18 + r.IntN(8)
	years := 1 + r.IntN(6)
	key := strconv.Itoa(i + 1)
	e := index.Entry{
		Profile: "apogee", Class: "dossier-etudiant", Tier: "intermediaire", Key: key,
		Title:       "Dossier étudiant " + key,
		Identifiers: []index.Identifier{{Name: "COD_ETU", Value: fmt.Sprintf("%08d", 20000000+i)}},
		Person:      index.Person{FirstName: first, BirthName: birth, UsageName: usage, BirthDate: born.Format(time.DateOnly)},
		StartDate:   fmt.Sprintf("%d-09-01", start), EndDate: fmt.Sprintf("%d-06-30", start+years),
		Rule: "APP-50", FinalAction: "Keep", RuleStart: fmt.Sprintf("%d-06-30", start+years), DUAEnd: fmt.Sprintf("%d-06-30", start+years+50),
		AccessRule: "AR038", AccessStart: fmt.Sprintf("%d-06-30", start+years), AccessEnd: fmt.Sprintf("%d-06-30", start+years+75),
		SIP: fmt.Sprintf("apogee-%06d.zip", i/10000), SIPDigest: fmt.Sprintf("%064x", r.Uint64()), Target: "dir:///srv/archives",
		Archived: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
	}
	if r.IntN(10) < 7 {
		e.Identifiers = append(e.Identifiers, index.Identifier{Name: "INE", Value: fmt.Sprintf("%010d%c", r.Int64N(1e10), 'A'+rune(r.IntN(26)))})
	}
	if r.IntN(5) == 0 {
		e.Identifiers = append(e.Identifiers, index.Identifier{Name: "COD_ETU_ANC", Value: fmt.Sprintf("A%07d", r.IntN(1e7))})
	}
	for j := range 1 + r.IntN(3) {
		e.Objects = append(e.Objects, index.Object{Name: fmt.Sprintf("Content/D%s-%d.json", key, j+1), Size: int64(500 + r.IntN(20000)),
			Algorithm: "SHA-512", Digest: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()), MIME: "application/json"})
	}
	return e
}

// Typo returns name folded with its longest word misspelt by as many edits as that word
// tolerates (substitutions, deletions, insertions, transpositions, one edit each): a misspelling
// a search must still find. Two edits may cancel out into fewer.
func Typo(r *rand.Rand, name string) string {
	words := strings.Fields(index.Fold(name))
	if len(words) == 0 {
		return ""
	}
	long := 0
	for i, w := range words {
		if len([]rune(w)) > len([]rune(words[long])) {
			long = i
		}
	}
	orig := words[long]
	var w []rune
	// A deletion can take a word below 8 letters, where 2 edits are too many: try again then.
	for try := 0; ; try++ {
		w = []rune(orig)
		for range index.Edits(len(w)) {
			i := r.IntN(len(w) - 1)
			switch r.IntN(4) {
			case 0:
				w[i] = rune('a' + r.IntN(26))
			case 1:
				w = append(w[:i], w[i+1:]...)
			case 2:
				w = append(w[:i], append([]rune{rune('a' + r.IntN(26))}, w[i:]...)...)
			case 3:
				w[i], w[i+1] = w[i+1], w[i]
			}
		}
		k := index.Edits(len(w))
		if index.Distance(orig, string(w), k) <= k || try == 20 {
			break
		}
	}
	words[long] = string(w)
	return strings.Join(words, " ")
}
