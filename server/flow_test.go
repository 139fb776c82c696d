package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/server"
)

func TestSearchOpenFicheDownloadAndAccessLog(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	p := e.post("/search", searchForm(csrf))
	if p.status != 200 {
		t.Fatalf("search: %d\n%s", p.status, p.body)
	}
	mustContain(t, p, "<h2>Dossiers trouvés</h2>", "<td>DUPONT Éléonore</td>", ">Ouvrir la fiche</a>", "/access-log\">Accès</a>", `<option value="access" selected>`)
	q := e.fake.searches[0]
	if q.Text != "Dupont-Éléonore" || q.Identifier != "21904567" || !q.Born.Equal(time.Date(1990, 4, 12, 0, 0, 0, 0, time.UTC)) || q.Year != 0 {
		t.Fatalf("query %+v", q)
	}
	if m := e.fake.motives[0]; m != (server.Motive{Category: "access", Text: "Demande RGPD n° 2026-118"}) {
		t.Fatalf("motive %+v", m)
	}
	if u := e.fake.users[0]; u.ID != "demo" || u.Via != server.ViaLocal || strings.Join(u.Groups, ",") != "archives" {
		t.Fatalf("user %+v", u)
	}
	hs := handlesOf(p)
	if len(hs) != 2 || hs[0] == hs[1] || len(hs[0]) != 22 {
		t.Fatalf("handles %q", hs)
	}
	if strings.Contains(p.body, "ref-apogee") {
		t.Fatal("the consultation's ref reached the page")
	}

	f := e.get("/fiche/" + hs[0])
	if f.status != 200 {
		t.Fatalf("fiche: %d\n%s", f.status, f.body)
	}
	mustContain(t, f, "<h1>Fiche de DUPONT Éléonore</h1>", `<p class="motive">Consulté pour : Droit d&#39;accès — Demande RGPD n° 2026-118</p>`, "<dd>ref-apogee-42</dd>", `href="/fiche/`+hs[0]+`/object/0" download>Photo (JPEG)</a>`,
		`href="/fiche/`+hs[0]+`/access-log">Qui a consulté ce dossier</a>`)
	if got := f.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("fiche Cache-Control %q", got)
	}
	if e.fake.fiches[0] != "ref-apogee-42" || e.fake.motives[1].Text != "Demande RGPD n° 2026-118" {
		t.Fatalf("fiche asked for %q with %+v", e.fake.fiches[0], e.fake.motives[1])
	}

	d := e.get("/fiche/" + hs[0] + "/object/0")
	if d.status != 200 || d.body != "bytes of obj/photo-42.jpg in ref-apogee-42" {
		t.Fatalf("download: %d %q", d.status, d.body)
	}
	if got, want := d.header.Get("Content-Disposition"), `attachment; filename="photo__l_ve.jpg"; filename*=UTF-8''photo%20%C3%A9l%C3%A8ve.jpg`; got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	if got := d.header.Get("Content-Security-Policy"); got != "sandbox; default-src 'none'" {
		t.Errorf("download CSP %q", got)
	}
	if p := e.get("/fiche/" + hs[0] + "/object/2"); p.status != 404 {
		t.Errorf("download out of range: %d", p.status)
	}

	l := e.get("/fiche/" + hs[0] + "/access-log")
	mustContain(t, l, "<h1>Journal des accès au dossier</h1>", "<th scope=\"col\">Quand</th>", "<td>2026-12-04 03:00</td>")

	// A handle is worth nothing in another session, and expires.
	mine := e.client
	e.client = newClient(t)
	e.signOnDemo()
	if p := e.get("/fiche/" + hs[0]); p.status != 404 || !strings.Contains(p.body, "Ce lien a expiré ou appartient à une autre session : refaites la recherche.") {
		t.Fatalf("handle in another session: %d\n%s", p.status, p.body)
	}
	e.client = mine
	e.clock.Advance(31 * time.Minute)
	if p := e.get("/"); p.status != http.StatusUnauthorized {
		t.Fatalf("idle 31 min: %d", p.status)
	}
}

func TestHandleExpiresBeforeTheSession(t *testing.T) {
	cfg := demoConfig()
	cfg.HandleTTL = 5 * time.Minute
	e := newEnv(t, cfg)
	hs := handlesOf(e.post("/search", searchForm(csrfOf(t, e.signOnDemo()))))
	e.clock.Advance(6 * time.Minute)
	if p := e.get("/fiche/" + hs[0]); p.status != 404 {
		t.Fatalf("expired handle: %d", p.status)
	}
	if len(e.fake.fiches) != 0 {
		t.Fatal("an expired handle reached the consultation")
	}
}

func TestMotiveAndCriteriaAreRequired(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	cases := []struct {
		change func(url.Values)
		want   string
	}{
		{func(v url.Values) { v.Del("motive_category") }, "Choisissez la catégorie du motif."},
		{func(v url.Values) { v.Set("motive_category", "curiosity") }, "Choisissez la catégorie du motif."},
		{func(v url.Values) { v.Set("motive_text", "  ") }, "Précisez le motif."},
		{func(v url.Values) { v.Set("motive_text", strings.Repeat("é", 1001)) }, "Les précisions du motif sont trop longues (1000 caractères au plus)."},
		{func(v url.Values) { v.Set("born", "12/04/1990") }, "La date de naissance n&#39;est pas une date (jour/mois/année)."},
		{func(v url.Values) { v.Set("year", "19a0") }, "L&#39;année d&#39;inscription n&#39;est pas une année."},
		{func(v url.Values) { v.Del("text"); v.Del("identifier") }, "Indiquez un nom, un identifiant ou une année d&#39;inscription."},
	}
	for _, c := range cases {
		v := searchForm(csrf)
		c.change(v)
		p := e.post("/search", v)
		if p.status != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", c.want, p.status)
		}
		mustContain(t, p, `<p class="notice" role="alert">`+c.want+`</p>`)
	}
	if n := e.fake.searchCount(); n != 0 {
		t.Fatalf("%d invalid searches reached the consultation", n)
	}
	// The form keeps what was typed, so that the user corrects rather than retypes.
	v := searchForm(csrf)
	v.Del("motive_category")
	mustContain(t, e.post("/search", v), `value="Dupont-Éléonore"`, "Demande RGPD n° 2026-118</textarea>")
}

func TestConsultationErrorsGiveTheirPages(t *testing.T) {
	e := newEnv(t, demoConfig())
	csrf := csrfOf(t, e.signOnDemo())
	cases := []struct {
		err    error
		status int
		want   string
	}{
		{server.Refuse("Les archives intermédiaires de la scolarité ne sont consultables que par le service de la scolarité."), 403,
			"Les archives intermédiaires de la scolarité ne sont consultables que par le service de la scolarité."},
		{errors.Join(errors.New("tier final"), server.ErrRefused), 403, "Vos rôles ne permettent pas cette consultation."},
		{server.ErrNotFound, 404, "Ce dossier n&#39;est pas, ou plus, dans les archives."},
		{errBoom, 500, "Le serveur n&#39;a pas pu répondre."},
	}
	for _, c := range cases {
		e.fake.err = c.err
		p := e.post("/search", searchForm(csrf))
		if p.status != c.status {
			t.Errorf("%v: %d, want %d", c.err, p.status, c.status)
		}
		mustContain(t, p, c.want)
		if strings.Contains(p.body, "database is locked") {
			t.Errorf("%v: the error's text reached the page", c.err)
		}
	}
	if !strings.Contains(e.log.String(), `"err":"index: database is locked"`) {
		t.Errorf("the 500's cause is not in the server log:\n%s", e.log.String())
	}
}

func TestBrokenDownloadCutsTheConnection(t *testing.T) {
	e := newEnv(t, demoConfig())
	hs := handlesOf(e.post("/search", searchForm(csrfOf(t, e.signOnDemo()))))
	e.get("/fiche/" + hs[0])
	e.fake.objectErr = errors.New("digest of obj/photo-42.jpg does not match the manifest")
	resp, err := e.client.Get(e.srv.URL + "/fiche/" + hs[0] + "/object/0")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a download whose object failed its digest arrived whole")
	}
}

func TestEnglishForAnEnglishBrowser(t *testing.T) {
	e := newEnv(t, demoConfig())
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9,fr;q=0.5")
	p := e.do(req)
	mustContain(t, p, `<html lang="en">`, "Sign on as the demo user")
	fr := e.get("/login")
	mustContain(t, fr, `<html lang="fr">`, "Se connecter comme utilisateur de démonstration")

	cfg := demoConfig()
	cfg.Lang = "fr_FR.UTF-8"
	forced := newEnv(t, cfg)
	req2, _ := http.NewRequest(http.MethodGet, forced.srv.URL+"/login", nil)
	req2.Header.Set("Accept-Language", "en")
	mustContain(t, forced.do(req2), `<html lang="fr">`)
}

// The request log holds method, route, status, duration and a hash of the user: never a
// searched name, identifier or date, a motive, a handle or a ref.
func TestNoPersonalDataInTheServerLog(t *testing.T) {
	cfg := demoConfig()
	cfg.Demo.User = "agent.archives"
	e := newEnv(t, cfg)
	csrf := csrfOf(t, e.signOnDemo())
	p := e.post("/search", searchForm(csrf))
	hs := handlesOf(p)
	e.get("/fiche/" + hs[0])
	e.get("/fiche/" + hs[0] + "/object/1")
	e.get("/fiche/" + hs[0] + "/access-log")
	bad := searchForm(csrf)
	bad.Set("born", "12 avril 1990")
	e.post("/search", bad)
	e.get("/fiche/" + hs[1] + "?nom=Dupont")

	log := e.log.String()
	for _, secret := range []string{"Dupont", "DUPONT", "Éléonore", "21904567", "1990-04-12", "avril 1990", "RGPD", "2026-118", "ref-apogee", hs[0], hs[1], "photo", "agent.archives", csrf} {
		if strings.Contains(log, secret) {
			t.Errorf("the server log holds %q:\n%s", secret, log)
		}
	}
	for _, want := range []string{`"route":"POST /search"`, `"route":"GET /fiche/{h}"`, `"route":"GET /fiche/{h}/object/{n}"`, `"status":400`, `"user":"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	if n := strings.Count(log, `"msg":"http request"`); n < 8 {
		t.Errorf("%d request lines, want one per request:\n%s", n, log)
	}
}

// failingStore is a shared session store that is down.
type failingStore struct{}

func (failingStore) Get(context.Context, string) (*server.Session, error) {
	return nil, errors.New("session store: connection refused")
}
func (failingStore) Put(context.Context, *server.Session) error {
	return errors.New("session store: connection refused")
}
func (failingStore) Delete(context.Context, string) error {
	return errors.New("session store: connection refused")
}

func TestASessionStoreDownGivesTheServerErrorPage(t *testing.T) {
	cfg := demoConfig()
	cfg.Sessions = failingStore{}
	e := newEnv(t, cfg)
	p := e.get("/login")
	if p.status != http.StatusInternalServerError {
		t.Fatalf("%d", p.status)
	}
	mustContain(t, p, "<h1>Erreur du serveur</h1>")
	if strings.Contains(p.body, "connection refused") {
		t.Fatal("the cause reached the page")
	}
}

func TestAnOversizedFormIsRefused(t *testing.T) {
	e := newEnv(t, demoConfig())
	v := searchForm(csrfOf(t, e.signOnDemo()))
	v.Set("text", strings.Repeat("x", 70<<10))
	p := e.post("/search", v)
	if p.status != http.StatusBadRequest {
		t.Fatalf("%d", p.status)
	}
	mustContain(t, p, "Le formulaire n&#39;a pas pu être lu.")
	if e.fake.searchCount() != 0 {
		t.Fatal("an oversized form reached the consultation")
	}
}
