package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/versement/versement/pipeline"
)

// runProgress shows a run's progress: a bar on a terminal (dossiers/s, bytes/s), a structured log
// line every logEvery otherwise (nightly jobs, pipes).
type runProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	last  time.Time
	every time.Duration
	p     pipeline.Progress
}

const logEvery = 10 * time.Second

func newRunProgress(w io.Writer, log *slog.Logger) *runProgress {
	rp := &runProgress{log: log, every: logEvery, last: time.Now()}
	if w == nil {
		w = os.Stderr
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		rp.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("dossiers"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("dossiers"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionClearOnFinish(),
		)
	}
	return rp
}

func (rp *runProgress) update(p pipeline.Progress) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.p = p
	if rp.bar != nil {
		secs := p.Elapsed.Seconds()
		desc := fmt.Sprintf("%s: %d archived", p.Class, p.Archived)
		if secs > 0 && p.Bytes > 0 {
			desc += fmt.Sprintf(", %.1f MB/s", float64(p.Bytes)/secs/1e6)
		}
		rp.bar.Describe(desc)
		if p.Total > 0 && rp.bar.GetMax64() != p.Total {
			rp.bar.ChangeMax64(p.Total) // a known total turns the spinner into a bar with an ETA
		}
		rp.bar.Set64(p.Dossiers)
		return
	}
	if time.Since(rp.last) >= rp.every {
		rp.last = time.Now()
		rp.logLine("progress")
	}
}

func (rp *runProgress) logLine(msg string) {
	p := rp.p
	secs := p.Elapsed.Seconds()
	var dps, bps float64
	if secs > 0 {
		dps, bps = float64(p.Dossiers)/secs, float64(p.Bytes)/secs
	}
	attrs := []any{"class", p.Class, "dossiers", p.Dossiers, "archived", p.Archived, "bytes", p.Bytes,
		"dossiers_per_second", int64(dps), "bytes_per_second", int64(bps), "elapsed", p.Elapsed.Round(time.Second).String()}
	if p.Total > 0 && dps > 0 && p.Total >= p.Dossiers {
		eta := time.Duration(float64(p.Total-p.Dossiers) / dps * float64(time.Second))
		attrs = append(attrs, "total", p.Total, "eta", eta.Round(time.Second).String())
	}
	rp.log.Info(msg, attrs...)
}

func (rp *runProgress) finish() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.bar != nil {
		rp.bar.Finish()
		return
	}
}
