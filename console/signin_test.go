package console_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
)

// loginFrom signs c in from client address ip (sent as X-Forwarded-For to
// a console that trusts it) and returns the status and page.
func (e *env) loginFrom(tb testing.TB, c *http.Client, ip, tenant, email, pw string) (int, string) {
	tb.Helper()
	do := func(method, path string, body io.Reader) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.srv.URL+path, body)
		req.Header.Set("X-Forwarded-For", ip)
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := do(http.MethodGet, "/login", nil)
	form := url.Values{"csrf": {csrf(tb, page)}, "tenant": {tenant}, "email": {email}, "password": {pw}}
	resp, body := do(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	return resp.StatusCode, body
}

func trustProxy(c *console.Config) { c.TrustProxyHeaders = true }

// TestLoginRateLimitParallel sends 45 wrong passwords for one account at
// once: attempts are counted before the password hash, so only the first
// few are tried, and the rest are refused.
func TestLoginRateLimitParallel(t *testing.T) {
	e := newEnv(t, trustProxy)
	const n = 45
	clients := make([]*http.Client, n)
	for i := range clients {
		clients[i] = e.client(t)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = e.loginFrom(t, clients[i], "203.0.113.9", "acme", e.owner.Email, "wrong password!!")
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] > 5 || count[http.StatusTooManyRequests] < n-5 {
		t.Fatalf("statuses %v: want at most 5 x 401 and the rest 429", count)
	}
	failures := e.recorded(t, "acme", trail.ActionLoginFailure)
	var limited int
	for _, ev := range failures {
		if strings.Contains(string(ev.Metadata), "rate_limited") {
			limited++
		}
		if ev.Actor.ID != e.owner.ID {
			t.Errorf("login.failure %s names actor %q, want the user id %q", ev.Metadata, ev.Actor.ID, e.owner.ID)
		}
	}
	if limited != 1 {
		t.Fatalf("%d rate_limited failures recorded, want 1", limited)
	}
	t.Run("RealUserFromAnotherIP", func(t *testing.T) {
		if status, body := e.loginFrom(t, e.client(t), "198.51.100.4", "acme", e.owner.Email, password); status != http.StatusSeeOther {
			t.Fatalf("the real user from another address: status %d, want 303:\n%s", status, body)
		}
	})
	t.Run("AttackerStillBlocked", func(t *testing.T) {
		if status, _ := e.loginFrom(t, e.client(t), "203.0.113.9", "acme", e.owner.Email, password); status != http.StatusTooManyRequests {
			t.Fatalf("the blocked address: status %d, want 429", status)
		}
	})
	t.Run("AfterWindow", func(t *testing.T) {
		e.offset.Store(int64(16 * time.Minute))
		if status, _ := e.loginFrom(t, e.client(t), "198.51.100.4", "acme", e.owner.Email, password); status != http.StatusSeeOther {
			t.Fatalf("after the window: status %d, want 303", status)
		}
	})
}

// TestLoginAccountSlowdown guesses one account's password from many
// addresses: the account is slowed down to one attempt per few seconds,
// never locked, and one address guessing many accounts is blocked.
func TestLoginAccountSlowdown(t *testing.T) {
	e := newEnv(t, trustProxy)
	guess := func(i int) int {
		status, _ := e.loginFrom(t, e.client(t), "192.0.2."+strconv.Itoa(i), "acme", e.owner.Email, "wrong password!!")
		return status
	}
	for i := range 10 {
		if s := guess(i); s != http.StatusUnauthorized {
			t.Fatalf("guess %d from its own address: status %d, want 401", i, s)
		}
	}
	if s := guess(10); s != http.StatusTooManyRequests {
		t.Fatalf("the 11th guess at once: status %d, want 429 (slowed down)", s)
	}
	if status, body := e.loginFrom(t, e.client(t), "198.51.100.4", "acme", e.owner.Email, password); status != http.StatusTooManyRequests ||
		!strings.Contains(body, " seconds, then try again") {
		t.Fatalf("the real user at once: status %d, want 429 saying to wait seconds:\n%s", status, body)
	}
	e.offset.Store(int64(11 * time.Second))
	if status, body := e.loginFrom(t, e.client(t), "198.51.100.4", "acme", e.owner.Email, password); status != http.StatusSeeOther {
		t.Fatalf("the real user a few seconds later: status %d, want 303:\n%s", status, body)
	}
	t.Run("IPBlockedAcrossAccounts", func(t *testing.T) {
		e := newEnv(t, trustProxy)
		var refused int
		for i := range 60 {
			status, _ := e.loginFrom(t, e.client(t), "203.0.113.77", "acme", "u"+strconv.Itoa(i)+"@acme.example", "x")
			if status == http.StatusTooManyRequests {
				refused++
			}
		}
		if refused != 10 {
			t.Fatalf("%d of 60 guesses over many accounts refused, want the 10 past the per-address limit of 50", refused)
		}
	})
}

// TestLoginNextHostile checks that no hostile next sends a browser off
// the site, after a sign-in (POST) or at once for a signed-in user (GET).
func TestLoginNextHostile(t *testing.T) {
	e := newEnv(t)
	cases := map[string]string{
		"/events?action=user.invited": "/events?action=user.invited",
		"/events/ev_1":                "/events/ev_1",
		"/%09/evil.example":           "/",
		"/\t/evil.example":            "/",
		"/\n/evil.example":            "/",
		"/\r\n/evil.example":          "/",
		"/%0a/evil.example":           "/",
		"/%2F/evil.example":           "/",
		"/%5C/evil.example":           "/",
		"/%2509/evil.example":         "/%2509/evil.example", // a path: %25 is a percent sign
		"//evil.example/":             "/",
		"///evil.example/":            "/",
		"/\\evil.example":             "/",
		"\\\\evil.example":            "/",
		"https://evil.example/":       "/",
		"javascript:alert(1)":         "/",
		"evil.example":                "/",
		"/\x00/evil.example":          "/",
		"/\x7f/evil.example":          "/",
		" //evil.example":             "/",
		"":                            "/",
	}
	signedIn := e.signedIn(t, e.owner)
	for next, want := range cases {
		t.Run("POST", func(t *testing.T) {
			c := e.client(t)
			_, page := e.get(t, c, "/login")
			resp, _ := e.post(t, c, "/login", url.Values{"csrf": {csrf(t, page)}, "tenant": {"acme"},
				"email": {e.owner.Email}, "password": {password}, "next": {next}})
			if got := resp.Header.Get("Location"); got != want {
				t.Fatalf("next %q: Location %q, want %q", next, got, want)
			}
		})
		t.Run("GET", func(t *testing.T) {
			resp, err := signedIn.Get(e.srv.URL + "/login?next=" + url.QueryEscape(next))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
				t.Fatalf("signed in, next %q: status %d Location %q, want 303 to %q", next, resp.StatusCode, got, want)
			}
		})
	}
}
