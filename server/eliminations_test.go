package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/versement/versement/server"
)

const proposalID = "ELIM-APOGEE-20261130-1A2B3C4D"

// fakeEliminations answers from memory and records the visas it is asked to record.
type fakeEliminations struct {
	mu         sync.Mutex
	notAllowed string // when set, the user may not record: this is why
	recordErr  error
	visas      []server.VisaForm
	users      []server.User
	tags       []language.Tag
}

func (f *fakeEliminations) Proposals(_ context.Context, _ server.User) ([]server.ProposalSummary, error) {
	return []server.ProposalSummary{
		{ID: proposalID, Profile: "apogee", Date: "2026-11-30", Lots: 2, Dossiers: 57},
		{ID: "ELIM-APOGEE-20251130-99887766", Profile: "apogee", Date: "2025-11-30", Lots: 1, Dossiers: 12, Visa: "AD-2025-03", VisaEntry: 4, Executed: true},
	}, nil
}

func (f *fakeEliminations) Proposal(_ context.Context, _ server.User, id string, _ language.Tag) (server.ProposalReview, error) {
	if id != proposalID {
		return server.ProposalReview{}, server.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return server.ProposalReview{
		ProposalSummary: server.ProposalSummary{ID: proposalID, Profile: "apogee", Date: "2026-11-30", Lots: 2, Dossiers: 57},
		Header:          []server.Field{{Label: "Service producteur", Value: "Scolarité (SCOL)"}, {Label: "Proposé par", Value: "claire"}},
		Lots: []server.ProposalLot{
			{ID: proposalID + "/L001", Class: "inscriptions", Rule: "APP-APO-INS (DUA 10y)", DUAEndYear: 2025, Dossiers: 45, FinalAction: "destruction"},
			{ID: proposalID + "/L002", Class: "examens", Rule: "APP-APO-EXA (DUA 5y)", DUAEndYear: 2024, Dossiers: 12, FinalAction: "tri", Observations: "non retenu par l'échantillonnage"},
		},
		Bordereau:  f.notAllowed == "",
		MayRecord:  f.notAllowed == "",
		NotAllowed: f.notAllowed,
	}, nil
}

func (f *fakeEliminations) Bordereau(_ context.Context, _ server.User, id string, _ language.Tag) (server.Object, error) {
	if f.notAllowed != "" {
		return server.Object{}, server.Refuse(f.notAllowed)
	}
	body := "<!DOCTYPE html><html><head><style>body{font-size:10pt}</style></head><body><h1>Bordereau " + id + "</h1></body></html>"
	return server.Object{Name: "bordereau-elimination.html", ContentType: "text/html", Size: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}, nil
}

func (f *fakeEliminations) RecordVisa(_ context.Context, u server.User, id string, v server.VisaForm, tag language.Tag) (server.VisaRecorded, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.visas = append(f.visas, v)
	f.users = append(f.users, u)
	f.tags = append(f.tags, tag)
	if f.recordErr != nil {
		return server.VisaRecorded{}, f.recordErr
	}
	acc, ref := 0, 0
	for _, d := range v.Decisions {
		if d == server.DecisionAccepted {
			acc++
		} else {
			ref++
		}
	}
	return server.VisaRecorded{Reference: v.Reference, Proposal: id, Entry: 7, Accepted: acc, Refused: ref, Unanswered: 2 - acc - ref, Dossiers: 45}, nil
}

func (f *fakeEliminations) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.visas)
}

func elimEnv(t *testing.T) (*env, *fakeEliminations) {
	t.Helper()
	fe := &fakeEliminations{}
	cfg := demoConfig()
	cfg.Eliminations = fe
	return newEnv(t, cfg), fe
}

func visaForm(csrf string) url.Values {
	return url.Values{
		"csrf":       {csrf},
		"reference":  {"AD-2026-17"},
		"date":       {"2026-12-01"},
		"signatory":  {"Claire Dupont, directrice des archives"},
		"decision-0": {"accepted"},
		"decision-1": {""},
	}
}

func TestEliminationsListAndReview(t *testing.T) {
	e, _ := elimEnv(t)
	home := e.signOnDemo()
	mustContain(t, home, `<a href="/eliminations">Éliminations</a>`)
	list := e.get("/eliminations")
	if list.status != http.StatusOK {
		t.Fatalf("/eliminations: %d\n%s", list.status, list.body)
	}
	mustContain(t, list, "<h1>Propositions d&#39;élimination</h1>", `<a href="/eliminations/`+proposalID+`">`+proposalID+`</a>`, "en attente du visa", "AD-2025-03 (exécuté)", "<td>57</td>")

	p := e.get("/eliminations/" + proposalID)
	if p.status != http.StatusOK {
		t.Fatalf("review: %d\n%s", p.status, p.body)
	}
	mustContain(t, p, "<h1>Proposition d&#39;élimination "+proposalID+"</h1>",
		"<dt>Service producteur</dt><dd>Scolarité (SCOL)</dd>",
		"<td>L002</td><td>examens</td><td>APP-APO-EXA (DUA 5y)</td><td>2024</td><td>12</td><td>tri</td><td>non retenu par l&#39;échantillonnage</td>",
		`<form method="post" action="/eliminations/`+proposalID+`/visa" class="visa">`,
		`name="decision-0" value="accepted"`, `name="decision-1" value="refused"`, `id="d-1-n" name="decision-1" value="" checked`,
		`name="reference"`, `name="date" type="date" value="2026-12-04"`, `name="signatory"`,
		`href="/eliminations/`+proposalID+`/bordereau"`, "Enregistrer le visa")
	csrfOf(t, p)

	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/eliminations/"+proposalID, nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	if en := e.do(req); !strings.Contains(en.body, "<h1>Proposal of elimination "+proposalID+"</h1>") || !strings.Contains(en.body, "Record the visa") || !strings.Contains(en.body, `lang="en"`) {
		t.Errorf("the review in English:\n%s", en.body)
	}
	if p := e.get("/eliminations/ELIM-NOT-THERE"); p.status != http.StatusNotFound {
		t.Errorf("unknown proposal: %d", p.status)
	}
	if p := e.get("/eliminations/ELIM%20X"); p.status != http.StatusNotFound {
		t.Errorf("an id that is not one: %d", p.status)
	}
}

func TestEliminationsNeedASignOn(t *testing.T) {
	e, fe := elimEnv(t)
	if p := e.get("/eliminations"); p.url.Path != "/login" {
		t.Errorf("/eliminations without a session went to %s", p.url.Path)
	}
	if p := e.post("/eliminations/"+proposalID+"/visa", visaForm("x")); p.status != http.StatusUnauthorized {
		t.Errorf("a visa without a session: %d", p.status)
	}
	if fe.calls() != 0 {
		t.Errorf("%d visas recorded without a session", fe.calls())
	}
}

func TestRecordVisaFromTheForm(t *testing.T) {
	e, fe := elimEnv(t)
	e.signOnDemo()
	csrf := csrfOf(t, e.get("/eliminations/"+proposalID))
	p := e.post("/eliminations/"+proposalID+"/visa", visaForm(csrf))
	if p.status != http.StatusOK {
		t.Fatalf("record: %d\n%s", p.status, p.body)
	}
	mustContain(t, p, `<p class="recorded" role="status">Visa AD-2026-17 enregistré pour la proposition `+proposalID+` (entrée 7 du journal) : 1 lot(s) accepté(s) (45 dossiers), 0 refusé(s), 1 sans réponse.</p>`)
	if fe.calls() != 1 {
		t.Fatalf("%d visas recorded", fe.calls())
	}
	v, u := fe.visas[0], fe.users[0]
	want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if v.Reference != "AD-2026-17" || !v.Date.Equal(want) || v.Signatory != "Claire Dupont, directrice des archives" ||
		len(v.Decisions) != 1 || v.Decisions[proposalID+"/L001"] != server.DecisionAccepted {
		t.Errorf("the visa as recorded: %+v", v)
	}
	if u.ID != "demo" || u.Via != server.ViaLocal || len(u.Groups) != 1 || u.Groups[0] != "archives" {
		t.Errorf("recorded as %+v", u)
	}
	if fe.tags[0] != language.French {
		t.Errorf("language %v", fe.tags[0])
	}
}

func TestRecordVisaRefusals(t *testing.T) {
	e, fe := elimEnv(t)
	e.signOnDemo()
	csrf := csrfOf(t, e.get("/eliminations/"+proposalID))
	path := "/eliminations/" + proposalID + "/visa"

	// No token, or another's: refused before anything is recorded.
	noToken := visaForm("")
	noToken.Del("csrf")
	for name, form := range map[string]url.Values{"no token": noToken, "wrong token": visaForm(csrf[:len(csrf)-2] + "xx")} {
		p := e.post(path, form)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Ce formulaire a expiré ou n&#39;a pas été envoyé depuis ce site") {
			t.Errorf("%s: %d\n%s", name, p.status, p.body)
		}
	}
	if p := e.post(path, visaForm(csrf), "Origin", "https://evil.example"); p.status != http.StatusForbidden {
		t.Errorf("cross origin: %d", p.status)
	}
	if n := fe.calls(); n != 0 {
		t.Fatalf("%d visas reached the implementation through refused forms", n)
	}

	// What the server checks itself: a date that is not one, a decision that is not one. The
	// form comes back with what was entered.
	bad := visaForm(csrf)
	bad.Set("date", "01/12/2026")
	p := e.post(path, bad)
	if p.status != http.StatusBadRequest {
		t.Fatalf("a date in the French way: %d", p.status)
	}
	mustContain(t, p, "La date du visa n&#39;est pas une date (AAAA-MM-JJ).", `value="AD-2026-17"`, `value="Claire Dupont, directrice des archives"`, `id="d-0-a" name="decision-0" value="accepted" checked`)
	bad = visaForm(csrf)
	bad.Set("decision-1", "peut-être")
	if p := e.post(path, bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, "ni accepté, ni refusé, ni sans réponse") {
		t.Errorf("a decision that is not one: %d\n%s", p.status, p.body)
	}
	if n := fe.calls(); n != 0 {
		t.Fatalf("%d visas reached the implementation with a bad form", n)
	}

	// What the implementation refuses, in its own words: a missing reference is the form's
	// fault (400, the form again), four eyes is who records (403).
	noRef := "le visa n'a pas de référence : rien n'est détruit sans le numéro du visa des archives"
	fe.recordErr = server.Reject(noRef)
	form := visaForm(csrf)
	form.Set("reference", "")
	p = e.post(path, form)
	if p.status != http.StatusBadRequest {
		t.Fatalf("no reference: %d", p.status)
	}
	mustContain(t, p, `<p class="notice" role="alert">le visa n&#39;a pas de référence : rien n&#39;est détruit sans le numéro du visa des archives</p>`, `action="/eliminations/`+proposalID+`/visa"`)
	if fe.visas[0].Reference != "" {
		t.Errorf("the reference sent: %q", fe.visas[0].Reference)
	}

	fourEyes := "double regard : demo a fait la proposition " + proposalID + ", le visa doit donc être enregistré par une autre personne du service d'archives"
	fe.recordErr = server.Refuse(fourEyes)
	p = e.post(path, visaForm(csrf))
	if p.status != http.StatusForbidden {
		t.Fatalf("four eyes: %d", p.status)
	}
	mustContain(t, p, "<h1>Accès refusé</h1>", strings.ReplaceAll(fourEyes, "'", "&#39;"))
	if p := e.post("/eliminations/ELIM-NOT-THERE/visa", visaForm(csrf)); p.status != http.StatusNotFound {
		t.Errorf("a visa on an unknown proposal: %d", p.status)
	}
}

func TestRecordVisaNeedsTheRole(t *testing.T) {
	e, fe := elimEnv(t)
	why := "demo ne peut pas enregistrer de visa : vos rôles (scolarite) ne sont pas ceux du service d'archives : seul le visa de son responsable autorise une élimination (Code du patrimoine, art. R212-14)"
	fe.notAllowed = why
	e.signOnDemo()
	p := e.get("/eliminations/" + proposalID)
	if p.status != http.StatusOK {
		t.Fatalf("review: %d", p.status)
	}
	if strings.Contains(p.body, `action="/eliminations/`) || strings.Contains(p.body, "/bordereau") {
		t.Errorf("the form or the bordereau is offered to who may not record:\n%s", p.body)
	}
	mustContain(t, p, `<p class="notice">`+strings.ReplaceAll(why, "'", "&#39;")+`</p>`)
	// Posting anyway (a form kept from another page, a hand-made request) is refused.
	p = e.post("/eliminations/"+proposalID+"/visa", visaForm(csrfOf(t, p)))
	if p.status != http.StatusForbidden {
		t.Fatalf("post without the role: %d", p.status)
	}
	mustContain(t, p, "<h1>Accès refusé</h1>", strings.ReplaceAll(why, "'", "&#39;"))
	if fe.calls() != 0 {
		t.Errorf("the implementation was asked to record %d visas for who may not", fe.calls())
	}
	if p := e.get("/eliminations/" + proposalID + "/bordereau"); p.status != http.StatusForbidden {
		t.Errorf("the bordereau for who may not record: %d", p.status)
	}
}

func TestBordereauIsServedInASandbox(t *testing.T) {
	e, _ := elimEnv(t)
	e.signOnDemo()
	p := e.get("/eliminations/" + proposalID + "/bordereau")
	if p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Bordereau "+proposalID+"</h1>") {
		t.Fatalf("bordereau: %d\n%s", p.status, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox; default-src 'none'") || strings.Contains(csp, "script") {
		t.Errorf("bordereau CSP %q", csp)
	}
	if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("bordereau Content-Type %q", ct)
	}
}

func TestNoEliminationPagesWithoutEliminations(t *testing.T) {
	e := newEnv(t, demoConfig())
	home := e.signOnDemo()
	if strings.Contains(home.body, "/eliminations") {
		t.Errorf("a link to the eliminations without them:\n%s", home.body)
	}
	if p := e.get("/eliminations"); p.status != http.StatusNotFound {
		t.Errorf("/eliminations: %d", p.status)
	}
}
