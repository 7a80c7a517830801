package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// consoleSnapshot is what a console request could change: every event,
// every API key and every forwarder.
func (e *env) consoleSnapshot(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	events, err := e.db.StreamEvents(ctx, -1, 100000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ev := range events {
		fmt.Fprintf(&b, "event %s %s %s\n", ev.ID, ev.Tenant, ev.Action)
	}
	keys, err := e.db.Keys(ctx, trail.Scope{All: true})
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "key %s %s %v %v\n", k.ID, k.Tenant, k.Scopes, k.RevokedAt)
	}
	fwds, err := e.db.Forwarders(ctx, trail.Scope{All: true})
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range fwds {
		fmt.Fprintf(&b, "forwarder %s %s %s\n", f.Tenant, f.Name, f.URI)
	}
	return b.String()
}

// TestHostileQueries checks that the console parses query strings and
// forms strictly: a raw ';', a bad escape or an unknown filter is a 400
// page that names the parameter, and nothing is read more widely or
// changed.
func TestHostileQueries(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 30)
	c := e.signedIn(t, e.owner)
	_, settings := e.get(t, c, "/settings")
	token := csrf(t, settings)
	before := e.consoleSnapshot(t)
	gets := []struct{ path, names string }{
		{"/events?action=nomatch.x;", "action"},
		{"/events?action=nomatch.x&bogus=1", "bogus"},
		{"/events?actoin=user.invited", "actoin"},
		{"/events?actor_id=u_alice&actor_id=u_bob", "actor_id"},
		{"/events?tenant=globex", "tenant"},
		{"/events?action=%zz", "action"},
		{"/events?=1", "query"},
		{"/events?q=a;b", "q"},
		{"/entity?target_type=document&target_id=d_1042;", "target_id"},
		{"/events/tail?action=nomatch.x;", "action"},
		{"/events/tail?bogus=1", "bogus"},
		{"/settings?notice=a;b", "notice"},
		{"/events/" + events[0].ID + "?logs_after=x;", "logs_after"},
		{"/?a=%", "a"},
	}
	for _, tt := range gets {
		t.Run("GET"+tt.path, func(t *testing.T) {
			status, body := getWithin(t, c, e.srv.URL+tt.path)
			if status != http.StatusBadRequest {
				t.Fatalf("GET %s: status %d, want 400", tt.path, status)
			}
			if !strings.Contains(body, tt.names) {
				t.Errorf("GET %s: page does not name %q:\n%.600s", tt.path, tt.names, body)
			}
			if after := e.consoleSnapshot(t); after != before {
				t.Fatalf("GET %s changed the store:\n%s\nwant:\n%s", tt.path, after, before)
			}
		})
	}
	posts := []struct{ path, body, names string }{
		{"/settings/keys", "csrf=" + token + "&name=k;x&scopes=admin", "name"},
		{"/settings/keys", "csrf=" + token + ";&name=k&scopes=admin", "csrf"},
		{"/settings/keys", "csrf=" + token + "&name=k&scopes=%zz", "scopes"},
		{"/settings/forwarders", "csrf=" + token + "&name=siem&uri=https://h.example.com/x;&actions=", "uri"},
		{"/settings/keys?x=1;", "csrf=" + token + "&name=k&scopes=admin", "x"},
		{"/login", "csrf=x&tenant=acme;&email=a@b.c&password=p", "tenant"},
		{"/export", "csrf=" + token + "&format=csv&action=nomatch.x;", "action"},
		{"/export", "csrf=" + token + "&format=csv&actoin=x", "actoin"},
		// A field given twice would be read as its first value by one
		// parser and its last by another: refused, as in the API.
		{"/settings/keys", "csrf=" + token + "&name=k&scopes=admin&name=other", "name"},
		{"/settings/forwarders", "csrf=" + token + "&name=siem&uri=https://h.example.com/x&uri=https://e.example.com/&actions=", "uri"},
		{"/login", "csrf=x&tenant=acme&tenant=globex&email=a@b.c&password=p", "tenant"},
	}
	for i, tt := range posts {
		t.Run(fmt.Sprintf("POST%s#%d", tt.path, i), func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			_, _ = fmt.Fprint(&b, readAll(resp))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST %s: status %d, want 400", tt.path, resp.StatusCode)
			}
			if !strings.Contains(b.String(), tt.names) {
				t.Errorf("POST %s: page does not name %q:\n%.600s", tt.path, tt.names, b.String())
			}
			if after := e.consoleSnapshot(t); after != before {
				t.Fatalf("POST %s changed the store:\n%s\nwant:\n%s", tt.path, after, before)
			}
		})
	}
	// The same requests without the hostile byte still work.
	if status, _ := e.get(t, c, "/events?action=user.invited&q=alice"); status != http.StatusOK {
		t.Errorf("clean filter: status %d", status)
	}
	if resp, body := e.post(t, c, "/settings/keys", url.Values{"csrf": {token}, "name": {"k"}, "scopes": {"events:read"}}); resp.StatusCode >= 400 {
		t.Errorf("clean key form: status %d:\n%.400s", resp.StatusCode, body)
	}
}

// getWithin is a GET that gives up after a few seconds, so that a live
// tail that opens instead of failing ends the test rather than hanging it.
func getWithin(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, readAll(resp)
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// identitySnapshot is what the identity forms could change: every user's
// role, state and password, every session, and the tenants' SSO and MFA
// settings.
func (e *env) identitySnapshot(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(e.consoleSnapshot(tb))
	for _, tenant := range []string{"acme", "globex"} {
		users, err := e.db.Users(ctx, tenant)
		if err != nil {
			tb.Fatal(err)
		}
		for _, u := range users {
			fmt.Fprintf(&b, "user %s %s %s %s %v %q %q %d\n", u.ID, u.Email, u.Role, u.PasswordHash, u.DeactivatedAt, u.ResetHash, u.MFASecret, len(u.MFARecovery))
		}
		sessions, err := e.db.Sessions(ctx, tenant, e.now())
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range sessions {
			fmt.Fprintf(&b, "session %s %s %v\n", s.ID, s.UserID, s.RevokedAt)
		}
		p, err := e.db.SSOProvider(ctx, tenant)
		fmt.Fprintf(&b, "sso %s %+v %v\n", tenant, p, trail.ErrorCode(err))
		required, err := e.db.MFARequired(ctx, tenant)
		fmt.Fprintf(&b, "mfa %s %v %v\n", tenant, required, err)
	}
	return b.String()
}

// TestHostileIdentityForms sends bad values, another tenant's ids and a
// member's session to the forms of the Users, Account, SSO and MFA pages:
// each is a 4xx page that names the field or the refusal, and nothing
// changes.
func TestHostileIdentityForms(t *testing.T) { forEachStore(t, testHostileIdentityForms) }

func testHostileIdentityForms(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	owner, member := e.signedIn(t, e.owner), e.signedIn(t, e.member)
	_, page := e.get(t, owner, "/settings")
	token := csrf(t, page)
	_, page = e.get(t, member, "/account")
	memberToken := csrf(t, page)
	before := e.identitySnapshot(t)
	for i, tt := range []struct {
		c          *http.Client
		path, body string
		status     int
		names      string
	}{
		{owner, "/users/" + e.member.ID + "/role", "csrf=" + token + "&role=root", 400, "role"},
		{owner, "/users/" + e.member.ID + "/role", "csrf=" + token + "&role=admin&role=owner", 400, "role"},
		{owner, "/users/" + e.globex.ID + "/role", "csrf=" + token + "&role=member", 404, "not found"},
		{owner, "/users/" + e.globex.ID + "/deactivate", "csrf=" + token, 404, "not found"},
		{owner, "/users/" + e.globex.ID + "/reset-password", "csrf=" + token, 404, "not found"},
		{owner, "/users/" + e.owner.ID + "/deactivate", "csrf=" + token, 409, "owner"},
		{owner, "/users/nope;x/delete", "csrf=" + token, 404, "not found"},
		{member, "/users/" + e.admin.ID + "/deactivate", "csrf=" + memberToken, 403, ""},
		{member, "/settings/mfa", "csrf=" + memberToken + "&required=true", 403, ""},
		{member, "/settings/sso", "csrf=" + memberToken + "&issuer=https://id.example.com&client_id=x", 403, ""},
		{owner, "/settings/mfa", "csrf=" + token + "&required=maybe", 400, "required"},
		{owner, "/settings/sso", "csrf=" + token + "&issuer=ftp://id.example.com&client_id=x&client_secret=s&default_role=member", 400, "issuer"},
		{owner, "/settings/sso", "csrf=" + token + "&issuer=https://id.example.com&client_id=x&client_secret=s&role_mapping=admins", 400, "role"},
		{owner, "/account/password", "csrf=" + token + "&current_password=wrong&new_password=correct-horse-battery&confirm_password=correct-horse-battery", 400, "Current password"},
		{owner, "/account/password", "csrf=" + token + "&current_password=" + url.QueryEscape(password) + "&new_password=x&confirm_password=y", 400, "Confirm"},
		{owner, "/account/sessions/" + "sess_nope" + "/revoke", "csrf=" + token, 404, "session"},
		{owner, "/password/reset", "token=nope&new_password=correct-horse-battery&confirm_password=correct-horse-battery", 404, ""},
		{owner, "/account/mfa", "csrf=" + token + "&secret=JBSWY3DPEHPK3PXP&code=000000", 400, ""},
	} {
		t.Run(fmt.Sprintf("%d%s", i, tt.path), func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := tt.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("POST %s: status %d, want %d:\n%.600s", tt.path, resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(strings.ToLower(body), strings.ToLower(tt.names)) {
				t.Errorf("POST %s: page does not name %q:\n%.600s", tt.path, tt.names, body)
			}
			if after := e.identitySnapshot(t); after != before {
				t.Fatalf("POST %s changed the store:\n%s\nwant:\n%s", tt.path, after, before)
			}
		})
	}
}
