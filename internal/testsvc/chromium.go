package testsvc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvChromium is the path of the Chromium binary, set by scripts/test (Debian package chromium).
const EnvChromium = "VERSEMENT_TEST_CHROMIUM"

// ChromiumStartTimeout bounds the browser's start: a shared CI machine can be slow, but a browser
// that does not answer in this time is broken, not slow.
const ChromiumStartTimeout = 90 * time.Second

// chromiumFlags keep a headless Chromium off the network: this machine's network is closed, and
// without them Chromium waits on refused connections (component updates, sync, QUIC probes).
var chromiumFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", true),
	chromedp.Flag("no-sandbox", true), // tests run as root in containers, where the sandbox cannot start
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("no-default-browser-check", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("mute-audio", true),
}

// ChromiumPath is the Chromium binary: $VERSEMENT_TEST_CHROMIUM, else chromium or
// chromium-browser on PATH. It skips the test when there is none, or fails it under CI.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			Unavailable(t, "%s=%s: %v", EnvChromium, p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Unavailable(t, "chromium not on PATH and %s not set (Debian package chromium)", EnvChromium)
	return ""
}

// Chromium starts a headless Chromium for the test, with a fresh profile in t.TempDir(), and
// returns a chromedp context on its first tab; the browser is closed when the test ends. A missing
// Chromium skips the test (fails it under CI); one that is there and does not start fails it.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath(t)
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	}, chromiumFlags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser and opens its tab. The browser lives as long as the context
	// of that call, so it gets no timeout of its own: a timer cancels it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("chromium %s did not start: %v", path, err)
		}
	case <-time.After(ChromiumStartTimeout):
		cancel()
		t.Fatalf("chromium %s did not start in %v", path, ChromiumStartTimeout)
	}
	return ctx
}

// Pdftotext is the path of pdftotext (Debian package poppler-utils), which reads back the text of
// a page Chromium printed to PDF.
func Pdftotext(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("pdftotext")
	if err != nil {
		Unavailable(t, "pdftotext not on PATH (Debian package poppler-utils)")
	}
	return p
}

// BrowserLog records what a headless tab asked for and complained about: the requests it sent and
// its errors (console.error and assert, exceptions, the browser's own error log, where a CSP
// violation shows). Every page test checks that a page fetches nothing from elsewhere and has no
// error; WatchBrowser starts one on the tab of ctx.
type BrowserLog struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

// WatchBrowser starts recording the tab of ctx (testsvc.Chromium's).
func WatchBrowser(t testing.TB, ctx context.Context) *BrowserLog {
	t.Helper()
	b := &BrowserLog{}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *BrowserLog) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			b.errors = append(b.errors, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == "error" || ev.Type == "assert" {
			b.errors = append(b.errors, "console."+string(ev.Type))
		}
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+ev.ExceptionDetails.Text)
	}
}

// Reset returns the requests and errors recorded since the last Reset, and forgets them.
func (b *BrowserLog) Reset() (requests, errors []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	requests, errors = b.requests, b.errors
	b.requests, b.errors = nil, nil
	return requests, errors
}
