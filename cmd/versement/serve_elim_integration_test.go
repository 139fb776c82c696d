package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/text/language"

	"github.com/versement/versement/eliminate"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
	"github.com/versement/versement/transfer/ledger"
)

// noConsultation is a consultation that finds nothing: these tests are about the eliminations.
type noConsultation struct{}

func (noConsultation) Motives(language.Tag) []server.MotiveCategory { return nil }
func (noConsultation) Search(context.Context, server.User, server.SearchQuery, server.Motive) (server.SearchResult, error) {
	return server.SearchResult{}, nil
}
func (noConsultation) Fiche(context.Context, server.User, string, server.Motive) (server.Fiche, error) {
	return server.Fiche{}, server.ErrNotFound
}
func (noConsultation) Download(context.Context, server.User, string, string, server.Motive) (server.Object, error) {
	return server.Object{}, server.ErrNotFound
}
func (noConsultation) AccessLog(context.Context, server.User, string, server.Motive) (server.Table, error) {
	return server.Table{}, server.ErrNotFound
}

// proposalRun is a run that proposes dossiers for elimination, as TestEliminateImportVisa's: the
// bordereaux folder, the state folder, and the proposal.
func proposalRun(t *testing.T) (docs, state string, p *eliminate.Proposal) {
	t.Helper()
	dir := t.TempDir()
	prof, db := samplingProfile(t, dir), seededDemo(t, 200)
	docs, state = filepath.Join(dir, "bordereaux"), filepath.Join(dir, "state")
	if out, code := run(t, "--lang", "fr", "run", "--profile", prof, "--source", db, "--dry-run", "--as-of", "2026-11-30", "--bordereaux", docs, "--state", state); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	p, err := eliminate.ReadProposal(filepath.Join(docs, pipeline.EliminationFile+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Lots) == 0 || p.ProposedBy == "" {
		t.Fatalf("the run proposed %d lots, by %q", len(p.Lots), p.ProposedBy)
	}
	return docs, state, p
}

func demoPolicy(t *testing.T) *roles.Policy {
	t.Helper()
	pol, err := roles.Parse("demo roles", []byte(demoRoles))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// elimServer is `versement serve --demo`'s server on the run's folders, the demo user named as
// given.
func elimServer(t *testing.T, docs, state string, demo server.DemoConfig) *httptest.Server {
	t.Helper()
	el := &serveEliminations{State: state, Ledger: pipeline.DefaultLedger(state), Bordereaux: docs, Policy: demoPolicy(t)}
	s, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", Lang: "fr", Demo: &demo, Eliminations: el}, noConsultation{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return hs
}

// TestServeRecordsAVisaInChromium: versement serve --demo on the folders of a run that proposed
// dossiers for elimination, in headless Chromium: the demo user (the archives service in the demo
// roles) opens the proposals, reviews the run's proposal and its printable bordereau, accepts lot
// L001 with a visa reference, date and signatory; the page says what the ledger recorded, the
// ledger has the visa entry with the demo user as who recorded it, and verify --ledger passes.
func TestServeRecordsAVisaInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	docs, state, p := proposalRun(t)
	hs := elimServer(t, docs, state, server.DemoConfig{User: "demo", Groups: []string{"demo"}})

	bl := testsvc.WatchBrowser(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	l1 := p.Lots[0].ID
	err := chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.Click(chromedp.CSS(`form[action="/login/demo"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/eliminations"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/eliminations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.proposals`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	listing, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.proposals`)))
	if err != nil || !strings.Contains(listing, p.ID) || !strings.Contains(listing, "en attente du visa") {
		t.Fatalf("the proposals: %v\n%s", err, listing)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/eliminations/`+p.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.visa`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	lots, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.lots`)))
	if err != nil || !strings.Contains(lots, strings.TrimPrefix(l1, p.ID+"/")) || !strings.Contains(lots, p.Lots[0].Class) {
		t.Errorf("the lots: %v\n%s", err, lots)
	}
	shot := func(name string) {
		if dir := os.Getenv("VERSEMENT_TEST_SCREENSHOTS"); dir != "" {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	shot("visa-form.png")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("d-0-a")),
		chromedp.SendKeys(chromedp.ID("visa-reference"), "AD-2026-17"),
		chromedp.SetValue(chromedp.ID("visa-date"), "2026-12-01"),
		chromedp.SendKeys(chromedp.ID("visa-signatory"), "Claire Dupont, directrice des archives"),
		chromedp.Click(chromedp.CSS(`form.visa button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.recorded`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	said, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.recorded`)))
	if err != nil || !strings.HasPrefix(said, "Visa AD-2026-17 enregistré pour la proposition "+p.ID+" (entrée ") || !strings.Contains(said, "1 lot(s) accepté(s)") {
		t.Errorf("the page says %q (%v)", said, err)
	}
	shot("visa-recorded.png")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.visa").length`)); err != nil || n != 0 {
		t.Errorf("the form is still offered after the visa: %d (%v)", n, err)
	}
	// The list says the proposal has its visa now.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/eliminations"]`)), chromedp.WaitVisible(chromedp.CSS(`table.proposals`)))
	if err != nil {
		t.Fatal(err)
	}
	if listing, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.proposals`))); err != nil || !strings.Contains(listing, "AD-2026-17") || strings.Contains(listing, "en attente du visa") {
		t.Errorf("the proposals after the visa: %v\n%s", err, listing)
	}
	// The printable bordereau, in its sandbox: it shows, without a console error (a blocked
	// style would be one).
	err = chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/eliminations/"+p.ID+"/bordereau"), chromedp.WaitVisible(chromedp.CSS(`body`)))
	if err != nil {
		t.Fatal(err)
	}
	if body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`))); err != nil || !strings.Contains(body, p.ID) {
		t.Errorf("the bordereau: %v\n%.500s", err, body)
	}
	requests, problems := bl.Reset()
	for _, r := range requests {
		if !strings.HasPrefix(r, hs.URL+"/") && !strings.HasPrefix(r, "data:") {
			t.Errorf("a request to another origin: %s", r)
		}
	}
	if len(problems) > 0 {
		t.Errorf("the pages had errors: %v", problems)
	}

	path := pipeline.DefaultLedger(state)
	led, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := led.Visa("AD-2026-17")
	led.Close()
	if !ok {
		t.Fatal("the ledger has no visa AD-2026-17")
	}
	el := e.Elimination
	if el.Proposal != p.ID || el.ProposalSHA256 != p.SHA256 || el.ImportedBy != "demo" || el.Date != "2026-12-01" ||
		el.Signatory != "Claire Dupont, directrice des archives" || !slices.Equal(el.Accepted, []string{l1}) || len(el.Refused) != 0 {
		t.Errorf("the ledger's visa: %+v", el)
	}
	if !strings.Contains(said, "(entrée "+strconv.FormatInt(e.Seq, 10)+" du journal)") {
		t.Errorf("the page says entry %q, the ledger %d", said, e.Seq)
	}
	if out, code := run(t, "verify", "--ledger", path); code != 0 {
		t.Fatalf("verify --ledger: exit %d\n%s", code, out)
	}
}

// browser is a cookie-keeping client of the server, for the pages without Chromium.
type browser struct {
	t  *testing.T
	c  *http.Client
	hs *httptest.Server
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b browser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.hs.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

func (b browser) csrf(page string) string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no csrf token in:\n%s", page)
	}
	return m[1]
}

func signedOn(t *testing.T, hs *httptest.Server) browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, hs: hs}
	_, login := b.do(http.MethodGet, "/login", nil)
	if code, page := b.do(http.MethodPost, "/login/demo", url.Values{"csrf": {b.csrf(login)}}); code != http.StatusOK {
		t.Fatalf("demo sign-on: %d\n%s", code, page)
	}
	return b
}

// escaped is text as html/template writes it in a page.
func escaped(s string) string {
	return strings.NewReplacer("'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestServeVisaRefusals, on a run's real proposal: who made the proposal, and who has no
// archives-service role, are told why in ImportVisa's own words, get no form, and a visa they
// post anyway is refused (403) and recorded nowhere; a visa without its reference is refused with
// the form again (400).
func TestServeVisaRefusals(t *testing.T) {
	docs, state, p := proposalRun(t)
	pol := demoPolicy(t)
	form := func(csrf, ref string) url.Values {
		return url.Values{"csrf": {csrf}, "reference": {ref}, "date": {"2026-12-01"}, "signatory": {"Claire Dupont"}, "decision-0": {"accepted"}}
	}
	// What import-visa says to these two, by the CLI's way: the message the page must show.
	cliSays := func(u roles.User) string {
		t.Helper()
		led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer led.Close()
		v := &eliminate.Visa{Proposal: p.ID, Reference: "AD-2026-17", Date: p.Date, Lines: []eliminate.Answer{{Line: p.Lots[0].ID, Accepted: true}}}
		_, err = eliminate.ImportVisa(context.Background(), eliminate.ImportOptions{Decision: v, Proposal: p.Path, State: t.TempDir(), Ledger: led, Roles: pol, User: u, Lang: lang.French})
		var m interface{ Message(language.Tag) string }
		if !errors.As(err, &m) {
			t.Fatalf("import-visa as %+v: %v", u, err)
		}
		return m.Message(lang.French)
	}
	for name, who := range map[string]server.DemoConfig{
		"the proposer":        {User: p.ProposedBy, Groups: []string{"demo"}},
		"not of the archives": {User: "scol", Groups: []string{"scolarite"}},
	} {
		t.Run(name, func(t *testing.T) {
			hs := elimServer(t, docs, state, who)
			b := signedOn(t, hs)
			want := escaped(cliSays(roles.User{ID: who.User, Groups: who.Groups}))
			code, page := b.do(http.MethodGet, "/eliminations/"+p.ID, nil)
			if code != http.StatusOK || strings.Contains(page, `action="/eliminations/`) || !strings.Contains(page, `<p class="notice">`+want+`</p>`) {
				t.Fatalf("review: %d, want no form and %q:\n%s", code, want, page)
			}
			code, page = b.do(http.MethodPost, "/eliminations/"+p.ID+"/visa", form(b.csrf(page), "AD-2026-17"))
			if code != http.StatusForbidden || !strings.Contains(page, want) {
				t.Fatalf("visa posted anyway: %d, want 403 and %q:\n%s", code, want, page)
			}
		})
	}
	if fileExists(pipeline.DefaultLedger(state)) {
		if _, err := ledger.Read(pipeline.DefaultLedger(state), func(e ledger.Entry) {
			if e.Kind == ledger.KindVisa {
				t.Errorf("a refused visa is in the ledger: %+v", e)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}

	hs := elimServer(t, docs, state, server.DemoConfig{User: "demo", Groups: []string{"demo"}})
	b := signedOn(t, hs)
	_, page := b.do(http.MethodGet, "/eliminations/"+p.ID, nil)
	code, page := b.do(http.MethodPost, "/eliminations/"+p.ID+"/visa", form(b.csrf(page), ""))
	want := escaped("le visa n'a pas de référence : rien n'est détruit sans le numéro du visa des archives")
	if code != http.StatusBadRequest || !strings.Contains(page, `<p class="notice" role="alert">`+want+`</p>`) || !strings.Contains(page, `value="Claire Dupont"`) {
		t.Fatalf("a visa without reference: %d\n%s", code, page)
	}
	// While a run holds the state folder, the visa waits for it, and the archivist is told so.
	lock, err := pipeline.LockState(state, pipeline.DefaultLedger(state))
	if err != nil {
		t.Fatal(err)
	}
	code, page = b.do(http.MethodPost, "/eliminations/"+p.ID+"/visa", form(b.csrf(page), "AD-2026-17"))
	lock.Close()
	want = escaped("le dossier d'état state est utilisé par une exécution : enregistrez le visa à nouveau quand elle sera terminée")
	if code != http.StatusBadRequest || !strings.Contains(page, want) {
		t.Fatalf("a visa while a run holds the state folder: %d\n%s", code, page)
	}
	// Without the token, nothing.
	code, _ = b.do(http.MethodPost, "/eliminations/"+p.ID+"/visa", url.Values{"reference": {"AD-2026-17"}, "date": {"2026-12-01"}, "decision-0": {"accepted"}})
	if code != http.StatusForbidden {
		t.Fatalf("a visa without the token: %d", code)
	}
	if fileExists(pipeline.DefaultLedger(state)) {
		if _, err := ledger.Read(pipeline.DefaultLedger(state), func(e ledger.Entry) {
			if e.Kind == ledger.KindVisa {
				t.Errorf("a refused visa is in the ledger: %+v", e)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
}
