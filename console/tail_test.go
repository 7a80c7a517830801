package console_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
)

// openTail opens the live tail as c and waits until it follows.
func openTail(t *testing.T, e *env, c *http.Client) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/events/tail", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tail: status %d", resp.StatusCode)
	}
	lines := bufio.NewScanner(resp.Body)
	waitLine(t, lines, ": following")
	return lines
}

// sessionID returns the ID of u's newest session.
func (e *env) sessionID(t *testing.T, u *trail.User) string {
	t.Helper()
	sessions, err := e.db.Sessions(context.Background(), u.Tenant, e.now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.UserID == u.ID {
			return s.ID
		}
	}
	t.Fatalf("no session of %s", u.Email)
	return ""
}

// TestTailEndsOnRevocation checks that signing out or revoking a session
// ends its open live tails at once. The poll interval is an hour, so only
// the revocation itself can end them in time.
func TestTailEndsOnRevocation(t *testing.T) { forEachStore(t, testTailEndsOnRevocation) }

func testTailEndsOnRevocation(t *testing.T, newEnv envMaker) {
	slow := func(c *console.Config) { c.TailInterval = time.Hour }
	t.Run("Logout", func(t *testing.T) {
		e := newEnv(t, slow)
		c := e.signedIn(t, e.owner)
		lines := openTail(t, e, c)
		_, page := e.get(t, c, "/events")
		if resp, _ := e.post(t, c, "/logout", url.Values{"csrf": {csrf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: status %d", resp.StatusCode)
		}
		waitLine(t, lines, "event: end")
	})
	t.Run("RevokedByAdmin", func(t *testing.T) {
		e := newEnv(t, slow)
		c := e.signedIn(t, e.owner)
		lines := openTail(t, e, c)
		admin := e.signedIn(t, e.admin)
		_, page := e.get(t, admin, "/settings")
		resp, _ := e.post(t, admin, "/settings/sessions/"+e.sessionID(t, e.owner)+"/revoke", url.Values{"csrf": {csrf(t, page)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: status %d", resp.StatusCode)
		}
		waitLine(t, lines, "event: end")
	})
	t.Run("OtherTailsGoOn", func(t *testing.T) {
		e := newEnv(t, func(c *console.Config) { c.TailInterval = 20 * time.Millisecond })
		owner := openTail(t, e, e.signedIn(t, e.owner))
		admin := e.signedIn(t, e.admin)
		_, page := e.get(t, admin, "/events")
		e.post(t, admin, "/logout", url.Values{"csrf": {csrf(t, page)}})
		ev := trail.NewSystemEvent("acme", "document.viewed", e.owner.Actor(), trail.Context{}, time.Now())
		if err := e.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{ev}}); err != nil {
			t.Fatal(err)
		}
		waitLine(t, owner, "event: row")
	})
}

// TestTailEndsOnRevocationElsewhere revokes the session in the store, as
// another node or the CLI does: the tail's own re-check ends it within a
// poll interval.
func TestTailEndsOnRevocationElsewhere(t *testing.T) {
	forEachStore(t, testTailEndsOnRevocationElsewhere)
}

func testTailEndsOnRevocationElsewhere(t *testing.T, newEnv envMaker) {
	e := newEnv(t, func(c *console.Config) { c.TailInterval = 20 * time.Millisecond })
	lines := openTail(t, e, e.signedIn(t, e.owner))
	if err := e.db.RevokeSession(context.Background(), "acme", e.sessionID(t, e.owner), e.now()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitLine(t, lines, "event: end")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the tail ended %v after the revocation", d)
	}
}
