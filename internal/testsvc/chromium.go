package testsvc

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

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
