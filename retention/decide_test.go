package retention

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func mustCompile(t *testing.T, r Rule) *CompiledRule {
	t.Helper()
	c, err := Compile(r, MonthDay{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apogeeEnv is a student registered (ETA_IAA = E) in the given years; other years are cancelled.
func apogeeEnv(registered ...string) map[string]any {
	rows := []map[string]any{{"COD_ANU": "2010", "ETA_IAA": "A"}}
	for _, y := range registered {
		rows = append(rows, map[string]any{"COD_ANU": y, "ETA_IAA": "E"})
	}
	return map[string]any{
		"INDIVIDU":    map[string]any{"COD_IND": int64(42), "LIB_NOM_PAT_IND": "Martin", "DATE_NAI_IND": day("1995-03-14")},
		"INS_ADM_ANU": rows,
	}
}

var apogeeRule = Rule{
	ID: "APP-APO-IA", Title: "Apogée", StartEvent: `endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))`,
	Active: Duration{Years: 3}, DUA: Duration{Years: 7}, FinalAction: Destroy,
	Access: &AccessRule{ID: "ACC-PERS-50", Duration: Duration{Years: 50}},
	Basis:  "décision Amue 27/03/2013", Status: ToConfirm,
}

// TestBoundaries checks the day before, of and after each period end: start 2016-08-31 (end of
// year 2015-2016), DUC ends 2019-08-31, DUA ends 2026-08-31.
func TestBoundaries(t *testing.T) {
	r := mustCompile(t, apogeeRule)
	env := apogeeEnv("2014", "2015")
	for _, tc := range []struct {
		asOf string
		want Tier
	}{
		{"2016-08-30", Active}, {"2016-08-31", Active}, {"2019-08-30", Active},
		{"2019-08-31", Intermediate}, {"2019-09-01", Intermediate},
		{"2026-08-30", Intermediate}, {"2026-08-31", ToDestroy}, {"2026-09-01", ToDestroy},
	} {
		d := r.Decide(env, "42", day(tc.asOf))
		if d.Tier != tc.want {
			t.Errorf("asOf %s: tier %s, want %s (%s)", tc.asOf, d.Tier, tc.want, d.Explain())
		}
		if d.Start != day("2016-08-31") || d.ActiveEnd != day("2019-08-31") || d.DUAEnd != day("2026-08-31") || d.AccessEnd != day("2066-08-31") {
			t.Errorf("asOf %s: dates %s %s %s %s", tc.asOf, d.Start, d.ActiveEnd, d.DUAEnd, d.AccessEnd)
		}
	}
}

func TestExplainExample(t *testing.T) {
	r := mustCompile(t, apogeeRule)
	d := r.Decide(apogeeEnv("2015"), "42", day("2024-01-15"))
	want := "intermediate: APP-APO-IA [42] start 2016-08-31 (end of year 2015-2016) · DUC 3y ended 2019-08-31 · DUA 7y ends 2026-08-31 · " +
		"then destroy (proposed for elimination, needs the archives' visa: R212-14) · access ACC-PERS-50 until 2066-08-31 · source: décision Amue 27/03/2013 (to confirm)"
	if got := d.Explain(); got != want {
		t.Errorf("Explain:\n got %s\nwant %s", got, want)
	}
	verified := apogeeRule
	verified.Status = Verified
	if got := mustCompile(t, verified).Decide(apogeeEnv("2015"), "42", day("2024-01-15")).Explain(); strings.Contains(got, "to confirm") {
		t.Errorf("a verified rule says to confirm: %s", got)
	}
}

func TestAcademicYearCutoff(t *testing.T) {
	r, err := Compile(apogeeRule, MonthDay{time.September, 30})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Decide(apogeeEnv("2015"), "42", day("2024-01-15"))
	if d.Start != day("2016-09-30") || d.StartNote != "end of year 2015-2016" {
		t.Errorf("start %s (%s), want 2016-09-30", d.Start, d.StartNote)
	}
}

func TestLeapDays(t *testing.T) {
	for _, tc := range []struct {
		start   string
		dur     Duration
		wantEnd string
	}{
		{"2016-02-29", Duration{Years: 1}, "2017-02-28"},
		{"2016-02-29", Duration{Years: 4}, "2020-02-29"},
		{"2020-02-29", Duration{Years: 80}, "2100-02-28"}, // 2100 is not a leap year
		{"2016-01-31", Duration{Months: 1}, "2016-02-29"},
		{"2015-01-31", Duration{Months: 1}, "2015-02-28"},
		{"2016-02-28", Duration{Days: 1}, "2016-02-29"},
		{"2016-02-29", Duration{Years: 1, Days: 1}, "2017-03-01"},
	} {
		r := mustCompile(t, Rule{ID: "APP-T", StartEvent: "date(ROOT.D)", Active: tc.dur, DUA: Duration{Years: 1}, FinalAction: Keep, Status: Verified})
		env := map[string]any{"ROOT": map[string]any{"D": day(tc.start)}}
		end := day(tc.wantEnd)
		for _, c := range []struct {
			asOf civil.Date
			want Tier
		}{{end.AddDays(-1), Active}, {end, Intermediate}, {end.AddDays(1), Intermediate}} {
			d := r.Decide(env, "k", c.asOf)
			if d.ActiveEnd != end || d.Tier != c.want {
				t.Errorf("%s + %s on %s: end %s tier %s, want %s %s", tc.start, tc.dur, c.asOf, d.ActiveEnd, d.Tier, end, c.want)
			}
		}
	}
}

// TestHarpege: intermediate until the 80th birthday counted from birth, whatever the departure.
func TestHarpege(t *testing.T) {
	s, err := BuiltinSchedule("harpege")
	if err != nil {
		t.Fatal(err)
	}
	env := func(birth any, ends ...any) map[string]any {
		var aff []map[string]any
		for _, e := range ends {
			aff = append(aff, map[string]any{"D_DEB_AFFECTATION": day("1990-09-01"), "D_FIN_AFFECTATION": e})
		}
		return map[string]any{
			"INDIVIDU":        map[string]any{"NO_INDIVIDU": int64(7), "D_NAISSANCE": birth, "NOM_PATRONYMIQUE": "Dupont"},
			"AFFECTATION":     aff,
			"CARRIERE":        []map[string]any{{"D_DEB_CARRIERE": day("1990-09-01"), "D_FIN_CARRIERE": day("2005-06-30")}},
			"CONTRAT_AVENANT": []map[string]any{{"D_DEB_CONTRAT_TRAV": day("1988-01-01"), "D_FIN_CONTRAT_TRAV": day("1989-12-31"), "D_FIN_EXECUTION": nil}},
		}
	}
	e := env(day("1948-02-29"), day("2008-02-29"), day("2010-12-31"))
	for _, tc := range []struct {
		asOf string
		want Tier
	}{
		// D_FIN_AFFECTATION 2010-12-31 is the last day in post: intermediate from the day after.
		{"2010-12-30", Active}, {"2010-12-31", Active}, {"2011-01-01", Intermediate},
		{"2028-02-28", Intermediate}, {"2028-02-29", Final}, {"2028-03-01", Final},
	} {
		d := s.Decide("APP-HAR-DI", e, "7", day(tc.asOf))
		if d.Tier != tc.want {
			t.Errorf("%s: %s, want %s: %s", tc.asOf, d.Tier, tc.want, d.Explain())
		}
	}
	d := s.Decide("APP-HAR-DI", e, "7", day("2030-01-01"))
	want := "final: APP-HAR-DI [7] start 1948-02-29 (date of birth) · active ended 2011-01-01 (last day in 2010-12-31) · DUA 80y from start ended 2028-02-29 · " +
		"sample (no criteria set: every dossier kept) · access ACC-PERS-50 until 2060-12-31 · " +
		"source: arrêté du 21/12/2012 art. 2 (80 years from birth, then keep or destroy under the archives' control; visa R212-14)"
	if got := d.Explain(); got != want {
		t.Errorf("Explain:\n got %s\nwant %s", got, want)
	}
	if d.DUAStart != day("1948-02-29") || d.AppraisalAction() != Keep {
		t.Errorf("appraisal from %s: %s", d.DUAStart, d.AppraisalAction())
	}

	// Still in post: an open-ended assignment keeps the file active until the 80th birthday
	// (TestHarpegeDUAEndsInPost for what happens after).
	d = s.Decide("APP-HAR-DI", env(day("1940-01-01"), day("2000-01-01"), nil), "7", day("2019-12-31"))
	if d.Tier != Active || !strings.Contains(d.Explain(), "active: an end date is NULL (still running)") || len(d.Anomalies) != 0 {
		t.Errorf("ongoing: %s", d.Explain())
	}
	if d.DUAStart != day("1940-01-01") {
		t.Errorf("ongoing appraisal start %s", d.DUAStart)
	}
}

func TestUndetermined(t *testing.T) {
	r := mustCompile(t, Rule{ID: "APP-T", StartEvent: "date(ROOT.D)", Active: Duration{Years: 1}, DUA: Duration{Years: 1}, FinalAction: Destroy, Status: Verified})
	for _, tc := range []struct {
		name string
		env  map[string]any
		want string
	}{
		{"NULL", map[string]any{"ROOT": map[string]any{"D": nil}}, "start event gave no date (date(ROOT.D))"},
		{"impossible", map[string]any{"ROOT": map[string]any{"D": civil.Date{Year: 2015, Month: 2, Day: 29}}}, "start event: date(ROOT.D): impossible date 2015-02-29"},
		{"impossible text", map[string]any{"ROOT": map[string]any{"D": "31/04/2015"}}, `start event: date(ROOT.D): text "31/04/2015" is not a date (want YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD; use parseDate for others)`},
		{"wrong type", map[string]any{"ROOT": map[string]any{"D": true}}, "start event: date(ROOT.D): a bool is not a date"},
		{"missing table", map[string]any{"OTHER": map[string]any{}}, "start event: date(ROOT.D): the dossier has no table ROOT"},
	} {
		d := r.Decide(tc.env, "k", day("2030-01-01"))
		if d.Tier != Undetermined || d.Reason != tc.want {
			t.Errorf("%s: %s %q, want undetermined %q", tc.name, d.Tier, d.Reason, tc.want)
		}
		if a := d.AppraisalAction(); a != "" {
			t.Errorf("%s: an undetermined decision has an appraisal action %q", tc.name, a)
		}
		if !strings.HasPrefix(d.Explain(), "undetermined: APP-T [k] "+tc.want) {
			t.Errorf("%s: explain %s", tc.name, d.Explain())
		}
	}
	// A runtime error in an expression: undetermined, with the expression in the reason.
	bad := mustCompile(t, Rule{ID: "APP-T", StartEvent: `addYears(ROOT.D, ROOT.N)`, Active: Duration{Years: 1}, DUA: Duration{Years: 1}, FinalAction: Destroy, Status: Verified})
	d := bad.Decide(map[string]any{"ROOT": map[string]any{"D": day("2000-01-01"), "N": "eighty"}}, "k", day("2030-01-01"))
	if d.Tier != Undetermined || d.Reason != "start event: addYears(ROOT.D, ROOT.N): addYears: n must be an integer, got string" {
		t.Errorf("runtime error: %s %q", d.Tier, d.Reason)
	}
}

func TestHoldBeatsDestroy(t *testing.T) {
	r := mustCompile(t, apogeeRule)
	env := apogeeEnv("2015")
	byKey, err := CompileHold(Hold{ID: "HOL-LIT-1", Keys: []string{"42"}, Reason: "contentieux TA Lyon 2025-0012", Since: day("2025-01-10"), Until: day("2030-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	byExpr, err := CompileHold(Hold{ID: "HOL-MARTIN", Where: `INDIVIDU.LIB_NOM_PAT_IND == "Martin"`, Reason: "demande du procureur"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		asOf  string
		holds []*CompiledHold
		want  Tier
		hold  string
	}{
		{"2027-01-01", nil, ToDestroy, ""},
		{"2027-01-01", []*CompiledHold{byKey}, Held, "HOL-LIT-1"},
		{"2030-12-31", []*CompiledHold{byKey}, Held, "HOL-LIT-1"}, // the last day of the hold
		{"2031-01-01", []*CompiledHold{byKey}, ToDestroy, ""},     // the hold has ended
		{"2027-01-01", []*CompiledHold{byExpr}, Held, "HOL-MARTIN"},
		{"2020-01-01", []*CompiledHold{byExpr}, Intermediate, "HOL-MARTIN"}, // recorded, tier unchanged
	} {
		d := r.Decide(env, "42", day(tc.asOf), tc.holds...)
		got := ""
		if d.Hold != nil {
			got = d.Hold.ID
		}
		if d.Tier != tc.want || got != tc.hold {
			t.Errorf("%s %v: %s hold %q, want %s %q", tc.asOf, tc.hold, d.Tier, got, tc.want, tc.hold)
		}
	}
	d := r.Decide(env, "42", day("2027-01-01"), byKey)
	if want := "hold HOL-LIT-1: contentieux TA Lyon 2025-0012 (until 2030-12-31)"; !strings.Contains(d.Explain(), want) {
		t.Errorf("explain %s lacks %s", d.Explain(), want)
	}
	if h := d.Hold; h == nil || h.ID != "HOL-LIT-1" || h.Until != day("2030-12-31") || h.Since != day("2025-01-10") {
		t.Errorf("hold %+v", h)
	}
	// A hold predicate that fails must not let a dossier be destroyed.
	broken, _ := CompileHold(Hold{ID: "HOL-X", Where: `INDIVIDU.LIB_NOM_PAT_IND + 1`, Reason: "x"})
	if d := r.Decide(env, "42", day("2027-01-01"), broken); d.Tier != Undetermined || !strings.HasPrefix(d.Reason, "hold HOL-X: ") {
		t.Errorf("broken hold: %s %q", d.Tier, d.Reason)
	}
}

func TestSampling(t *testing.T) {
	rule := func(s *Sampling) *CompiledRule {
		r := apogeeRule
		r.FinalAction = Sample
		r.Sampling = s
		return mustCompile(t, r)
	}
	env := func(surname any, birth any) map[string]any {
		e := apogeeEnv("2015")
		e["INDIVIDU"] = map[string]any{"LIB_NOM_PAT_IND": surname, "DATE_NAI_IND": birth}
		return e
	}
	letters := &Sampling{Letters: []string{"B", "t", "É"}, SurnameExpr: "INDIVIDU.LIB_NOM_PAT_IND"}
	days := &Sampling{BirthDays: []int{1, 15}, BirthExpr: "INDIVIDU.DATE_NAI_IND"}
	modulo := &Sampling{YearModulo: 5, YearRemainder: 0, YearExpr: `max(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), int(.COD_ANU))) + 1`}
	asOf := day("2027-01-01")
	for _, tc := range []struct {
		name   string
		s      *Sampling
		env    map[string]any
		want   Tier
		reason string
	}{
		{"no criteria", nil, env("Martin", nil), Final, ""},
		{"B", letters, env("Bernard", nil), Final, "sampled in: surname initial B"},
		{"lower t", letters, env("thomas", nil), Final, "sampled in: surname initial T"},
		{"accent folded", letters, env("Élodie", nil), Final, "sampled in: surname initial E"},
		{"E unaccented", letters, env("Etienne", nil), Final, "sampled in: surname initial E"},
		{"out", letters, env("Martin", nil), ToDestroy, "sampled out: no criterion selects it"},
		{"NULL surname", letters, env(nil, nil), Undetermined, "sampling: not selected, and birth surname is empty"},
		{"day 15", days, env("Martin", day("1995-03-15")), Final, "sampled in: born on day 15"},
		{"day 14", days, env("Martin", day("1995-03-14")), ToDestroy, "sampled out: no criterion selects it"},
		{"NULL birth", days, env("Martin", nil), Undetermined, "sampling: not selected, and date of birth is NULL or blank"},
		{"blank birth", days, env("Martin", " "), Undetermined, "sampling: not selected, and date of birth is NULL or blank"},
		{"initial not folded", letters, env("Ωmega", nil), Undetermined, "sampling: not selected, and birth surname initial Ω has no A-Z folding"},
		{"year 2016 mod 5", modulo, env("Martin", nil), ToDestroy, "sampled out: no criterion selects it"},
	} {
		d := rule(tc.s).Decide(tc.env, "42", asOf)
		if d.Tier != tc.want || d.Reason != tc.reason {
			t.Errorf("%s: %s %q, want %s %q", tc.name, d.Tier, d.Reason, tc.want, tc.reason)
		}
	}
	e := apogeeEnv("2013", "2014")
	if d := rule(modulo).Decide(e, "42", asOf); d.Tier != Final || d.Reason != "sampled in: year 2015 mod 5 = 0" {
		t.Errorf("year 2015: %s %q", d.Tier, d.Reason)
	}
	// In French the years keep their digits (a printer groups numbers: 2015 is not "2 015"), the
	// durations are words, and the notes are translated.
	if fr := rule(modulo).Decide(e, "42", asOf).ExplainIn(lang.French); !strings.Contains(fr, "retenu par l'échantillonnage : année 2015 modulo 5 = 0") ||
		!strings.Contains(fr, "(fin de l'année 2014-2015)") || !strings.Contains(fr, "DUC 3 ans terminée le") || !strings.Contains(fr, "DUA 7 ans terminée le") {
		t.Errorf("in French: %s", fr)
	}
	// An active dossier with a NULL surname stays active, says so, and is not marked for destruction.
	d := rule(letters).Decide(env(nil, nil), "42", day("2017-01-01"))
	if d.Tier != Active || !d.SamplingUnknown || d.AppraisalAction() != Keep ||
		!strings.Contains(d.Explain(), "then sample (sampling undetermined: not selected, and birth surname is empty)") {
		t.Errorf("active, NULL surname: %s", d.Explain())
	}
	// The same, as a French archivist reads it: nested reasons are translated too.
	if fr := d.ExplainIn(lang.French); !strings.Contains(fr, "puis tri (échantillonnage indéterminé : non retenu, et le nom de naissance est vide)") ||
		!strings.HasPrefix(fr, "active : APP-APO-IA [42] départ ") {
		t.Errorf("active, NULL surname, in French: %s", fr)
	}
	if u := rule(letters).Decide(env(nil, nil), "42", asOf); u.ReasonIn(lang.French) != "échantillonnage : non retenu, et le nom de naissance est vide" ||
		u.Reason != "sampling: not selected, and birth surname is empty" {
		t.Errorf("undetermined reason in French %q, English %q", u.ReasonIn(lang.French), u.Reason)
	}
	// Without criteria, every dossier is kept and the explanation says so.
	if d := rule(nil).Decide(env("Martin", nil), "42", asOf); !strings.Contains(d.Explain(), "sample (no criteria set: every dossier kept)") {
		t.Errorf("no criteria: %s", d.Explain())
	}
	// Sampled-out dossiers still in intermediate carry FinalAction Destroy; sampled-in ones Keep.
	if a := rule(letters).Decide(env("Martin", nil), "42", day("2020-01-01")).AppraisalAction(); a != Destroy {
		t.Errorf("sampled out: %s", a)
	}
	if a := rule(letters).Decide(env("Bernard", nil), "42", day("2020-01-01")).AppraisalAction(); a != Keep {
		t.Errorf("sampled in: %s", a)
	}
}

// TestSamplingDeterministic: the same dossier gets the same answer every time, whatever the date.
func TestSamplingDeterministic(t *testing.T) {
	r := apogeeRule
	r.FinalAction = Sample
	r.Sampling = &Sampling{Letters: []string{"B", "T"}, SurnameExpr: "INDIVIDU.LIB_NOM_PAT_IND", BirthDays: []int{1, 2}, BirthExpr: "INDIVIDU.DATE_NAI_IND"}
	c := mustCompile(t, r)
	names := []string{"Bernard", "Martin", "Thomas", "Petit", "Durand", "Leroy", "Ôté", "Bâ", "N'Diaye", "de Tocqueville"}
	for i, n := range names {
		e := apogeeEnv("2015")
		e["INDIVIDU"] = map[string]any{"LIB_NOM_PAT_IND": n, "DATE_NAI_IND": day("1990-01-01").AddDays(i)}
		first := c.Decide(e, "k", day("2020-01-01")).Sampled
		for y := 2021; y < 2060; y += 3 {
			if got := c.Decide(e, "k", civil.Date{Year: y, Month: 6, Day: 1}).Sampled; got != first {
				t.Fatalf("%s: sampled %v in 2020, %v in %d", n, first, got, y)
			}
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Élodie": "ELODIE", "d'Artagnan": "DARTAGNAN", "Œuvray": "OEUVRAY", "Çelik": "CELIK", "  müller-Lüdenscheidt": "MULLERLUDENSCHEIDT", "": ""} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldTable pins the folding table of docs/retention.md: the letters with nothing to fold,
// every accented letter, NFD text, and letters outside the table kept as they are.
func TestFoldTable(t *testing.T) {
	letters := map[string]string{
		"Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "Ø": "O", "ø": "O", "Ł": "L", "ł": "L", "Þ": "TH", "þ": "TH",
		"ß": "SS", "ẞ": "SS", "Đ": "D", "đ": "D", "Ð": "D", "ð": "D", "Ħ": "H", "ħ": "H", "Ŧ": "T", "ŧ": "T",
		"ı": "I", "İ": "I", "Ĳ": "IJ", "ĳ": "IJ", "Ŋ": "N", "ŋ": "N", "ſ": "S",
	}
	for in, want := range letters {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	if len(foldLetters) != 14 {
		t.Errorf("foldLetters has %d letters: update docs/retention.md and this test", len(foldLetters))
	}
	accents := map[string]string{
		"A": "àáâãäåāăąǎ", "C": "çćĉċč", "D": "ď", "E": "èéêëēĕėęě", "G": "ĝğġģǧ", "H": "ĥ",
		"I": "ìíîïĩīĭįǐ", "J": "ĵ", "K": "ķǩ", "L": "ĺļľŀ", "N": "ñńņňŉ", "O": "òóôõöōŏőǒ",
		"R": "ŕŗř", "S": "śŝşšș", "T": "ţťț", "U": "ùúûüũūŭůűųǔ", "W": "ŵ", "Y": "ýÿŷ", "Z": "źżž",
	}
	for to, from := range accents {
		for _, r := range from {
			for _, c := range []rune{r, unicode.ToUpper(r)} {
				if got := fold(string(c)); got != to {
					t.Errorf("fold(%q) = %q, want %q", c, got, to)
				}
			}
		}
	}
	for in, want := range map[string]string{
		"E\u0301lodie":   "ELODIE", // NFD, as macOS writes it
		"Þórsdóttir":     "THORSDOTTIR",
		"Øster":          "OSTER",
		"Łukasiewicz":    "LUKASIEWICZ",
		"Ærø":            "AERO",
		"Straße":         "STRASSE",
		"Ωmega":          "ΩMEGA", // not in the table: kept, so that M does not decide
		"Жуков":          "ЖУКОВ",
		"N'Diaye 2":      "NDIAYE",
		"GAUTIER-LEBŒUF": "GAUTIERLEBOEUF",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	// The initial decides: Þ is T then H, Æ is A then E, Ø is O.
	r := apogeeRule
	r.FinalAction = Sample
	r.Sampling = &Sampling{Letters: []string{"T", "A"}, SurnameExpr: "INDIVIDU.LIB_NOM_PAT_IND"}
	c := mustCompile(t, r)
	for _, tc := range []struct {
		name string
		want Tier
	}{{"Þórsdóttir", Final}, {"Ærø", Final}, {"Øster", ToDestroy}, {"Łukasiewicz", ToDestroy}, {"Жуков", Undetermined}} {
		e := apogeeEnv("2015")
		e["INDIVIDU"] = map[string]any{"LIB_NOM_PAT_IND": tc.name}
		if d := c.Decide(e, "42", day("2027-01-01")); d.Tier != tc.want {
			t.Errorf("%s: %s, want %s (%s)", tc.name, d.Tier, tc.want, d.Explain())
		}
	}
}

// What sip.Management writes for VITAM is tested in package sip; here, the dates it reads.
func TestStorageRuleOfTheDecision(t *testing.T) {
	r := apogeeRule
	r.Storage = "STO-APO-3"
	d := mustCompile(t, r).Decide(apogeeEnv("2015"), "42", day("2020-01-01"))
	if id, action := d.StorageRule(); id != "STO-APO-3" || action != "" || d.AppraisalAction() != Destroy {
		t.Errorf("storage %q %q, appraisal %s", id, action, d.AppraisalAction())
	}
	if r.DUA.AddTo(d.DUAStart) != d.DUAEnd || r.Active.AddTo(d.Start) != d.ActiveEnd {
		t.Errorf("DUA from %s to %s, DUC from %s to %s", d.DUAStart, d.DUAEnd, d.Start, d.ActiveEnd)
	}
}

func TestCompileErrors(t *testing.T) {
	base := Rule{ID: "APP-T", StartEvent: "date(ROOT.D)", Active: Duration{Years: 1}, DUA: Duration{Years: 1}, FinalAction: Keep, Status: Verified}
	for _, tc := range []struct {
		edit func(*Rule)
		want string
	}{
		{func(r *Rule) { r.StartEvent = "date(ROOT.D" }, "rule APP-T: start: unexpected token EOF (1:11)"},
		{func(r *Rule) { r.FinalAction = "burn" }, `rule APP-T: final: "burn": want keep, destroy or sample`},
		{func(r *Rule) { r.Status = "" }, `rule APP-T: status: "": want verified or to-confirm`},
		{func(r *Rule) { r.Sampling = &Sampling{} }, "rule APP-T: sampling: sampling criteria need final: sample (final is keep)"},
		{func(r *Rule) { r.FinalAction = Sample; r.Sampling = &Sampling{Letters: []string{"B"}} }, "rule APP-T: sampling.surname: letters need an expression giving the birth surname"},
		{func(r *Rule) { r.FinalAction = Sample; r.Sampling = &Sampling{YearModulo: 5, YearRemainder: 5} }, "rule APP-T: sampling.year_modulo: want modulo > 0 and 0 <= remainder < modulo, got 5 and 5"},
		{func(r *Rule) { r.Active = Duration{Unlimited: true} }, "rule APP-T: active: an unlimited active phase never ends: give a duration or active_until"},
	} {
		r := base
		tc.edit(&r)
		_, err := Compile(r, MonthDay{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}
