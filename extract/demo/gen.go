package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
)

var (
	surnames = []string{"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
		"SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER",
		"D'ALEMBERT", "N'DIAYE", "LE BRETON", "DE LA FONTAINE", "MÜLLER", "O'NEILL", "GAUTIER-LEBŒUF", "CHÂTEAU",
		"NGUYỄN", "BENOÎT", "FRANÇOIS", "L'HÔTE", "ÉTIENNE", "DUPRÉ", "JOLIVET", "QUÉRÉ", "LE GALL", "KERGUÉLEN"}
	firstF  = []string{"Marie", "Hélène", "Chloé", "Léa", "Zoé", "Anaïs", "Noémie", "Françoise", "Agnès", "Maëlle", "Inès", "Renée", "Ophélie", "Cécile"}
	firstM  = []string{"Jean", "Étienne", "François", "Noël", "Loïc", "Gaëtan", "Jérôme", "Benoît", "Hervé", "Raphaël", "Joël", "Théo", "André", "Clément"}
	cities  = []string{"Paris", "Lyon", "Saint-Étienne", "Besançon", "Nîmes", "Orléans", "Évreux", "Châlons-en-Champagne", "L'Haÿ-les-Roses", "Aix-en-Provence", "Brest", "Pointe-à-Pitre", "Dakar", "Montréal"}
	streets = []string{"rue de la Paix", "avenue Jean-Jaurès", "boulevard Saint-Michel", "impasse de l'Église", "place du Général-de-Gaulle", "chemin des Écoliers", "allée des Tilleuls", "quai d'Orsay"}
	etapes  = []struct{ etp, dip string }{{"L1DRT", "LDROIT"}, {"L2DRT", "LDROIT"}, {"L3DRT", "LDROIT"}, {"M1HIS", "MHIST"}, {"M2HIS", "MHIST"},
		{"L1INF", "LINFO"}, {"L2INF", "LINFO"}, {"L3INF", "LINFO"}, {"M1INF", "MINFO"}, {"M2INF", "MINFO"}, {"DOCT", "DOCTOR"}}
	structures = []string{"UNIV", "UFRDRT", "UFRSCI", "UFRLSH", "DRH", "DSI", "BU", "LABINF", "LABHIS", "IUT"}
)

// First and last academic years of the synthetic history (COD_ANU is the start year).
const (
	FirstYear = 1986
	LastYear  = 2026
)

func catalogue(profile string, emit Emit) {
	switch profile {
	case Apogee:
		for y := FirstYear; y <= LastYear; y++ {
			eta := "F"
			if y >= LastYear-1 {
				eta = "O"
			}
			emit("ANNEE_UNI", []any{strconv.Itoa(y), fmt.Sprintf("Année universitaire %d/%d", y, y+1), eta})
		}
		dips := map[string]string{"LDROIT": "Licence Droit", "MHIST": "Master Histoire", "LINFO": "Licence Informatique", "MINFO": "Master Informatique", "DOCTOR": "Doctorat"}
		for _, k := range []string{"DOCTOR", "LDROIT", "LINFO", "MHIST", "MINFO"} {
			emit("DIPLOME", []any{k, dips[k], strings.ToUpper(dips[k][:min(25, len(dips[k]))]), string(k[0])})
		}
		for _, e := range etapes {
			emit("ETAPE", []any{e.etp, "Étape " + e.etp, e.etp, e.etp[:1]})
		}
	case Harpege:
		for i, s := range structures {
			var pere any = "UNIV"
			if i == 0 {
				pere = nil
			}
			var ferm any
			if s == "LABHIS" {
				ferm = civil.Date{Year: 2012, Month: 12, Day: 31}
			}
			emit("STRUCTURE", []any{s, pere, s, "Structure " + s, civil.Date{Year: 1970, Month: 1, Day: 1}, ferm})
		}
	}
}

type gen struct {
	r       *rand.Rand
	i       int
	dialect string
	clean   bool
	emit    Emit
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *gen) chance(p float64) bool     { return g.r.Float64() < p }

func (g *gen) date(y int) civil.Date {
	m := time.Month(1 + g.r.IntN(12))
	return civil.Date{Year: y, Month: m, Day: 1 + g.r.IntN(civil.DaysIn(y, m))}
}

func (g *gen) stamp(d civil.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 8+g.r.IntN(10), g.r.IntN(60), g.r.IntN(60), 0, time.UTC)
}

func (g *gen) grade() extract.Decimal {
	return extract.Decimal(fmt.Sprintf("%d.%03d", g.r.IntN(20), g.r.IntN(1000)))
}

// dirty returns s, sometimes spoiled the way legacy data is: a control character pasted from a
// terminal, or Latin-1 bytes in a UTF-8 base (never on PostgreSQL, which refuses them).
func (g *gen) dirty(s string, p float64) string {
	if g.clean || !g.chance(p) {
		return s
	}
	switch g.r.IntN(3) {
	case 0:
		return s + "\x1b[0m"
	case 1:
		return strings.Replace(s, " ", "\t", 1) + "\x07"
	default:
		if g.dialect == "postgres" {
			return s + "\x0b"
		}
		return s + " \xe9t\xe9" // "été" in Latin-1: not UTF-8
	}
}

func (g *gen) comment() any {
	if g.clean {
		return nil
	}
	switch {
	case g.chance(0.001):
		var sb strings.Builder
		for sb.Len() < 100_000 {
			sb.WriteString("Observation du service de scolarité : dossier transmis, pièces justificatives reçues. ")
		}
		return sb.String()
	case g.chance(0.05):
		return g.dirty("Dossier suivi par l'équipe pédagogique ; relance n°"+strconv.Itoa(g.r.IntN(5)), 0.5)
	}
	return nil
}

// photo returns a small real JPEG (a portrait's silhouette on a coloured background), so that a
// consultation shows it. It draws from the generator exactly as the noise it replaced did, so that
// every other value of the demo base stays the same.
func (g *gen) photo() []byte {
	n := 1500 + g.r.IntN(3000)
	var seed [2]uint64
	for i := 0; i < (n-20+7)/8; i++ {
		v := g.r.Uint64()
		if i < len(seed) {
			seed[i] = v
		}
	}
	const w, h = 60, 80
	bg := color.RGBA{uint8(150 + seed[0]%90), uint8(150 + seed[0]>>8%90), uint8(150 + seed[0]>>16%90), 255}
	fg := color.RGBA{uint8(40 + seed[1]%60), uint8(40 + seed[1]>>8%60), uint8(40 + seed[1]>>16%60), 255}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	headR := 13 + int(seed[1]>>24%4)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-w/2, y-30
			hx, hy := float64(x-w/2)/26, float64(y-h)/30 // shoulders: an ellipse cut by the frame
			c := bg
			if dx*dx+dy*dy <= headR*headR || hx*hx+hy*hy <= 1 {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err) // encoding an in-memory image does not fail
	}
	return b.Bytes()
}

func (g *gen) student() {
	key := Key(g.i)
	female := g.chance(0.55)
	first := g.pick(firstM)
	civ := "M"
	if female {
		first, civ = g.pick(firstF), "F"
	}
	y0 := FirstYear + g.r.IntN(LastYear-FirstYear+1)
	years := 1 + g.r.IntN(5)
	if y0+years-1 > LastYear {
		years = LastYear - y0 + 1
	}
	var birth any = g.date(y0 - 18 - g.r.IntN(4))
	if g.chance(0.02) {
		birth = nil // a NULL birth date: retention must say "undetermined"
	}
	nom := g.pick(surnames)
	var usu any
	if female && g.chance(0.2) {
		usu = g.pick(surnames)
	}
	var pr2 any
	if g.chance(0.4) {
		pr2 = g.pick(firstF)
	}
	cre := g.stamp(civil.Date{Year: y0, Month: 9, Day: 1 + g.r.IntN(20)})
	g.emit("INDIVIDU", []any{key, int64(20000000 + g.i), fmt.Sprintf("%010d%c", 1000000000+g.i%1000000000, 'A'+rune(g.i%26)), civ,
		g.dirty(nom, 0.01), usu, g.dirty(first, 0.01), pr2, birth, g.pick(cities), "100", cre, g.comment()})
	var tel any = fmt.Sprintf("06%08d", g.r.IntN(100000000))
	if g.chance(0.1) {
		tel = nil
	}
	g.emit("ADRESSE", []any{key, key, g.dirty(fmt.Sprintf("%d %s", 1+g.r.IntN(120), g.pick(streets)), 0.01), nil, nil,
		fmt.Sprintf("%05d", 1000+g.r.IntN(94000)), "100", tel, strings.ToLower(first[:1]) + "." + strconv.FormatInt(key, 10) + "@etu.example.fr"})
	path := etapes[:5]
	if g.chance(0.5) {
		path = etapes[5:10]
	}
	for k := 0; k < years; k++ {
		y := y0 + k
		anu := strconv.Itoa(y)
		eta := "E"
		if g.chance(0.03) {
			eta = "A" // cancelled
		}
		d := g.stamp(civil.Date{Year: y, Month: 9, Day: 1 + g.r.IntN(28)})
		var mod any
		if g.chance(0.3) {
			mod = d.AddDate(0, 1, g.r.IntN(20))
		}
		g.emit("INS_ADM_ANU", []any{anu, key, eta, "1", "01", d, mod})
		e := path[min(k, len(path)-1)]
		var annul any
		if eta == "A" {
			annul = civil.Date{Year: y, Month: 11, Day: 1 + g.r.IntN(30)}
		}
		g.emit("INS_ADM_ETP", []any{anu, key, e.etp, "1", int64(1), "E", "P", e.dip, "1", d, annul})
		if y >= LastYear {
			continue // results of the current year are not known yet
		}
		tre := "ADM"
		if g.chance(0.2) {
			tre = "AJ"
		}
		var men any
		if tre == "ADM" && g.chance(0.3) {
			men = g.pick([]string{"AB", "B", "TB"})
		}
		g.emit("RESULTAT_VET", []any{key, e.etp, "1", anu, "1", "1", g.grade(), tre, men, g.stamp(civil.Date{Year: y + 1, Month: 6, Day: 20 + g.r.IntN(10)})})
		for n := 1; n <= 2; n++ {
			g.emit("RESULTAT_ELP", []any{key, fmt.Sprintf("%sE%d", e.etp[:5], n), anu, "1", "1", g.grade(), tre})
		}
		if (k == 2 || k == 4) && tre == "ADM" {
			var obt any = civil.Date{Year: y + 1, Month: 7, Day: 1 + g.r.IntN(15)}
			if g.chance(0.1) {
				obt = nil
			}
			g.emit("RESULTAT_VDI", []any{key, e.dip, "1", anu, "0", "1", g.grade(), "ADM", men, obt, fmt.Sprintf("%d-%06d", y+1, g.i%1000000)})
		}
	}
	g.emit("IND_BAC", []any{key, g.pick([]string{"S", "ES", "L", "STMG", "0031"}), strconv.Itoa(y0), fmt.Sprintf("%07dX", g.r.IntN(10000000)), fmt.Sprintf("%03d", 1+g.r.IntN(95)), g.pick([]string{"P", "AB", "B", "TB"})})
	if g.chance(0.3) {
		g.emit("PHO_ETU", []any{key, g.photo()})
	}
	if g.chance(0.01) {
		deb := civil.Date{Year: y0 + years, Month: 10, Day: 1}
		var sou, ab, cfd any
		eta := "E"
		switch {
		case deb.Year+3 <= LastYear && g.chance(0.7):
			eta, sou = "S", civil.Date{Year: deb.Year + 3, Month: 12, Day: 1 + g.r.IntN(20)}
			if g.chance(0.2) {
				cfd = civil.Date{Year: deb.Year + 8, Month: 12, Day: 31}
			}
		case g.chance(0.3):
			eta, ab = "A", civil.Date{Year: deb.Year + 1, Month: 6, Day: 30}
		}
		g.emit("THESE_HDR_SOUT", []any{key, key, "DOCTOR", "1", eta, g.dirty("Histoire sociale de l'université française, "+strconv.Itoa(1900+g.r.IntN(100))+"–"+strconv.Itoa(2000+g.r.IntN(20)), 0.1), deb, sou, ab, cfd})
	}
}

func (g *gen) agent() {
	key := Key(g.i)
	female := g.chance(0.5)
	civ, first := "M.", g.pick(firstM)
	if female {
		civ, first = "MME", g.pick(firstF)
	}
	by := 1935 + g.r.IntN(2000-1935+1)
	var birth any = g.date(by)
	if g.chance(0.01) {
		birth = nil
	}
	nom := g.pick(surnames)
	usu := nom
	if female && g.chance(0.3) {
		usu = g.pick(surnames)
	}
	start := by + 22 + g.r.IntN(9)
	if start > LastYear {
		start = LastYear
	}
	g.emit("INDIVIDU", []any{key, civ, g.dirty(usu, 0.01), g.dirty(first, 0.01), nom, birth, g.pick(cities), fmt.Sprintf("%03d", 1+g.r.IntN(95)), "100", g.stamp(civil.Date{Year: start, Month: time.Month(1 + g.r.IntN(12)), Day: 1})})
	var obs any
	if !g.clean && g.chance(0.001) {
		obs = strings.Repeat("Observations du gestionnaire RH : pièces du dossier individuel vérifiées. ", 1400)
	}
	g.emit("PERSONNEL", []any{key, g.pick([]string{"C", "M", "D", "P", "V"}), obs})
	// End of activity: some ended decades ago, some still active (NULL end).
	end := start + 1 + g.r.IntN(42)
	retired := by + 62 + g.r.IntN(6)
	if end > retired {
		end = retired
	}
	var endDate any
	if end <= LastYear {
		endDate = civil.Date{Year: end, Month: 8, Day: 31}
	}
	seqAff := int64(0)
	affect := func(carr, contrat any, from civil.Date, to any) {
		seqAff++
		var num any = extract.Decimal("100.00")
		if g.chance(0.15) {
			num = extract.Decimal("50.00")
		}
		g.emit("AFFECTATION", []any{key, seqAff, carr, contrat, g.pick(structures[1:]), num, extract.Decimal("100.00"), from, to, g.stamp(from)})
	}
	if g.chance(0.6) { // tenured: careers and their elements
		nc := 1 + g.r.IntN(2)
		y := start
		for c := 1; c <= nc; c++ {
			from := civil.Date{Year: y, Month: 9, Day: 1}
			var to any = endDate
			if c < nc {
				mid := y + 1 + g.r.IntN(max(1, (end-y)/2))
				to = civil.Date{Year: mid, Month: 8, Day: 31}
				y = mid
			}
			g.emit("CARRIERE", []any{key, int64(c), g.pick([]string{"SA", "DA", "AA", "BA", "IA", "MG"}), from, to})
			ne := 1 + g.r.IntN(4)
			for e := 1; e <= ne; e++ {
				var fin, annul any
				eff := civil.Date{Year: from.Year + (e-1)*2, Month: 9, Day: 1}
				if e < ne {
					fin = civil.Date{Year: eff.Year + 2, Month: 8, Day: 31}
				} else {
					fin = to
				}
				prov := "N"
				if g.chance(0.05) {
					prov, annul = "O", eff.AddDays(30)
				}
				g.emit("ELEMENT_CARRIERE", []any{key, int64(c), int64(e), g.pick([]string{"MCF", "PR", "ATRF", "IGR", "ADJA"}), fmt.Sprintf("%04d", 1000+g.r.IntN(9000)), fmt.Sprintf("%02d", 1+g.r.IntN(11)), prov, eff, fin, annul})
			}
			affect(int64(c), nil, from, to)
		}
	} else { // contract staff: contracts and their amendments
		nc := 1 + g.r.IntN(3)
		y := start
		for c := 1; c <= nc; c++ {
			g.emit("CONTRAT_TRAVAIL", []any{key, int64(c), g.pick([]string{"AT", "DO", "GD", "EI", "LT", "CA", "CD", "VA"})})
			na := 1 + g.r.IntN(2)
			for a := 1; a <= na; a++ {
				from := civil.Date{Year: y, Month: 9, Day: 1}
				var to, exec any
				if y+1 <= LastYear {
					to = civil.Date{Year: y + 1, Month: 8, Day: 31}
					if g.chance(0.1) {
						exec = civil.Date{Year: y + 1, Month: 3, Day: 31} // ended early
					}
				}
				var cnu any
				if g.chance(0.5) {
					cnu = fmt.Sprintf("%02d", 1+g.r.IntN(87))
				}
				g.emit("CONTRAT_AVENANT", []any{key, int64(c), int64(a), cnu, from, to, exec})
				if a == 1 {
					affect(nil, int64(c), from, to)
				}
				y++
			}
		}
	}
	g.emit("ADRESSE_PERSONNELLE", []any{key, "O", strconv.Itoa(1 + g.r.IntN(200)), "RUE", g.dirty(g.pick(streets), 0.01), fmt.Sprintf("%05d", 1000+g.r.IntN(94000)), g.pick(cities), "100", fmt.Sprintf("01%08d", g.r.IntN(100000000)), g.stamp(civil.Date{Year: start, Month: 1, Day: 2})})
	g.emit("INDIVIDU_BANQUE", []any{key, key, fmt.Sprintf("%05d", g.r.IntN(100000)), fmt.Sprintf("%05d", g.r.IntN(100000)), fmt.Sprintf("%011d", g.r.Int64N(100000000000)), fmt.Sprintf("%02d", g.r.IntN(98)), "BNPAFRPPXXX", g.stamp(civil.Date{Year: start, Month: 2, Day: 1})})
}
