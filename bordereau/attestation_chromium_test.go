package bordereau

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
)

// TestAttestationInChromium prints the attestation as an archivist would, in headless Chromium:
// the page asks for nothing but itself and has no console error, nothing overflows A4, and its
// PDF print (A4) carries the certificate whole on one page, with the visa, the dossiers, the
// SIPs' hashes and the ledger's head; a dry run's print says at its top that nothing was destroyed.
func TestAttestationInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	pdftotext := testsvc.Pdftotext(t)
	pages := map[string][]byte{}
	for name, dry := range map[string]bool{"attestation": false, "simulation": true} {
		a := buildAttestation(t, demoAttestationHeader(dry), demoOutcomes())
		for _, tag := range []string{"fr", "en"} {
			var b bytes.Buffer
			if err := WriteAttestationHTML(&b, a, lang.Parse(tag)); err != nil {
				t.Fatal(err)
			}
			pages["/"+name+"."+tag+".html"] = b.Bytes()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(p)
	}))
	defer srv.Close()

	bl := testsvc.WatchBrowser(t, ctx)
	dir := t.TempDir()
	type want struct {
		first     string   // on the first page, before anything else
		text      []string // anywhere in the print
		statement []string // the certificate's, on one page
	}
	cases := map[string]want{
		"/attestation.fr.html": {"Attestation d'élimination", []string{"AD-2026-017", "Mme <b>Durand</b>", "DUPONT Marie", "a1a1a1a1", "aeeaaaaaachfmo3ean2ayamhkq3ysoaaaaba", "C0001", "sous gel"},
			[]string{"Certification", "R212-14", "5.1.e", "0f0f0f0f", "Certifié par le chef du service producteur", "Signature :"}},
		"/attestation.en.html": {"Attestation of elimination", []string{"AD-2026-017", "DUPONT Marie", "b2b2b2b2", "under a legal hold"},
			[]string{"Certificate", "R212-14", "5(1)(e)", "0f0f0f0f", "Certified by the head of the producing service", "Signature:"}},
		"/simulation.fr.html": {"SIMULATION — rien n'a été détruit", []string{"DUPONT Marie"},
			[]string{"Certification", "Simulation : rien n'a été détruit", "R212-14", "Signature :"}},
		"/simulation.en.html": {"SIMULATION — nothing was destroyed", []string{"DUPONT Marie"},
			[]string{"Certificate", "Simulation: nothing was destroyed", "R212-14", "Signature:"}},
	}
	// A line may break after a hyphen ("R212-" then "14"): the text is read with those joined.
	hyphen, space := regexp.MustCompile(`-[ \t]*\n\s*`), regexp.MustCompile(`\s+`)
	flatten := func(s string) string { return space.ReplaceAllString(hyphen.ReplaceAllString(s, "-"), " ") }
	for path, w := range cases {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			url := srv.URL + path
			tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := chromedp.Do(tctx, chromedp.EmulateViewport(794, 1123), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("certificate"))); err != nil {
				t.Fatal(err)
			}
			over, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map(e => e.tagName + ": " + e.textContent.slice(0, 40))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(over) > 0 {
				t.Errorf("%d elements overflow an A4 page, e.g. %q", len(over), over[0])
			}
			shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if img, err := png.Decode(bytes.NewReader(shot)); err != nil || img.Bounds().Dx() == 0 {
				t.Fatalf("screenshot is not a PNG with pixels: %v", err)
			}
			base := filepath.Join(dir, strings.TrimSuffix(strings.TrimPrefix(path, "/"), ".html"))
			if err := os.WriteFile(base+".png", shot, 0o644); err != nil {
				t.Fatal(err)
			}
			pdf, err := chromedp.Run(tctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(base+".pdf", pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			requests, errs := bl.Reset()
			for _, r := range requests {
				if r != url {
					t.Errorf("the page asked for %s besides itself", r)
				}
			}
			if len(errs) > 0 {
				t.Errorf("console errors: %q", errs)
			}
			out, err := exec.Command(pdftotext, "-layout", base+".pdf", "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			printed := strings.Split(string(out), "\f")
			if first := strings.TrimSpace(printed[0]); !strings.HasPrefix(first, w.first) {
				t.Errorf("the print starts with %q, want %q", first[:min(60, len(first))], w.first)
			}
			flat := flatten(string(out))
			for _, s := range w.text {
				if !strings.Contains(flat, s) {
					t.Errorf("the print lacks %q", s)
				}
			}
			page := -1
			for i, p := range printed {
				if strings.Contains(flatten(p), w.statement[1]) {
					page = i
				}
			}
			if page < 0 {
				t.Fatalf("the print has no certificate %q:\n%s", w.statement[1], out)
			}
			onPage := flatten(printed[page])
			for _, s := range w.statement {
				if !strings.Contains(onPage, s) {
					t.Errorf("the certificate is split: page %d has %q but not %q", page+1, w.statement[1], s)
				}
			}
			if info, err := exec.LookPath("pdfinfo"); err == nil {
				out, err := exec.Command(info, base+".pdf").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "(A4)") {
					t.Errorf("the print is not on A4 (@page size): %v\n%s", err, out)
				}
			}
		})
	}
}
