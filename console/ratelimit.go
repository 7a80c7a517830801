package console

import (
	"sync"
	"time"
)

// Login rate limits. Failures are counted in memory on each node, so with
// N nodes behind a load balancer an attacker gets at most N times these.
const (
	loginWindow        = 15 * time.Minute
	maxFailuresPerUser = 5  // per client IP and email in one window
	maxFailuresPerIP   = 50 // per client IP, any email, in one window
	maxLimiterEntries  = 100_000
)

// loginLimiter counts failed sign-ins per IP+email and per IP over a fixed
// window.
type loginLimiter struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	n       int
	start   time.Time
	refused bool // a refusal in this window was recorded already
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{entries: make(map[string]*failures)}
}

// allow reports whether a sign-in from ip for email may be tried at now.
// When it may not, first tells whether this is the window's first refusal,
// so that a flood of refused attempts is recorded once, not once each.
func (l *loginLimiter) allow(ip, email string, now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range []struct {
		key string
		max int
	}{{ip + "\x00" + email, maxFailuresPerUser}, {ip, maxFailuresPerIP}} {
		f := l.entries[k.key]
		if f == nil || now.Sub(f.start) >= loginWindow || f.n < k.max {
			continue
		}
		first = !f.refused
		f.refused = true
		return false, first
	}
	return true, false
}

// fail counts a failed sign-in.
func (l *loginLimiter) fail(ip, email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxLimiterEntries {
		l.sweep(now)
	}
	for _, key := range []string{ip + "\x00" + email, ip} {
		f := l.entries[key]
		if f == nil || now.Sub(f.start) >= loginWindow {
			f = &failures{start: now}
			l.entries[key] = f
		}
		f.n++
	}
}

// succeed forgets the failures of ip+email after a good sign-in; the
// per-IP count stays, so one good account cannot unlock guessing others.
func (l *loginLimiter) succeed(ip, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, ip+"\x00"+email)
}

// sweep drops expired windows; if the map is still full, it starts over
// rather than grow without bound.
func (l *loginLimiter) sweep(now time.Time) {
	for k, f := range l.entries {
		if now.Sub(f.start) >= loginWindow {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxLimiterEntries {
		clear(l.entries)
	}
}
