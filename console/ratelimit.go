package console

import (
	"sync"
	"time"
)

// Sign-in limits. Attempts are counted in memory on each node, so with N
// nodes behind a load balancer an attacker gets at most N times these.
const (
	loginWindow = 15 * time.Minute
	// maxFailuresPerUser blocks one client IP from one account.
	maxFailuresPerUser = 5
	// maxFailuresPerIP blocks one client IP from every account.
	maxFailuresPerIP = 50
	// accountSlowAfter failures of one account from any IPs in a window
	// slow that account down to one attempt per accountSpacing. It never
	// blocks it: an attacker with many addresses must not be able to lock
	// the real user out.
	accountSlowAfter  = 10
	accountSpacing    = 10 * time.Second
	maxLimiterEntries = 100_000
	// maxSSOStartsPerIP bounds the single sign-on starts of one client IP
	// in a window: each stores a pending sign-in until it expires.
	maxSSOStartsPerIP = 100
)

// loginLimiter counts sign-in attempts per client IP and account, per
// client IP, and per account, over a fixed window. An attempt is counted
// when it starts, before the slow password hash, so that parallel guesses
// cannot all slip in before the first one is counted; a good password
// gives the slot back.
type loginLimiter struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	n       int
	start   time.Time
	last    time.Time // the latest attempt, for the per-account spacing
	refused bool      // a refusal in this window was recorded already
}

// limitKeys are the counters of one attempt.
type limitKeys struct{ pair, ip, account string }

func keysFor(ip, tenant, email string) limitKeys {
	account := "a\x00" + tenant + "\x00" + email
	return limitKeys{pair: "p\x00" + ip + "\x00" + account, ip: "i\x00" + ip, account: account}
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{entries: make(map[string]*failures)}
}

// reserve counts an attempt from ip for the account tenant/email at now,
// when the limits allow it. When they do not, first tells whether this is
// the window's first refusal, so that a flood of refused attempts is
// recorded once, not once each, and wait says when to try again.
func (l *loginLimiter) reserve(ip, tenant, email string, now time.Time) (ok, first bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxLimiterEntries {
		l.sweep(now)
	}
	k := keysFor(ip, tenant, email)
	pair, byIP, acct := l.entry(k.pair, now), l.entry(k.ip, now), l.entry(k.account, now)
	switch {
	case pair.n >= maxFailuresPerUser:
		return false, refuse(pair), pair.start.Add(loginWindow).Sub(now)
	case byIP.n >= maxFailuresPerIP:
		return false, refuse(byIP), byIP.start.Add(loginWindow).Sub(now)
	case acct.n >= accountSlowAfter && now.Sub(acct.last) < accountSpacing:
		return false, refuse(acct), acct.last.Add(accountSpacing).Sub(now)
	}
	for _, f := range []*failures{pair, byIP, acct} {
		f.n++
		f.last = now
	}
	return true, false, 0
}

// reserveSSO counts a single sign-on start from ip at now, when the limit
// allows it; wait says when to try again when it does not.
func (l *loginLimiter) reserveSSO(ip string, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxLimiterEntries {
		l.sweep(now)
	}
	f := l.entry("s\x00"+ip, now)
	if f.n >= maxSSOStartsPerIP {
		return false, f.start.Add(loginWindow).Sub(now)
	}
	f.n++
	return true, 0
}

// entry returns the counter of key in the window of now, making it.
func (l *loginLimiter) entry(key string, now time.Time) *failures {
	f := l.entries[key]
	if f == nil || now.Sub(f.start) >= loginWindow {
		f = &failures{start: now}
		l.entries[key] = f
	}
	return f
}

func refuse(f *failures) (first bool) {
	first = !f.refused
	f.refused = true
	return first
}

// succeed gives back the slot of a good sign-in: the failures of ip on
// this account and of the account are forgotten, and the attempt no longer
// counts for ip. The per-IP failures stay, so one good account cannot
// unlock guessing others.
func (l *loginLimiter) succeed(ip, tenant, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := keysFor(ip, tenant, email)
	delete(l.entries, k.pair)
	delete(l.entries, k.account)
	if f := l.entries[k.ip]; f != nil && f.n > 0 {
		f.n--
	}
}

// release gives back the slot of one attempt that was not a failure (a
// right password, whose second step is yet to come) and forgets nothing
// else, so that failed codes before it still count.
func (l *loginLimiter) release(ip, tenant, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := keysFor(ip, tenant, email)
	for _, key := range []string{k.pair, k.ip, k.account} {
		if f := l.entries[key]; f != nil && f.n > 0 {
			f.n--
		}
	}
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
