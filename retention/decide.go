package retention

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/versement/versement/civil"
)

// CompiledRule is a Rule with its expressions compiled once, ready to decide for many dossiers.
// It is safe for concurrent use.
type CompiledRule struct {
	Rule
	start, activeUntil, access *program
	surname, birth, sampleYear *program
	checkBirth                 *program
}

// Compile checks r and compiles its expressions; yearEnd is the academic-year cut-off of endOfYear
// (the zero MonthDay means DefaultYearEnd). Errors name the rule and the field.
func Compile(r Rule, yearEnd MonthDay) (*CompiledRule, error) {
	if yearEnd == (MonthDay{}) {
		yearEnd = DefaultYearEnd
	}
	c := &CompiledRule{Rule: r}
	fail := func(field string, err error) (*CompiledRule, error) {
		return nil, &RuleError{Rule: r.ID, Field: field, Err: err}
	}
	if r.ID == "" {
		return fail("id", fmt.Errorf("missing"))
	}
	if r.StartEvent == "" {
		return fail("start", fmt.Errorf("missing: an expression giving the start date"))
	}
	switch r.FinalAction {
	case Keep, Destroy, Sample:
	default:
		return fail("final", fmt.Errorf("%q: want keep, destroy or sample", r.FinalAction))
	}
	switch r.Status {
	case Verified, ToConfirm:
	default:
		return fail("status", fmt.Errorf("%q: want verified or to-confirm", r.Status))
	}
	switch r.DUAFrom {
	case "":
		c.DUAFrom = FromActiveEnd
	case FromActiveEnd, FromStart:
	default:
		return fail("dua_from", fmt.Errorf("%q: want active-end or start", r.DUAFrom))
	}
	switch r.ActiveUntilIs {
	case "":
		c.ActiveUntilIs = FirstDayOut
	case FirstDayOut:
	case LastDayIn:
		if r.ActiveUntil == "" {
			return fail("active_until_is", fmt.Errorf("says what active_until's date is, and there is no active_until"))
		}
	default:
		return fail("active_until_is", fmt.Errorf("%q: want first-day-out or last-day-in", r.ActiveUntilIs))
	}
	switch r.OpenPastDUA {
	case "":
		c.OpenPastDUA = DUAEndWins
	case DUAEndWins, ActiveWins:
	default:
		return fail("open_past_dua", fmt.Errorf("%q: want dua-end or active", r.OpenPastDUA))
	}
	switch r.ActiveStatus {
	case "", Verified, ToConfirm:
	default:
		return fail("active_status", fmt.Errorf("%q: want verified or to-confirm", r.ActiveStatus))
	}
	if r.Active.Unlimited && r.ActiveUntil == "" {
		return fail("active", fmt.Errorf("an unlimited active phase never ends: give a duration or active_until"))
	}
	if r.Sampling != nil && r.FinalAction != Sample {
		return fail("sampling", fmt.Errorf("sampling criteria need final: sample (final is %s)", r.FinalAction))
	}
	if r.Storage != "" && r.ActiveUntil != "" {
		return fail("storage", fmt.Errorf("a StorageRule needs a fixed active duration, not active_until"))
	}
	if !r.Ceiling.IsZero() {
		if err := r.checkCeiling(); err != nil {
			return fail("ceiling", err)
		}
	}
	var err error
	if c.start, err = compileExpr(r.StartEvent, yearEnd); err != nil {
		return fail("start", err)
	}
	if r.ActiveUntil != "" {
		if c.activeUntil, err = compileExpr(r.ActiveUntil, yearEnd); err != nil {
			return fail("active_until", err)
		}
	}
	if a := r.Access; a != nil {
		if a.ID == "" {
			return fail("access.id", fmt.Errorf("missing"))
		}
		if a.StartEvent != "" {
			if c.access, err = compileExpr(a.StartEvent, yearEnd); err != nil {
				return fail("access.start", err)
			}
		}
	}
	if ch := r.Checks; ch != nil {
		if ch.MaxAgeInPost.Unlimited {
			return fail("checks.max_age_in_post", fmt.Errorf("an unlimited age is no limit: give a duration such as 100y"))
		}
		if !ch.MaxAgeInPost.IsZero() && ch.Birth == "" {
			return fail("checks.max_age_in_post", fmt.Errorf("needs checks.birth, the expression giving the date of birth"))
		}
		if ch.Birth != "" {
			if c.checkBirth, err = compileExpr(ch.Birth, yearEnd); err != nil {
				return fail("checks.birth", err)
			}
		}
		for i, p := range ch.Periods {
			if p.Table == "" || p.Start == "" || p.End == "" {
				return fail(fmt.Sprintf("checks.periods[%d]", i), fmt.Errorf("give table, start and end (column names)"))
			}
		}
	}
	if s := r.Sampling; s != nil {
		if len(s.Letters) > 0 {
			if s.SurnameExpr == "" {
				return fail("sampling.surname", fmt.Errorf("letters need an expression giving the birth surname"))
			}
			for _, l := range s.Letters {
				if fold(l) == "" {
					return fail("sampling.letters", fmt.Errorf("%q has no letter", l))
				}
			}
			if c.surname, err = compileExpr(s.SurnameExpr, yearEnd); err != nil {
				return fail("sampling.surname", err)
			}
		}
		if len(s.BirthDays) > 0 {
			if s.BirthExpr == "" {
				return fail("sampling.birth", fmt.Errorf("birth_days need an expression giving the date of birth"))
			}
			for _, d := range s.BirthDays {
				if d < 1 || d > 31 {
					return fail("sampling.birth_days", fmt.Errorf("%d is not a day of the month", d))
				}
			}
			if c.birth, err = compileExpr(s.BirthExpr, yearEnd); err != nil {
				return fail("sampling.birth", err)
			}
		}
		if s.YearModulo < 0 || (s.YearModulo > 0 && (s.YearRemainder < 0 || s.YearRemainder >= s.YearModulo)) {
			return fail("sampling.year_modulo", fmt.Errorf("want modulo > 0 and 0 <= remainder < modulo, got %d and %d", s.YearModulo, s.YearRemainder))
		}
		if s.YearExpr != "" {
			if c.sampleYear, err = compileExpr(s.YearExpr, yearEnd); err != nil {
				return fail("sampling.year", err)
			}
		}
	}
	return c, nil
}

// checkCeiling refuses a DUC + DUA longer than the legal ceiling. Periods are compared by the dates
// they reach from every day of a 4-year cycle, so that 120 months and 10 years compare equal.
func (r Rule) checkCeiling() error {
	if r.Ceiling.Unlimited {
		return nil
	}
	if r.ActiveUntil != "" || r.DUA.Unlimited {
		return fmt.Errorf("the rule's total cannot be checked against the ceiling %s: %s", r.Ceiling, ceilingWhy(r))
	}
	from := civil.Date{Year: 2000, Month: 1, Day: 1}
	for i := 0; i < 4*366; i++ {
		d := from.AddDays(i)
		dua := d
		if r.DUAFrom != FromStart {
			dua = r.Active.AddTo(d)
		}
		end := r.DUA.AddTo(dua)
		if r.DUAFrom == FromStart {
			if a := r.Active.AddTo(d); a.After(end) {
				end = a
			}
		}
		if end.After(r.Ceiling.AddTo(d)) {
			return fmt.Errorf("active %s + dua %s exceeds the legal ceiling of %s", r.Active, r.DUA, r.Ceiling)
		}
	}
	return nil
}

func ceilingWhy(r Rule) string {
	if r.DUA.Unlimited {
		return "the DUA is unlimited"
	}
	return "the active phase ends with active_until"
}

// RuleError is a rule that cannot be used, naming the rule and the field.
type RuleError struct {
	Rule, Field string
	Err         error
}

func (e *RuleError) Error() string { return fmt.Sprintf("rule %s: %s: %v", e.Rule, e.Field, e.Err) }
func (e *RuleError) Unwrap() error { return e.Err }

// CompiledHold is a Hold with its predicate compiled.
type CompiledHold struct {
	Hold
	where *program
}

// CompileHold checks h and compiles its predicate.
func CompileHold(h Hold) (*CompiledHold, error) {
	if h.ID == "" {
		return nil, fmt.Errorf("hold: id missing")
	}
	if len(h.Keys) == 0 && h.Where == "" {
		return nil, fmt.Errorf("hold %s: give keys or where", h.ID)
	}
	if h.Reason == "" {
		return nil, fmt.Errorf("hold %s: reason missing", h.ID)
	}
	if !h.Since.IsZero() && !h.Until.IsZero() && h.Until.Before(h.Since) {
		// VITAM refuses a HoldEndDate before the StartDate at ingest; say it here instead.
		return nil, fmt.Errorf("hold %s: until %s is before since %s", h.ID, h.Until, h.Since)
	}
	c := &CompiledHold{Hold: h}
	if h.Where != "" {
		p, err := compileExpr(h.Where, DefaultYearEnd)
		if err != nil {
			return nil, fmt.Errorf("hold %s: where: %w", h.ID, err)
		}
		c.where = p
	}
	return c, nil
}

// covers reports whether the hold applies to the dossier on asOf.
func (h *CompiledHold) covers(env map[string]any, key string, asOf civil.Date) (bool, error) {
	if !h.Until.IsZero() && asOf.After(h.Until) {
		return false, nil
	}
	if !h.Since.IsZero() && asOf.Before(h.Since) {
		return false, nil
	}
	if slices.Contains(h.Keys, key) {
		return true, nil
	}
	if h.where == nil {
		return false, nil
	}
	v, err := h.where.run(env)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("%s: gave a %T, want true or false", h.Where, v)
}

// Decide says which tier the dossier is in on asOf under r, and why. env is the dossier's rows (see
// docs/retention.md); key is its key, matched against the holds' key lists. It never guesses: a
// start date that is missing or impossible, or an expression that fails, gives Undetermined with the
// reason.
//
// Phases are half-open: a period of 3 years from 2016-08-31 ends on 2019-08-31, and on that day
// the dossier is already in the next phase. With dua_from: start the DUA may end while the active
// phase is open: OpenPastDUA says which wins, and the decision carries DUA_ENDED_WHILE_ACTIVE.
// The rule's checks add data anomalies (Decision.Anomalies) without changing the tier.
func (r *CompiledRule) Decide(env map[string]any, key string, asOf civil.Date, holds ...*CompiledHold) Decision {
	d := Decision{Rule: r.ID, Status: r.Status, Key: key, AsOf: asOf, rule: r}
	// Plausibility checks come first, so that an undetermined decision carries them too.
	birth := r.checkDates(env, asOf, &d)
	undetermined := func(format string, a ...any) Decision {
		d.Tier = Undetermined
		d.reason = say(format, a...)
		d.Reason = d.reason.String()
		return d
	}
	start, err := r.eventOf(r.start, env)
	if err != nil {
		return undetermined("start event: %v", err)
	}
	if start == nil {
		return undetermined("start event gave no date (%s)", r.StartEvent)
	}
	d.Start, d.StartNote = start.Date, start.Note

	noEnd := false // active_until gave no date (no career rows)
	if r.activeUntil != nil {
		v, err := r.activeUntil.run(env)
		if err != nil {
			return undetermined("end of active phase: %v", err)
		}
		if o, ok := v.(Ongoing); ok {
			d.Ongoing, d.ActiveNote = true, o.Note
		} else {
			ev, err := toEvent(v)
			if err != nil {
				return undetermined("end of active phase: %s: %v", r.ActiveUntil, err)
			}
			if ev == nil {
				noEnd = true
			} else {
				e := ev.(Event)
				d.ActiveEnd, d.ActiveNote = e.Date, e.Note
				if r.ActiveUntilIs == LastDayIn {
					d.LastDayIn, d.ActiveEnd = e.Date, e.Date.AddDays(1)
				}
			}
		}
	} else {
		d.ActiveEnd = r.Active.AddTo(d.Start)
	}

	if r.DUAFrom == FromStart {
		d.DUAStart = d.Start
	} else {
		d.DUAStart = d.ActiveEnd // zero while ongoing
	}
	d.DUAEnd = r.DUA.AddTo(d.DUAStart)
	duaOver := !d.DUAEnd.IsZero() && !asOf.Before(d.DUAEnd)
	if noEnd {
		// Without an end of activity the active phase cannot be placed; but a DUA counted from
		// the start that has ended decides alone when the DUA end wins (the arrêté counts the
		// personnel file's 80 years from birth, career or not).
		if !(r.DUAFrom == FromStart && r.OpenPastDUA == DUAEndWins && duaOver) {
			return undetermined("end of active phase gave no date (%s)", r.ActiveUntil)
		}
		d.ActiveNote = noteNoEnd
		d.noEnd = true
	}

	if a := r.Access; a != nil {
		d.AccessID = a.ID
		d.AccessStart = d.Start
		if r.access != nil {
			ev, err := r.eventOf(r.access, env)
			if err != nil {
				return undetermined("access start: %v", err)
			}
			if ev == nil {
				return undetermined("access start gave no date (%s)", a.StartEvent)
			}
			d.AccessStart = ev.Date
		}
		d.AccessEnd = a.Duration.AddTo(d.AccessStart)
	}

	var sampleErr error
	// The sampling is decided now, whatever the tier: it is deterministic, and the AppraisalRule's
	// FinalAction written into an intermediate SIP must already say Keep or Destroy.
	switch {
	case r.FinalAction == Sample && !r.Sampling.HasCriteria():
		d.Sampled = true
	case r.FinalAction == Sample:
		in, why, err := r.sample(env, d.Start)
		if err != nil {
			sampleErr = err
		}
		d.Sampled = in
		d.reason, d.Reason = why, why.String()
	}

	var hold *CompiledHold
	for _, h := range holds {
		ok, err := h.covers(env, key, asOf)
		if err != nil {
			return undetermined("hold %s: %v", h.ID, err)
		}
		if ok {
			hold = h
			hh := h.Hold
			d.Hold = &hh
			break
		}
	}

	activeOpen := d.Ongoing || (!d.noEnd && asOf.Before(d.ActiveEnd))
	r.checkAge(birth, activeOpen, &d)
	if activeOpen && duaOver {
		d.Anomalies = append(d.Anomalies, Anomaly{Code: DUAEndedWhileActive, Detail: r.duaOverDetail(d)})
	}
	switch {
	case activeOpen && !(duaOver && r.OpenPastDUA == DUAEndWins):
		d.Tier = Active
	case d.DUAEnd.IsZero() || asOf.Before(d.DUAEnd):
		d.Tier = Intermediate
	case r.FinalAction == Keep:
		d.Tier = Final
	case r.FinalAction == Sample && d.Sampled:
		d.Tier = Final
	default:
		d.Tier = ToDestroy
		if hold != nil {
			d.Tier = Held
		}
	}
	if sampleErr != nil {
		// An active dossier stays active: its sampling only matters once it leaves the active
		// base, by which time its data may have been corrected. Later, no guess is made.
		if d.Tier != Active {
			return undetermined("sampling: %v", sampleErr)
		}
		d.SamplingUnknown = true
		d.reason = say("sampling undetermined: %s", sampleErr)
		d.Reason = d.reason.String()
	}
	return d
}

func (r *CompiledRule) duaOverDetail(d Decision) string {
	open := "is still open (" + d.ActiveNote + ")"
	if !d.Ongoing {
		open = "runs until " + d.ActiveEnd.String()
	}
	wins := "the DUA end wins (open_past_dua: dua-end)"
	if r.OpenPastDUA == ActiveWins {
		wins = "the active phase wins (open_past_dua: active)"
	}
	return fmt.Sprintf("the DUA of %s from the start ended %s while the active phase %s; %s", r.DUA, d.DUAEnd, open, wins)
}

// checkDates runs the date checks that do not depend on the decision (BIRTH_IN_FUTURE,
// END_BEFORE_START) and returns the date of birth (zero when there is none or it cannot be read).
func (r *CompiledRule) checkDates(env map[string]any, asOf civil.Date, d *Decision) civil.Date {
	ch := r.Checks
	if ch == nil {
		return civil.Date{}
	}
	var birth civil.Date
	if r.checkBirth != nil {
		if ev, err := r.eventOf(r.checkBirth, env); err == nil && ev != nil {
			birth = ev.Date
			if birth.After(asOf) {
				d.Anomalies = append(d.Anomalies, Anomaly{Code: BirthInFuture,
					Detail: fmt.Sprintf("date of birth %s is after the as-of date %s", birth, asOf)})
			}
		}
	}
	const shown = 3
	var bad []string
	n := 0
	for _, p := range ch.Periods {
		for i, row := range rowsOf(env[p.Table]) {
			s, e := dateOf(row[p.Start]), dateOf(row[p.End])
			if s.IsZero() || e.IsZero() || !e.Before(s) {
				continue
			}
			if n++; n <= shown {
				bad = append(bad, fmt.Sprintf("%s row %d: %s %s before %s %s", p.Table, i+1, p.End, e, p.Start, s))
			}
		}
	}
	if n > 0 {
		detail := strings.Join(bad, "; ")
		if n > shown {
			detail += fmt.Sprintf(" (and %d more)", n-shown)
		}
		d.Anomalies = append(d.Anomalies, Anomaly{Code: EndBeforeStart, Detail: detail})
	}
	return birth
}

// checkAge adds IN_POST_PAST_MAX_AGE when the active phase was open on a day, up to as-of, on or
// after birth + Checks.MaxAgeInPost.
func (r *CompiledRule) checkAge(birth civil.Date, activeOpen bool, d *Decision) {
	if r.Checks == nil || r.Checks.MaxAgeInPost.IsZero() || birth.IsZero() || d.noEnd {
		return
	}
	limit := r.Checks.MaxAgeInPost.AddTo(birth)
	last := d.AsOf // the last day in post that the base shows, up to as-of
	if !activeOpen {
		last = d.ActiveEnd.AddDays(-1)
	}
	if last.Before(limit) {
		return
	}
	d.Anomalies = append(d.Anomalies, Anomaly{Code: InPostPastMaxAge,
		Detail: fmt.Sprintf("in post on %s, past the age of %s (born %s: %s on %s)", last, r.Checks.MaxAgeInPost, birth, r.Checks.MaxAgeInPost, limit)})
}

// rowsOf reads a table of the environment as rows: a child table's list, or the root's one row.
func rowsOf(v any) []map[string]any {
	switch t := v.(type) {
	case []map[string]any:
		return t
	case map[string]any:
		return []map[string]any{t}
	case []any:
		var out []map[string]any
		for _, x := range t {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// dateOf is v's date, or the zero date when v is missing or not a date.
func dateOf(v any) civil.Date {
	ev, err := toEvent(v)
	if err != nil || ev == nil {
		return civil.Date{}
	}
	return ev.(Event).Date
}

func (r *CompiledRule) eventOf(p *program, env map[string]any) (*Event, error) {
	v, err := p.run(env)
	if err != nil {
		return nil, err
	}
	ev, err := toEvent(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p.src, err)
	}
	if ev == nil {
		return nil, nil
	}
	e := ev.(Event)
	if e.Date.Year < 1 || e.Date.Year > 9999 {
		return nil, fmt.Errorf("%s: impossible date %s", p.src, e.Date)
	}
	return &e, nil
}

// sample applies the criteria: kept when any selects the dossier; undetermined when none selects
// it and one could not be read (a NULL surname must not send a dossier to destruction).
func (r *CompiledRule) sample(env map[string]any, start civil.Date) (bool, msg, error) {
	s := r.Sampling
	var absent msgs
	if r.surname != nil {
		v, err := r.surname.run(env)
		if err != nil {
			return false, msg{}, err
		}
		name, _ := asString(v)
		f := fold(name)
		if f == "" {
			absent = append(absent, say("birth surname is empty"))
		} else {
			for _, l := range s.Letters {
				if strings.HasPrefix(f, fold(l)) {
					return true, say("sampled in: surname initial %s", fold(l)), nil
				}
			}
			// An initial the table does not fold (Ω, Ж, ǎ) is not "another letter": it could be
			// B or T once transliterated, so it must not send the dossier to destruction.
			if i, _ := utf8.DecodeRuneInString(f); i < 'A' || i > 'Z' {
				absent = append(absent, say("birth surname initial %c has no A-Z folding", i))
			}
		}
	}
	if r.birth != nil {
		ev, err := r.eventOf(r.birth, env)
		if err != nil {
			return false, msg{}, err
		}
		if ev == nil {
			absent = append(absent, say("date of birth is NULL or blank"))
		} else if slices.Contains(s.BirthDays, ev.Date.Day) {
			return true, say("sampled in: born on day %d", ev.Date.Day), nil
		}
	}
	if s.YearModulo > 0 {
		y := start.Year
		if r.sampleYear != nil {
			v, err := r.sampleYear.run(env)
			if err != nil {
				return false, msg{}, err
			}
			if m, _ := missing(v); m {
				absent = append(absent, say("sampling year is NULL or blank"))
				y = -1
			} else if y, err = toYear(v); err != nil {
				return false, msg{}, fmt.Errorf("%s: %v", s.YearExpr, err)
			}
		}
		if y >= 0 && y%s.YearModulo == s.YearRemainder {
			return true, say("sampled in: year %s mod %d = %d", year(y), s.YearModulo, s.YearRemainder), nil
		}
	}
	if len(absent) > 0 {
		return false, msg{}, notSelected(absent)
	}
	return false, say("sampled out: no criterion selects it"), nil
}

// fold reduces a name to the upper-case letters the letter criterion compares: accents and case
// folded by foldMap ("Élodie" → "ELODIE", "Œuvray" → "OEUVRAY", "Þór" → "THOR"), anything that is
// not a letter dropped ("d'Artagnan" → "DARTAGNAN"; combining accents, so NFD text folds as NFC
// does), and letters foldMap does not know kept, upper-cased ("Ωmega" → "ΩMEGA"), so that they
// never let the next letter decide. docs/retention.md lists the table; TestFoldTable pins it.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		l := unicode.ToLower(r)
		if f, ok := foldMap[l]; ok {
			b.WriteString(f)
			continue
		}
		switch {
		case l < 128 && unicode.IsLetter(l): // İ lowers to i
			b.WriteRune(unicode.ToUpper(l))
		case unicode.IsLetter(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// foldLetters are the letters with nothing to fold (no accent to drop: ligatures and letters of
// their own), folded as French archives alphabetise them.
var foldLetters = map[rune]string{
	'æ': "AE", 'œ': "OE", 'ø': "O", 'ł': "L", 'þ': "TH", 'ß': "SS", 'đ': "D", 'ð': "D",
	'ħ': "H", 'ŧ': "T", 'ı': "I", 'ĳ': "IJ", 'ŋ': "N", 'ſ': "S",
}

// foldAccents are the accented Latin letters, by the letter they fold to.
var foldAccents = map[string]string{
	"A": "àáâãäåāăąǎ", "C": "çćĉċč", "D": "ď", "E": "èéêëēĕėęě", "G": "ĝğġģǧ", "H": "ĥ",
	"I": "ìíîïĩīĭįǐ", "J": "ĵ", "K": "ķǩ", "L": "ĺļľŀ", "N": "ñńņňŉ", "O": "òóôõöōŏőǒ",
	"R": "ŕŗř", "S": "śŝşšș", "T": "ţťț", "U": "ùúûüũūŭůűųǔ", "W": "ŵ", "Y": "ýÿŷ", "Z": "źżž",
}

var foldMap = func() map[rune]string {
	m := map[rune]string{}
	for r, to := range foldLetters {
		m[r] = to
	}
	for to, from := range foldAccents {
		for _, r := range from {
			m[r] = to
		}
	}
	return m
}()

// notSelected is a sampling that selects nothing and could not read some of its criteria.
type notSelected msgs

func (e notSelected) Error() string { return e.msg().String() }

func (e notSelected) msg() msg { return say("not selected, and %s", msgs(e)) }
