package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters bound each user's searches: a search is what an insider would repeat to go through
// the index, so it is the request that is counted.
type limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*limiter
}

type limiter struct {
	l    *rate.Limiter
	used time.Time
}

func newLimiters(every rate.Limit, burst int) *limiters {
	return &limiters{every: every, burst: burst, m: map[string]*limiter{}}
}

// allow says whether user may search now, and if not, after how long they may.
func (ls *limiters) allow(user string, now time.Time) (bool, time.Duration) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.m[user]
	if !ok {
		if len(ls.m) > 10000 {
			ls.forget(now)
		}
		l = &limiter{l: rate.NewLimiter(ls.every, ls.burst)}
		ls.m[user] = l
	}
	l.used = now
	r := l.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forget drops the limiters of users idle long enough for their bucket to be full again.
func (ls *limiters) forget(now time.Time) {
	full := time.Duration(float64(ls.burst) / float64(ls.every) * float64(time.Second))
	for k, l := range ls.m {
		if now.Sub(l.used) > full {
			delete(ls.m, k)
		}
	}
}
