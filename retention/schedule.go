package retention

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/yamlx"
)

//go:embed schedules/*.yaml
var builtin embed.FS

// Schedule is a retention schedule (tableau de gestion) ready to decide: its rules compiled, its
// legal holds and the academic-year cut-off of endOfYear.
type Schedule struct {
	Name    string
	Source  string // the file it was read from, or "builtin:NAME"
	YearEnd MonthDay
	Rules   []*CompiledRule
	Holds   []*CompiledHold
}

// Rule returns the rule with that id.
func (s *Schedule) Rule(id string) (*CompiledRule, bool) {
	for _, r := range s.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// Decide applies the rule ruleID and the schedule's holds to one dossier. An unknown rule id gives
// an Undetermined decision saying so.
func (s *Schedule) Decide(ruleID string, env map[string]any, key string, asOf civil.Date) Decision {
	r, ok := s.Rule(ruleID)
	if !ok {
		return Decision{Tier: Undetermined, Rule: ruleID, Key: key, AsOf: asOf,
			Reason: fmt.Sprintf("schedule %s has no rule %s", s.Name, ruleID)}
	}
	return r.Decide(env, key, asOf, s.Holds...)
}

// Names lists the built-in schedules.
func Names() []string {
	entries, _ := builtin.ReadDir("schedules")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// BuiltinSchedule returns the built-in schedule of that name ("apogee", "harpege").
func BuiltinSchedule(name string) (*Schedule, error) {
	if s, ok := builtinSchedules.Load(name); ok {
		return s.(*Schedule).clone(), nil
	}
	data, err := builtin.ReadFile("schedules/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in schedule %q (have %s)", name, strings.Join(Names(), ", "))
	}
	s, err := ParseSchedule(data, "builtin:"+name)
	if err != nil {
		return nil, err
	}
	builtinSchedules.Store(name, s)
	return s.clone(), nil
}

// builtinSchedules holds each built-in schedule once parsed and compiled: every profile that
// names one loaded it again (1.4 ms, most of a profile's validation). Callers get copies of the
// lists; compiled rules are never changed once compiled, so they are shared.
var builtinSchedules sync.Map

func (s *Schedule) clone() *Schedule {
	c := *s
	c.Rules = slicesClone(s.Rules)
	c.Holds = slicesClone(s.Holds)
	return &c
}

// BuiltinScheduleYAML returns the text of a built-in schedule, to copy and edit.
func BuiltinScheduleYAML(name string) ([]byte, error) {
	data, err := builtin.ReadFile("schedules/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in schedule %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}

// LoadSchedule reads a schedule file. Errors cite the file, the line and the field.
func LoadSchedule(path string) (*Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	return ParseSchedule(data, path)
}

type fileSchedule struct {
	Schedule        string     `yaml:"schedule"`
	Extends         string     `yaml:"extends"`
	AcademicYearEnd string     `yaml:"academic_year_end"`
	Rules           []fileRule `yaml:"rules"`
	Holds           []fileHold `yaml:"holds"`
}

type fileRule struct {
	ID                 string        `yaml:"id"`
	Title              string        `yaml:"title"`
	Start              string        `yaml:"start"`
	StartLabel         string        `yaml:"start_label"`
	Active             string        `yaml:"active"`
	ActiveUntil        string        `yaml:"active_until"`
	ActiveUntilIs      string        `yaml:"active_until_is"`
	ActiveStatus       string        `yaml:"active_status"`
	OpenPastDUA        string        `yaml:"open_past_dua"`
	Checks             *fileChecks   `yaml:"checks"`
	DUA                string        `yaml:"dua"`
	DUAFrom            string        `yaml:"dua_from"`
	Final              string        `yaml:"final"`
	Sampling           *fileSampling `yaml:"sampling"`
	Access             *fileAccess   `yaml:"access"`
	Storage            string        `yaml:"storage"`
	StorageFinalAction string        `yaml:"storage_final_action"`
	Ceiling            string        `yaml:"ceiling"`
	Basis              string        `yaml:"basis"`
	Note               string        `yaml:"note"`
	Status             string        `yaml:"status"`
}

type fileSampling struct {
	Letters       []string `yaml:"letters"`
	Surname       string   `yaml:"surname"`
	BirthDays     []int    `yaml:"birth_days"`
	Birth         string   `yaml:"birth"`
	YearModulo    int      `yaml:"year_modulo"`
	YearRemainder int      `yaml:"year_remainder"`
	Year          string   `yaml:"year"`
}

type fileChecks struct {
	Birth        string       `yaml:"birth"`
	MaxAgeInPost string       `yaml:"max_age_in_post"`
	Periods      []filePeriod `yaml:"periods"`
}

type filePeriod struct {
	Table string `yaml:"table"`
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

type fileAccess struct {
	ID       string `yaml:"id"`
	Title    string `yaml:"title"`
	Start    string `yaml:"start"`
	Duration string `yaml:"duration"`
	Basis    string `yaml:"basis"`
}

type fileHold struct {
	ID     string   `yaml:"id"`
	Keys   []string `yaml:"keys"`
	Where  string   `yaml:"where"`
	Reason string   `yaml:"reason"`
	Since  string   `yaml:"since"`
	Until  string   `yaml:"until"`
}

// ParseSchedule reads a schedule from data; name is the file name used in errors.
func ParseSchedule(data []byte, name string) (*Schedule, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // the BOM some Windows editors write
	// Aliases are refused before decoding: a few lines of nested aliases expand to gigabytes.
	file, err := yamlx.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if line := yamlx.FirstAlias(file); line > 0 {
		return nil, fmt.Errorf("%s:%d: YAML aliases (*name) are not allowed in a schedule file: repeat the value", name, line)
	}
	var f fileSchedule
	if len(file.Docs) > 0 && file.Docs[0].Body != nil {
		if err := decodeYAML(file.Docs[0].Body, &f); err != nil {
			return nil, yamlx.Error(name, file.Docs[0].Body, err)
		}
	}
	at := func(path string) string { return fmt.Sprintf("%s:%d", name, lineOf(file, path)) }

	s := &Schedule{Name: f.Schedule, Source: name, YearEnd: DefaultYearEnd}
	if f.Extends != "" {
		base, err := BuiltinSchedule(f.Extends)
		if err != nil {
			return nil, fmt.Errorf("%s: extends: %w", at("$.extends"), err)
		}
		s.YearEnd = base.YearEnd
		if s.Name == "" {
			s.Name = base.Name
		}
		s.Holds = slicesClone(base.Holds)
		s.Rules = slicesClone(base.Rules)
	}
	if s.Name == "" {
		return nil, fmt.Errorf("%s:1: schedule: missing (the schedule's name)", name)
	}
	if f.AcademicYearEnd != "" {
		md, err := ParseMonthDay(f.AcademicYearEnd)
		if err != nil {
			return nil, fmt.Errorf("%s: academic_year_end: %v", at("$.academic_year_end"), err)
		}
		s.YearEnd = md
	}
	seen := map[string]int{}
	for i, fr := range f.Rules {
		path := fmt.Sprintf("$.rules[%d]", i)
		where := func(field string) string {
			label := fmt.Sprintf("rules[%d]", i)
			if fr.ID != "" {
				label += " (" + fr.ID + ")"
			}
			return fmt.Sprintf("%s: %s %s", at(path+"."+field), label, field)
		}
		if j, dup := seen[fr.ID]; dup && fr.ID != "" {
			return nil, fmt.Errorf("%s: rule %s is already defined at rules[%d]", where("id"), fr.ID, j)
		}
		seen[fr.ID] = i
		r, field, err := fr.rule()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where(field), err)
		}
		// A legal ceiling of the base schedule stays when the establishment redefines the rule:
		// overriding the 3 + 7 split must not lift the 10-year maximum of the 1995 arrêté.
		if base := findRule(s.Rules, r.ID); base != nil && r.Ceiling.IsZero() {
			r.Ceiling = base.Ceiling
		}
		c, err := Compile(r, s.YearEnd)
		if err != nil {
			var re *RuleError
			if errors.As(err, &re) {
				return nil, fmt.Errorf("%s: %v", where(re.Field), re.Err)
			}
			return nil, fmt.Errorf("%s: %v", at(path), err)
		}
		s.Rules = replaceRule(s.Rules, c)
	}
	// Rules of a base schedule were compiled with its cut-off; recompile them with this one.
	if f.Extends != "" && f.AcademicYearEnd != "" {
		for i, r := range s.Rules {
			c, err := Compile(r.Rule, s.YearEnd)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			s.Rules[i] = c
		}
	}
	for i, fh := range f.Holds {
		path := fmt.Sprintf("$.holds[%d]", i)
		h := Hold{ID: fh.ID, Keys: fh.Keys, Where: fh.Where, Reason: fh.Reason}
		for _, d := range []struct {
			field string
			text  string
			to    *civil.Date
		}{{"since", fh.Since, &h.Since}, {"until", fh.Until, &h.Until}} {
			if d.text == "" {
				continue
			}
			v, err := civil.Parse(d.text)
			if err != nil {
				return nil, fmt.Errorf("%s: holds[%d] %s: %v", at(path+"."+d.field), i, d.field, err)
			}
			*d.to = v
		}
		c, err := CompileHold(h)
		if err != nil {
			return nil, fmt.Errorf("%s: holds[%d]: %v", at(path), i, err)
		}
		s.Holds = append(slicesClone(s.Holds), c)
	}
	if len(s.Rules) == 0 {
		return nil, fmt.Errorf("%s:1: rules: the schedule has none", name)
	}
	return s, nil
}

// decodeYAML decodes strictly, and turns a panic of the YAML library into an error: goccy/go-yaml
// v1.19.2 dereferences nil on some malformed inputs (found by FuzzParseSchedule, e.g.
// "rules:\n !00\n0000000: #0"), and a bad file must be an error, not a crash.
func decodeYAML(body ast.Node, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a valid schedule (the YAML reader failed: %v)", p)
		}
	}()
	return yaml.NodeToValue(body, v, yaml.DisallowUnknownField())
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

func findRule(rules []*CompiledRule, id string) *CompiledRule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func replaceRule(rules []*CompiledRule, c *CompiledRule) []*CompiledRule {
	out := slicesClone(rules)
	for i, r := range out {
		if r.ID == c.ID {
			out[i] = c
			return out
		}
	}
	return append(out, c)
}

// lineOf is the line of the node at path, or of its nearest parent that exists (a missing field is
// reported on the line of its rule).
func lineOf(file *ast.File, path string) int {
	for file != nil {
		p, err := yaml.PathString(path)
		if err == nil {
			if n, err := p.FilterFile(file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line
				}
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 1 {
			break
		}
		path = path[:i]
	}
	return 1
}

// rule converts a file rule, returning the field at fault on error.
func (fr fileRule) rule() (Rule, string, error) {
	r := Rule{
		ID: fr.ID, Title: fr.Title, StartEvent: fr.Start, StartLabel: fr.StartLabel,
		ActiveUntil: fr.ActiveUntil, ActiveUntilIs: EndKind(fr.ActiveUntilIs), ActiveStatus: Status(fr.ActiveStatus),
		DUAFrom: DUAFrom(fr.DUAFrom), OpenPastDUA: Precedence(fr.OpenPastDUA), FinalAction: FinalAction(fr.Final),
		Storage: fr.Storage, StorageFinalAction: fr.StorageFinalAction, Basis: strings.TrimSpace(fr.Basis),
		Note: strings.TrimSpace(fr.Note), Status: Status(fr.Status),
	}
	var err error
	switch {
	case fr.Active != "" && fr.ActiveUntil != "":
		return r, "active_until", fmt.Errorf("give active or active_until, not both")
	case fr.Active != "":
		if r.Active, err = ParseDuration(fr.Active); err != nil {
			return r, "active", err
		}
	case fr.ActiveUntil == "":
		return r, "active", fmt.Errorf("missing: a duration (e.g. 3y) or active_until")
	}
	if fr.DUA == "" {
		return r, "dua", fmt.Errorf("missing: a duration (e.g. 7y) or unlimited")
	}
	if r.DUA, err = ParseDuration(fr.DUA); err != nil {
		return r, "dua", err
	}
	if fr.Ceiling != "" {
		if r.Ceiling, err = ParseDuration(fr.Ceiling); err != nil {
			return r, "ceiling", err
		}
	}
	if a := fr.Access; a != nil {
		r.Access = &AccessRule{ID: a.ID, Title: a.Title, StartEvent: a.Start, Basis: a.Basis}
		if a.Duration == "" {
			return r, "access.duration", fmt.Errorf("missing: e.g. 50y")
		}
		if r.Access.Duration, err = ParseDuration(a.Duration); err != nil {
			return r, "access.duration", err
		}
	}
	if c := fr.Checks; c != nil {
		r.Checks = &Checks{Birth: c.Birth}
		if c.MaxAgeInPost != "" {
			if r.Checks.MaxAgeInPost, err = ParseDuration(c.MaxAgeInPost); err != nil {
				return r, "checks.max_age_in_post", err
			}
		}
		for _, p := range c.Periods {
			r.Checks.Periods = append(r.Checks.Periods, Period(p))
		}
	}
	if s := fr.Sampling; s != nil {
		r.Sampling = &Sampling{Letters: s.Letters, SurnameExpr: s.Surname, BirthDays: s.BirthDays,
			BirthExpr: s.Birth, YearModulo: s.YearModulo, YearRemainder: s.YearRemainder, YearExpr: s.Year}
	}
	return r, "", nil
}

// Describe is the file name without directories, for messages.
func (s *Schedule) Describe() string { return filepath.Base(s.Source) }

// PeriodEnd is the end of the period a rule of the schedule sets, counted from start as a SIP's
// Management writes it: an appraisal rule's DUA from its StartDate, an access rule's restriction
// from its own StartDate. ok is false for a rule the schedule does not have or one without a
// period (an unlimited DUA). It is how a manifest read back, which names rules but not their
// durations, gives the end of the DUA and the date a dossier becomes communicable.
func (s *Schedule) PeriodEnd(ruleID string, start civil.Date) (end civil.Date, ok bool) {
	if start.IsZero() {
		return civil.Date{}, false
	}
	for _, r := range s.Rules {
		switch {
		case r.ID == ruleID && !r.DUA.IsZero():
			return r.DUA.AddTo(start), true
		case r.Access != nil && r.Access.ID == ruleID && !r.Access.Duration.IsZero():
			return r.Access.Duration.AddTo(start), true
		}
	}
	return civil.Date{}, false
}
