package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/text/language"

	"github.com/versement/versement/bordereau"
	"github.com/versement/versement/civil"
	"github.com/versement/versement/consult"
	"github.com/versement/versement/eliminate"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
	"github.com/versement/versement/transfer/ledger"
)

func init() {
	register(&cli.Command{
		Name:  "serve",
		Usage: "the consultation web pages: search archived dossiers, read their fiche, with sign-on, roles, motives and the access log",
		Description: "Serves the pages on --addr. Sign-on: the establishment's OpenID Connect provider (--oidc: its\n" +
			"issuer, client id and secret from VERSEMENT_OIDC_ISSUER, VERSEMENT_OIDC_CLIENT_ID and\n" +
			"VERSEMENT_OIDC_CLIENT_SECRET or VERSEMENT_OIDC_CLIENT_SECRET_FILE), a trusted reverse proxy's\n" +
			"headers (--proxy-user-header, --trusted-proxy), or --demo: a local user for a demonstration,\n" +
			"refused unless --addr is a loopback address. TLS with --cert and --key; plain HTTP only on\n" +
			"loopback. The roles file decides who may see what; every search, view, download and refusal\n" +
			"goes to the access log. At /eliminations, the archives service reviews the proposals of\n" +
			"elimination (--bordereaux, and those kept in STATE/eliminations/) and records the visa on them,\n" +
			"as `versement eliminate import-visa` does: in the ledger, checked against the roles file (an\n" +
			"archives-service role, not the one who proposed). With --api and --platform, it also serves the\n" +
			"deposit API of every establishment (/api/v1/, docs/api.md): other applications authenticated by\n" +
			"an OAuth2 token or a client certificate deposit units and objects, or finished SIPs, which go\n" +
			"through the same decision, SIP, verification, sending and ledger as a run; with --queue the\n" +
			"workers (`versement worker --platform`) process them. --api without a sign-on serves the API only.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listening address host:port"},
			&cli.StringFlag{Name: "cert", Usage: "TLS certificate chain (PEM)"},
			&cli.StringFlag{Name: "key", Usage: "TLS private key (PEM)"},
			&cli.StringFlag{Name: "public-url", Usage: "the address browsers use, when behind a reverse proxy (https://archives.univ.example/)"},
			&cli.BoolFlag{Name: "oidc", Usage: "sign on through the OpenID Connect provider the VERSEMENT_OIDC_* variables name"},
			&cli.StringFlag{Name: "proxy-user-header", Usage: "sign on by this header of a trusted reverse proxy (CAS, Shibboleth: REMOTE_USER)"},
			&cli.StringFlag{Name: "proxy-groups-header", Usage: "the proxy's header of the user's groups (separated by ';')"},
			&cli.StringSliceFlag{Name: "trusted-proxy", Usage: "address or CIDR of a reverse proxy whose headers are believed (repeat)"},
			&cli.BoolFlag{Name: "demo", Usage: "a local user 'demo' of the archives service, who may consult everything and record visas (loopback only); without --roles, an embedded demo roles file"},
			&cli.StringFlag{Name: "bordereaux", Value: "bordereaux", Usage: "folder where the runs write the bordereau d'élimination: its proposal is reviewed and visaed at /eliminations"},
			&cli.StringFlag{Name: "ledger", Usage: "the ledger the visas are recorded in; default STATE/ledger.jsonl"},
		}, append(consultFlags(), serveAPIFlags()...)...),
		Action: serveAction,
	})
}

func serveAction(c *cli.Context) error {
	cfg := server.Config{Addr: c.String("addr"), CertFile: c.String("cert"), KeyFile: c.String("key"), PublicURL: c.String("public-url"), Lang: readerLangFlag(c)}
	if c.Bool("demo") {
		cfg.Demo = &server.DemoConfig{User: "demo", Groups: []string{"demo"}}
	}
	if c.Bool("oidc") {
		o, err := server.OIDCFromEnv(os.Getenv)
		if err != nil {
			return cli.Exit("serve: "+err.Error(), exitError)
		}
		cfg.OIDC = o
	}
	if h := c.String("proxy-user-header"); h != "" {
		p := &server.ProxyConfig{UserHeader: h, GroupsHeader: c.String("proxy-groups-header")}
		for _, s := range c.StringSlice("trusted-proxy") {
			pre, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return cli.Exit(fmt.Sprintf("serve: --trusted-proxy %q: want an address or a CIDR (10.0.0.0/8)", s), exitError)
				}
				pre = netip.PrefixFrom(a, a.BitLen())
			}
			p.TrustedProxies = append(p.TrustedProxies, pre)
		}
		if len(p.TrustedProxies) == 0 {
			return cli.Exit("serve: --proxy-user-header needs --trusted-proxy: the header is believed only from the proxy", exitError)
		}
		cfg.Proxy = p
	}
	if c.Bool("api") {
		api, err := openServeAPI(c)
		if err != nil {
			return cli.Exit("serve: "+err.Error(), exitError)
		}
		defer api.Close()
		cfg.API = api.cfg
		if cfg.OIDC == nil && cfg.Proxy == nil && cfg.Demo == nil {
			return serveAPIOnly(c, cfg, api)
		}
	}
	var policy *roles.Policy
	if c.Bool("demo") && c.String("roles") == "" {
		p, err := roles.Parse("demo roles", []byte(demoRoles))
		if err != nil {
			return cli.Exit("serve: "+err.Error(), exitError)
		}
		policy = p
	}
	env, err := openService(c, policy)
	if err != nil {
		return err
	}
	n, err := env.svc.Index.Count(c.Context)
	if err != nil {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	defer env.Close()
	led := c.String("ledger")
	if led == "" {
		led = pipeline.DefaultLedger(c.String("state"))
	}
	cfg.Eliminations = &serveEliminations{State: c.String("state"), Ledger: led, Bordereaux: c.String("bordereaux"), Policy: env.svc.Policy}
	s, err := server.New(c.Context, cfg, consult.Web{Service: env.svc, Lang: env.tag}, slog.Default())
	if err != nil {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	scheme := "http"
	if cfg.CertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(c.App.Writer, "serving the consultation of %s on %s://%s/ (index: %d dossier(s)); Ctrl-C stops\n", c.String("state"), scheme, cfg.Addr, n)
	if err := s.ListenAndServe(c.Context); err != nil && !strings.Contains(err.Error(), "Server closed") {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	return nil
}

// serveAPIOnly serves the deposit API without the consultation pages (no sign-on configured).
func serveAPIOnly(c *cli.Context, cfg server.Config, api *serveAPI) error {
	s, err := server.New(c.Context, cfg, nil, slog.Default())
	if err != nil {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	scheme := "http"
	if cfg.CertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(c.App.Writer, "serving the deposit API of %d establishment(s) on %s://%s/api/v1/; Ctrl-C stops\n", len(api.services), scheme, cfg.Addr)
	if err := s.ListenAndServe(c.Context); err != nil && !strings.Contains(err.Error(), "Server closed") {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	return nil
}

// demoRoles is the roles file of --demo without --roles: the demo user is the archives service,
// who may consult every tier and read the access log.
const demoRoles = `roles:
  - name: demo
    groups: [demo]
    archives_service: true
    access_log: true
    consult:
      - profile: "*"
        tiers: [intermediate, final]
`

// serveEliminations is server.Eliminations on a state folder: the proposals are the bordereau
// d'élimination the runs write in Bordereaux and those kept in STATE/eliminations/ by a visa's
// import; the visa is recorded by eliminate.ImportVisa, as `versement eliminate import-visa` does,
// under the state folder's lock, with the signed-on user as who records it.
type serveEliminations struct {
	State, Ledger, Bordereaux string
	Policy                    *roles.Policy // the consultation's roles file
	mu                        sync.Mutex    // one import at a time in this process

	cacheMu sync.Mutex
	cache   map[string]cachedProposal // by path
}

// cachedProposal is a proposal read, and the file as it was then: a page view does not scan an
// annex of a million dossiers again unless a run or an import replaced the file.
type cachedProposal struct {
	size    int64
	modTime time.Time
	p       *eliminate.Proposal
}

// read is eliminate.ReadProposal, remembered while the file stays the same. A missing file is
// nil, nil.
func (e *serveEliminations) read(path string) (*eliminate.Proposal, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.cacheMu.Lock()
	c, ok := e.cache[path]
	e.cacheMu.Unlock()
	if ok && c.size == st.Size() && c.modTime.Equal(st.ModTime()) {
		return c.p, nil
	}
	p, err := eliminate.ReadProposal(path)
	if err != nil {
		return nil, err
	}
	e.cacheMu.Lock()
	if e.cache == nil {
		e.cache = map[string]cachedProposal{}
	}
	e.cache[path] = cachedProposal{size: st.Size(), modTime: st.ModTime(), p: p}
	e.cacheMu.Unlock()
	return p, nil
}

func init() {
	lang.Translate(map[string]string{
		"Proposed by":      "Proposé par",
		"Proposed on":      "Proposé le",
		"Dossiers, in all": "Dossiers, au total",
		"state folder %s is in use by a run: record the visa again when it has ended": "le dossier d'état %s est utilisé par une exécution : enregistrez le visa à nouveau quand elle sera terminée",
	})
}

// found is a proposal and the file it was read from.
type found struct {
	p    *eliminate.Proposal
	kept bool // the copy kept in the state folder by an import
}

// proposals reads every proposal: the ones kept in the state folder first (what a recorded visa
// answers), then the bordereaux folder's, unless it is one of them.
func (e *serveEliminations) proposals() (map[string]found, error) {
	out := map[string]found{}
	kept, err := filepath.Glob(filepath.Join(e.State, "eliminations", "*", "proposal.json"))
	if err != nil {
		return nil, err
	}
	for _, path := range kept {
		p, err := e.read(path)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out[p.ID] = found{p: p, kept: true}
		}
	}
	p, err := e.read(e.current())
	if err != nil {
		return nil, err
	}
	if p != nil {
		if _, ok := out[p.ID]; !ok {
			out[p.ID] = found{p: p}
		}
	}
	return out, nil
}

// current is the bordereau d'élimination of the last run.
func (e *serveEliminations) current() string {
	return filepath.Join(e.Bordereaux, pipeline.EliminationFile+".json")
}

// recorded is what the ledger says of each proposal: its visa entry, and whether it was executed.
type recorded struct {
	visa     *ledger.Entry
	executed bool
}

func (e *serveEliminations) ledgerState() (map[string]recorded, error) {
	out := map[string]recorded{}
	if _, err := os.Stat(e.Ledger); errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	// Read takes no lock: a run writing the ledger meanwhile is not held up.
	_, err := ledger.Read(e.Ledger, func(en ledger.Entry) {
		el := en.Elimination
		if el == nil {
			return
		}
		r := out[el.Proposal]
		switch {
		case en.Kind == ledger.KindVisa:
			en := en
			r.visa = &en
		case en.Kind == ledger.KindElimination && !el.DryRun:
			r.executed = true
		}
		out[el.Proposal] = r
	})
	return out, err
}

func summary(p *eliminate.Proposal, r recorded) server.ProposalSummary {
	s := server.ProposalSummary{ID: p.ID, Profile: p.Profile, Date: p.Date.String(), Lots: len(p.Lots), Dossiers: p.Dossiers, Executed: r.executed}
	if r.visa != nil {
		s.Visa, s.VisaEntry = r.visa.Elimination.Reference, r.visa.Seq
	}
	return s
}

func (e *serveEliminations) Proposals(_ context.Context, _ server.User) ([]server.ProposalSummary, error) {
	ps, err := e.proposals()
	if err != nil {
		return nil, err
	}
	rs, err := e.ledgerState()
	if err != nil {
		return nil, err
	}
	var out []server.ProposalSummary
	for _, f := range ps {
		out = append(out, summary(f.p, rs[f.p.ID]))
	}
	slices.SortFunc(out, func(a, b server.ProposalSummary) int {
		return cmp.Or(cmp.Compare(b.Date, a.Date), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func rolesUser(u server.User) roles.User {
	return roles.User{ID: u.ID, Name: u.Name, Groups: u.Groups, Via: u.Via}
}

// mayRecord says whether u may record a visa on p, and why not, in the words ImportVisa refuses
// with (the same messages of the catalogue).
func (e *serveEliminations) mayRecord(u server.User, p *eliminate.Proposal, tag language.Tag) (bool, string) {
	var m interface{ Message(language.Tag) string }
	if err := eliminate.MayRecord(e.Policy, rolesUser(u), p, tag); errors.As(err, &m) {
		return false, m.Message(tag)
	} else if err != nil {
		return false, err.Error()
	}
	return true, ""
}

// find is proposal id: the copy an import kept in the state folder, else the bordereaux
// folder's.
func (e *serveEliminations) find(id string) (found, recorded, error) {
	var f found
	p, err := e.read(filepath.Join(eliminate.Dir(e.State, id), "proposal.json"))
	if err != nil {
		return found{}, recorded{}, err
	}
	if p != nil && p.ID == id {
		f = found{p: p, kept: true}
	} else {
		p, err := e.read(e.current())
		if err != nil {
			return found{}, recorded{}, err
		}
		if p == nil || p.ID != id {
			return found{}, recorded{}, server.ErrNotFound
		}
		f = found{p: p}
	}
	rs, err := e.ledgerState()
	if err != nil {
		return found{}, recorded{}, err
	}
	return f, rs[id], nil
}

// value is a bordereau's code (final action, observation) in tag's language, as the bordereau
// prints it: the catalogue holds the French under "kind:code".
func value(tag language.Tag, kind, code string) string {
	if !lang.IsFrench(tag) {
		if en, ok := englishValues[kind+":"+code]; ok {
			return en
		}
		return code
	}
	if t := lang.Printer(tag).Sprintf(kind + ":" + code); t != kind+":"+code {
		return t
	}
	return code
}

// englishValues are the bordereau's words for the codes that are not English words already.
var englishValues = map[string]string{
	"obs:" + bordereau.ObsRuleToConfirm: "rule to confirm: its values were not checked against the legal source",
	"obs:" + bordereau.ObsNotSampled:    "not selected by the sampling",
}

func (e *serveEliminations) Proposal(_ context.Context, u server.User, id string, tag language.Tag) (server.ProposalReview, error) {
	f, r, err := e.find(id)
	if err != nil {
		return server.ProposalReview{}, err
	}
	p := f.p
	pr := lang.Printer(tag)
	rev := server.ProposalReview{ProposalSummary: summary(p, r)}
	name := func(id, n string) string {
		if n == "" || n == id {
			return id
		}
		return n + " (" + id + ")"
	}
	add := func(label, v string) {
		if v != "" {
			rev.Header = append(rev.Header, server.Field{Label: pr.Sprintf(label), Value: v})
		}
	}
	add("Proposal identifier", p.ID)
	add("Establishment", p.Establishment)
	add("Profile", p.Profile)
	add("Proposed on", p.Date.String())
	add("Proposed by", p.ProposedBy)
	add("Originating agency", name(p.Originating.ID, p.Originating.Name))
	add("Transferring agency", name(p.Transferring.ID, p.Transferring.Name))
	add("Archival agency", name(p.Archival.ID, p.Archival.Name))
	add("Dossiers, in all", fmt.Sprint(p.Dossiers))
	for _, r := range p.Rules {
		v := r.ID
		if r.Title != "" {
			v += " — " + r.Title
		}
		if r.Basis != "" {
			v += " (" + r.Basis + ")"
		}
		add("Rule", v)
	}
	var visa *ledger.Elimination
	if r.visa != nil {
		visa = r.visa.Elimination
		rev.VisaDate, rev.VisaSignatory = visa.Date, visa.Signatory
	}
	for _, l := range p.Lots {
		var obs []string
		for _, o := range l.Observations {
			obs = append(obs, value(tag, "obs", o))
		}
		rule := l.Rule.ID
		if l.Rule.DUA != "" {
			rule += " (DUA " + l.Rule.DUA + ")"
		}
		pl := server.ProposalLot{ID: l.ID, Class: l.Class, Rule: rule, DUAEndYear: l.DUAEndYear, Dossiers: l.Dossiers,
			FinalAction: value(tag, "final", l.FinalAction), Observations: strings.Join(obs, " ; ")}
		if visa != nil {
			switch {
			case slices.Contains(visa.Accepted, l.ID):
				pl.Decision = server.DecisionAccepted
			case slices.Contains(visa.Refused, l.ID):
				pl.Decision = server.DecisionRefused
			}
		}
		rev.Lots = append(rev.Lots, pl)
	}
	rev.MayRecord, rev.NotAllowed = e.mayRecord(u, p, tag)
	rev.Bordereau = e.bordereauOf(u, p) != ""
	return rev, nil
}

// bordereauOf is the printable bordereau of p, when this user may read it (its annex names the
// dossiers: the archives service's) and the bordereaux folder still has the one the run wrote
// with p's JSON.
func (e *serveEliminations) bordereauOf(u server.User, p *eliminate.Proposal) string {
	if e.Policy != nil && !e.Policy.MayRecordVisa(rolesUser(u)).Allowed {
		return ""
	}
	cur, err := e.read(e.current())
	if err != nil || cur == nil || cur.ID != p.ID {
		return ""
	}
	html := filepath.Join(e.Bordereaux, pipeline.EliminationFile+".html")
	if !fileExists(html) {
		return ""
	}
	return html
}

func (e *serveEliminations) Bordereau(_ context.Context, u server.User, id string, tag language.Tag) (server.Object, error) {
	f, _, err := e.find(id)
	if err != nil {
		return server.Object{}, err
	}
	path := e.bordereauOf(u, f.p)
	if path == "" {
		if e.Policy != nil {
			if d := e.Policy.MayRecordVisa(rolesUser(u)); !d.Allowed {
				return server.Object{}, server.Refuse(d.Message(tag))
			}
		}
		return server.Object{}, server.ErrNotFound
	}
	fh, err := os.Open(path)
	if err != nil {
		return server.Object{}, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return server.Object{}, err
	}
	return server.Object{Name: filepath.Base(path), ContentType: "text/html; charset=utf-8", Size: st.Size(), Body: fh}, nil
}

func (e *serveEliminations) RecordVisa(ctx context.Context, u server.User, id string, form server.VisaForm, tag language.Tag) (server.VisaRecorded, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, _, err := e.find(id)
	if err != nil {
		return server.VisaRecorded{}, err
	}
	v := &eliminate.Visa{Proposal: f.p.ID, Reference: form.Reference, Signatory: form.Signatory}
	if !form.Date.IsZero() {
		v.Date = civil.Of(form.Date)
	}
	for _, l := range f.p.Lots {
		switch form.Decisions[l.ID] {
		case server.DecisionAccepted:
			v.Lines = append(v.Lines, eliminate.Answer{Line: l.ID, Accepted: true})
		case server.DecisionRefused:
			v.Lines = append(v.Lines, eliminate.Answer{Line: l.ID})
		}
	}
	allowed, _ := e.mayRecord(u, f.p, tag)
	// The state folder's lock, as import-visa takes it: a run or an execution under way finishes
	// first, and two imports never interleave their files and ledger entry.
	led, release, err := lockLedger(e.State, e.Ledger)
	if err != nil {
		if strings.Contains(err.Error(), " is in use by ") {
			return server.VisaRecorded{}, server.Reject(lang.Printer(tag).Sprintf("state folder %s is in use by a run: record the visa again when it has ended", filepath.Base(e.State)))
		}
		return server.VisaRecorded{}, err
	}
	defer release()
	proposal := f.p.Path
	res, err := eliminate.ImportVisa(ctx, eliminate.ImportOptions{Decision: v, Proposal: proposal, State: e.State, Ledger: led,
		Roles: e.Policy, User: rolesUser(u), Lang: tag})
	if err != nil {
		var m interface{ Message(language.Tag) string }
		if errors.As(err, &m) {
			if !allowed {
				return server.VisaRecorded{}, server.Refuse(m.Message(tag))
			}
			return server.VisaRecorded{}, server.Reject(m.Message(tag))
		}
		return server.VisaRecorded{}, err
	}
	return server.VisaRecorded{Reference: res.Visa.Reference, Proposal: res.Proposal.ID, Entry: res.Entry.Seq, Already: res.Already,
		Accepted: res.Accepted, Refused: res.Refused, Unanswered: res.Unanswered, Dossiers: res.Dossiers}, nil
}
