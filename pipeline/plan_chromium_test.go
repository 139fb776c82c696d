package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/testsvc"
)

// The plan opens in headless Chromium as a person opens it: nothing but the page is asked for, no
// console error, the bars the browser draws carry the JSON report's numbers, and it renders (a
// screenshot; VERSEMENT_TEST_PLAN_SCREENSHOT=FILE keeps it, as the README's picture was made).
func TestPlanInChromium(t *testing.T) {
	ctx := testsvc.Chromium(t)
	src := openDemo(t)
	rep, err := Run(context.Background(), Config{Profile: builtin(t, "apogee"), Source: src, AsOf: civil.Date{Year: 2026, Month: 11, Day: 30}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := rep.WritePlanHTML(&page, lang.French); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/plan.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()
	bl := testsvc.WatchBrowser(t, ctx)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	url := srv.URL + "/plan.html"
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1123, 794), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`section[data-chart="forecast"] svg`))); err != nil {
		t.Fatal(err)
	}
	// A4 landscape is 1123 CSS pixels wide: nothing may be wider, or the print cuts it off.
	over, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map(e => e.tagName)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(over) > 0 {
		t.Errorf("%d elements overflow an A4 landscape page: %v", len(over), over[:min(5, len(over))])
	}
	bars, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("section[data-chart] rect")].filter(r => r.getBBox().height > 0).map(r => r.closest("section").dataset.chart + "/" + r.dataset.series + "/" + r.dataset.label + "=" + r.dataset.count)`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	want := reportNumbers(t, rep)
	got := map[string]int64{}
	for _, b := range bars {
		k, v, _ := strings.Cut(b, "=")
		var n int64
		fmt.Sscan(v, &n)
		got[k] = n
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the bars Chromium drew\n %v\nthe report\n %v", got, want)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Errorf("screenshot: %v", err)
	}
	if path := os.Getenv("VERSEMENT_TEST_PLAN_SCREENSHOT"); path != "" {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
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
}
