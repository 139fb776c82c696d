package server_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/server"
)

// TestInChromium signs on through the OIDC provider in headless Chromium, searches with a motive,
// opens a fiche, prints it on A4 and opens its access log: no console error (a CSP violation is
// one), no request to another origin than the server once signed on, and the print holds the
// fiche without the page's navigation.
func TestInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	pdftotext := testsvc.Pdftotext(t)
	// The browser asks for English; an archives service's configuration says French.
	e, _, _ := oidcEnv(t, true, func(c *server.Config) { c.Lang = "fr" })
	bl := testsvc.WatchBrowser(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.Click(chromedp.CSS(`a.button[href="/login/oidc"]`)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "test-user@127.0.0.1"),
		chromedp.SendKeys(chromedp.ID("password"), "verysecure"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("motive-category")),
	)
	if err != nil {
		t.Fatalf("sign-on: %v", err)
	}
	// The provider's pages are not ours to judge (its favicon is a 404); ours are.
	_, errs := bl.Reset()
	for _, m := range errs {
		if strings.Contains(m, e.srv.URL) {
			t.Errorf("error on our pages while signing on: %s", m)
		}
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("motive-category"), "access"),
		chromedp.SendKeys(chromedp.ID("motive-text"), "Demande RGPD n° 2026-118"),
		chromedp.SendKeys(chromedp.ID("q-text"), "Dupont"),
		chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.results table`)),
	)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	shoot(t, ctx, "results.png")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`section.results a[href^="/fiche/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.fiche`)),
	)
	if err != nil {
		t.Fatalf("fiche: %v", err)
	}
	shoot(t, ctx, "fiche.png")
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`article.fiche h1`)))
	if lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != "fr" {
		t.Fatalf("page language %q: %v", lang, err)
	}
	if err != nil || title != "Fiche de DUPONT Éléonore" {
		t.Fatalf("fiche title %q: %v", title, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(loc); u.RawQuery != "" || strings.Contains(loc, "Dupont") {
		t.Errorf("the fiche's URL %q carries more than a handle", loc)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize()))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "fiche.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	printed := string(out)
	if !strings.Contains(printed, "Fiche de DUPONT Éléonore") || !strings.Contains(printed, "ref-apogee-42") {
		t.Errorf("the print lacks the fiche:\n%s", printed)
	}
	for _, hidden := range []string{"Se déconnecter", "Qui a consulté", "Télécharger"} {
		if strings.Contains(printed, hidden) {
			t.Errorf("the print shows %q, which is for the screen", hidden)
		}
	}
	if info, err := exec.LookPath("pdfinfo"); err == nil {
		out, err := exec.Command(info, file).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "(A4)") {
			t.Errorf("the print is not on A4: %v\n%s", err, out)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href$="/access-log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main table`)),
	)
	if err != nil {
		t.Fatalf("access log: %v", err)
	}
	requests, errs := bl.Reset()
	if len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if len(requests) < 5 {
		t.Errorf("only %d requests seen: %q", len(requests), requests)
	}
	for _, r := range requests {
		// data: URLs are the browser's own (the date field's icon), not a request out.
		if !strings.HasPrefix(r, e.srv.URL+"/") && !strings.HasPrefix(r, "data:") {
			t.Errorf("request to another origin: %s", r)
		}
	}

	// A refusal is a page of its own, with the Consultation's message.
	e.fake.mu.Lock()
	e.fake.err = server.Refuse("Les archives définitives ne sont consultables que par le service d'archives.")
	e.fake.mu.Unlock()
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href^="/fiche/"]`)), chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.notice`)))
	if err != nil || msg != "Les archives définitives ne sont consultables que par le service d'archives." {
		t.Errorf("refusal page says %q: %v", msg, err)
	}
}

// EnvScreenshots names a folder where TestInChromium leaves its screenshots (for the README).
const EnvScreenshots = "VERSEMENT_TEST_SCREENSHOTS"

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
