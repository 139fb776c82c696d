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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
)

// TestInChromium opens the bordereaux in headless Chromium as an archivist would print them: the
// page loads with no console error and asks for nothing but itself (no font, script or image from
// elsewhere), it renders (a screenshot), and its A4 PDF print carries the visa block whole, on a
// page before the annex, which starts a page of its own.
func TestInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	pdftotext := testsvc.Pdftotext(t)
	elim := build(t, demoHeader(), demoDossiers())
	pages := map[string][]byte{}
	for name, doc := range map[string]Document{"elimination": elim, "versement": demoVersement(t)} {
		for _, tag := range []string{"fr", "en"} {
			var b bytes.Buffer
			if err := WriteHTML(&b, doc, lang.Parse(tag)); err != nil {
				t.Fatal(err)
			}
			pages["/"+name+"."+tag+".html"] = b.Bytes()
		}
	}
	var hitsMu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsMu.Lock()
		hits[r.URL.Path]++
		hitsMu.Unlock()
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
		visa  []string // text of the visa block, on one page
		annex string   // the annex's title, on a page after the visa; "" when there is none
	}
	cases := map[string]want{
		"/elimination.fr.html": {[]string{"Visa du chef du service d'archives", "Visa du chef du service producteur", "Signature :"}, "Annexe : dossiers proposés à l'élimination"},
		"/elimination.en.html": {[]string{"Visa of the head of the archives service", "Visa of the head of the producing service", "Signature:"}, "Annex: dossiers proposed for elimination"},
		"/versement.fr.html":   {[]string{"Visa du service versant", "Prise en charge par le service d'archives", "Signature :"}, ""},
		"/versement.en.html":   {[]string{"Visa of the transferring service", "Acceptance by the archives service", "Signature:"}, ""},
	}
	for path, w := range cases {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			url := srv.URL + path
			tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			// A4 is 794 CSS pixels wide: nothing may be wider, or the print cuts it off.
			if err := chromedp.Do(tctx, chromedp.EmulateViewport(794, 1123), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("visa"))); err != nil {
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
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil || img.Bounds().Dx() == 0 || img.Bounds().Dy() == 0 {
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
			visaPage := -1
			for i, p := range printed {
				if strings.Contains(p, w.visa[0]) {
					visaPage = i
					break
				}
			}
			if visaPage < 0 {
				t.Fatalf("the PDF print has no visa block %q:\n%s", w.visa[0], out)
			}
			for _, s := range w.visa[1:] {
				if !strings.Contains(printed[visaPage], s) {
					t.Errorf("the visa block is split: page %d has %q but not %q", visaPage+1, w.visa[0], s)
				}
			}
			if w.annex != "" {
				annexPage := -1
				for i, p := range printed {
					if strings.Contains(p, w.annex) {
						annexPage = i
					}
				}
				if annexPage <= visaPage {
					t.Errorf("the annex (page %d) does not start after the visa (page %d)", annexPage+1, visaPage+1)
				} else if before, _, _ := strings.Cut(printed[annexPage], w.annex); strings.TrimSpace(before) != "" {
					t.Errorf("the annex does not start its page: %q before it", before)
				}
				if !strings.Contains(string(out), "E0005") {
					t.Errorf("the annex's dossiers are not printed:\n%s", printed[len(printed)-2:])
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
	hitsMu.Lock()
	defer hitsMu.Unlock()
	for p, n := range hits {
		if _, ok := pages[p]; !ok || n != 1 {
			t.Errorf("the server was asked %d times for %s", n, p)
		}
	}
}
