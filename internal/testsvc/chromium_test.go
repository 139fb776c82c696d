package testsvc

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromium proves the helper starts a browser that renders a page and runs its script, and
// that the flags leave it answering on a closed network.
func TestChromium(t *testing.T) {
	ctx := Chromium(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(`data:text/html,<p id="x">bordereau</p>`)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("x")))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := chromedp.Run(ctx, chromedp.Evaluate[int](`20 + 22`))
	if err != nil {
		t.Fatal(err)
	}
	if text != "bordereau" || sum != 42 {
		t.Errorf("got %q and %d, want bordereau and 42", text, sum)
	}
}
