package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/consult"
	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/targets"
)

// TestServeQuickstartInChromium: versement serve --demo on the quickstart's archives, in headless
// Chromium: sign on as the demo user, search by name with a motive, open the fiche (read out of
// its SIP, photo shown), with no console error and no request to another origin; the view is in
// the access log. VERSEMENT_TEST_SCREENSHOTS=DIR leaves the fiche as fiche-quickstart.png (the
// README's picture).
func TestServeQuickstartInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	dir, inter, _ := consultDemo(t)
	state := filepath.Join(dir, "versement-state")
	pol, err := roles.Parse("demo roles", []byte(demoRoles))
	if err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(context.Background(), filepath.Join(state, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lg, err := accesslog.Open(filepath.Join(state, "access-log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	svc := &consult.Service{Index: st, Policy: pol, Log: lg, Lang: lang.French,
		OpenTarget: func(ctx context.Context, u string) (transfer.Target, error) {
			return targets.Open(ctx, u, targets.Options{})
		}}
	defer svc.Close()
	s, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", Lang: "fr", Demo: &server.DemoConfig{User: "demo", Groups: []string{"demo"}}},
		consult.Web{Service: svc, Lang: lang.French}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()

	bl := testsvc.WatchBrowser(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.Click(chromedp.CSS(`form[action="/login/demo"] button`)),
		chromedp.WaitVisible(chromedp.ID("motive-category")),
		chromedp.SetValue(chromedp.ID("motive-category"), "verification-diplome"),
		chromedp.SendKeys(chromedp.ID("motive-text"), "Attestation demandée le 03/12/2026"),
		chromedp.SendKeys(chromedp.ID("q-text"), inter.Person.FirstName+" "+inter.Person.BirthName),
		chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.results table`)),
		chromedp.Click(chromedp.CSS(`section.results a[href^="/fiche/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.fiche`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`article.fiche h1`)))
	if err != nil {
		t.Fatal(err)
	}
	tier, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("tier")))
	if err != nil {
		t.Fatal(err)
	}
	// A data: image decodes after the page is shown: wait for it (a broken one never gets a width).
	var photos []string
	for try := 0; try < 40; try++ {
		if photos, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("img.photo")].map(i => i.complete && i.naturalWidth > 0 ? "shown" : "not yet")`)); err != nil {
			t.Fatal(err)
		}
		if len(photos) > 0 && !slices.Contains(photos, "not yet") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if title != inter.Title || tier != "archivage intermédiaire" || len(photos) == 0 || slices.Contains(photos, "not yet") {
		t.Errorf("fiche: title %q (want %q), tier %q, photos %v", title, inter.Title, tier, photos)
	}
	if dir := os.Getenv("VERSEMENT_TEST_SCREENSHOTS"); dir != "" {
		// The top of the fiche, as a reader's screen shows it first.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 1250)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fiche-quickstart.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Who read this dossier: the page lists the view just made, in the CLI's words.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href$="/access-log"]`)), chromedp.WaitVisible(chromedp.CSS(`main table`))); err != nil {
		t.Fatal(err)
	}
	listing, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main table`)))
	if err != nil || !strings.Contains(listing, "consultation de la fiche") || !strings.Contains(listing, "demo (local)") || !strings.Contains(listing, "Attestation demandée le 03/12/2026") {
		t.Errorf("the access-log page: %v\n%s", err, listing)
	}
	if dir := os.Getenv("VERSEMENT_TEST_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "access-log-quickstart.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
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
	seen := false
	if err := lg.ForKey(context.Background(), inter.Profile, inter.Key, func(e accesslog.Entry) error {
		seen = seen || (e.Operation == accesslog.OpView && e.Result == accesslog.ResultOK && e.User.ID == "demo")
		return nil
	}); err != nil || !seen {
		t.Errorf("the view is not in the access log (%v)", err)
	}
}
