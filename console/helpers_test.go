package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/internal/teststore"
)

// password is every test user's password.
const password = "correct horse battery staple"

// env is a running console over a real store (SQLite unless an onStore
// option names another), behind a real HTTP server. The tests of identity
// rules and events run on every store (forEachStore); the rest use SQLite,
// the console's other store calls being covered for every store by the
// storetest conformance suite.
type env struct {
	db     trail.Store
	writer *trail.Writer
	con    *console.Server
	srv    *httptest.Server
	// offset shifts the console's clock, for tests of expiry.
	offset atomic.Int64
	// users of tenant acme by role, and an owner of globex.
	owner, admin, member, globex *trail.User
}

// onStore is a newEnv option that runs the console over s.
func onStore(s trail.Store) func(*console.Config) {
	return func(c *console.Config) { c.Store = s }
}

// envMaker starts a console, as newEnv does, over a fresh store of one
// kind.
type envMaker func(tb testing.TB, opts ...func(*console.Config)) *env

// forEachStore runs fn as a subtest for every store kind. fn gets the
// envMaker of that kind: a test body that names its parameter newEnv
// reads the same on every store.
func forEachStore(t *testing.T, fn func(t *testing.T, newEnv envMaker)) {
	t.Helper()
	teststore.ForEachKind(t, func(t *testing.T, open func(testing.TB) trail.Store) {
		fn(t, func(tb testing.TB, opts ...func(*console.Config)) *env {
			tb.Helper()
			return newEnv(tb, append([]func(*console.Config){onStore(open(tb))}, opts...)...)
		})
	})
}

// newEnv starts a console, over a fresh SQLite store unless an option
// (onStore) gives another. opts may change the configuration first.
func newEnv(tb testing.TB, opts ...func(*console.Config)) *env {
	tb.Helper()
	e := &env{}
	cfg := console.Config{
		Now:          e.now,
		Logger:       slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		TailInterval: 50 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.Store == nil {
		cfg.Store = teststore.SQLite(tb)
	}
	e.db = cfg.Store
	e.writer = trail.NewWriter(e.db, 1000, nil)
	cfg.Users, cfg.Writer = e.db, e.writer
	var err error
	if e.con, err = console.New(cfg); err != nil {
		tb.Fatal(err)
	}
	e.srv = httptest.NewServer(e.con.Handler())
	tb.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.srv.Close()
		e.writer.Close()
	})
	e.owner = e.newUser(tb, "acme", "olivia@acme.example", trail.RoleOwner)
	e.admin = e.newUser(tb, "acme", "adam@acme.example", trail.RoleAdmin)
	e.member = e.newUser(tb, "acme", "mia@acme.example", trail.RoleMember)
	e.globex = e.newUser(tb, "globex", "gus@globex.example", trail.RoleOwner)
	return e
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

// passwordHash is the hash of password, computed once: hashing is slow on
// purpose, and every env needs four users.
var passwordHash = sync.OnceValue(func() string {
	h, err := console.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

func (e *env) newUser(tb testing.TB, tenant, email, role string) *trail.User {
	tb.Helper()
	u, err := trail.NewUser(tenant, email, role, passwordHash(), e.now())
	if err == nil {
		err = e.db.CreateUser(context.Background(), u)
	}
	if err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// client returns a browser-like client with its own cookie jar that does
// not follow redirects, so tests see them.
func (e *env) client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// get fetches path and returns the status and body.
func (e *env) get(tb testing.TB, c *http.Client, path string) (int, string) {
	tb.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post submits a form to path and returns the response with its body read.
func (e *env) post(tb testing.TB, c *http.Client, path string, form url.Values) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "console-test/1.0")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf returns the first CSRF token of a page.
func csrf(tb testing.TB, body string) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("no csrf field in page:\n%s", body)
	}
	return m[1]
}

// login signs c in as email of tenant with pw and returns the response.
func (e *env) login(tb testing.TB, c *http.Client, tenant, email, pw string) (*http.Response, string) {
	tb.Helper()
	_, page := e.get(tb, c, "/login")
	return e.post(tb, c, "/login", url.Values{
		"csrf": {csrf(tb, page)}, "tenant": {tenant}, "email": {email}, "password": {pw},
	})
}

// signedIn returns a client signed in as u.
func (e *env) signedIn(tb testing.TB, u *trail.User) *http.Client {
	tb.Helper()
	c := e.client(tb)
	resp, body := e.login(tb, c, u.Tenant, u.Email, password)
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("sign in as %s: status %d, want 303:\n%s", u.Email, resp.StatusCode, body)
	}
	return c
}

// recorded returns the events of tenant with action, oldest first.
func (e *env) recorded(tb testing.TB, tenant, action string) []*trail.Event {
	tb.Helper()
	return teststore.Recorded(tb, e.db, tenant, action)
}

// seed stores a realistic audit log: n events of acme spread over the last
// days, a few of globex (which acme must never see) and system events.
// Document d_1042 is touched by every seventh acme event.
func (e *env) seed(tb testing.TB, n int) []*trail.Event {
	tb.Helper()
	actors := []trail.Actor{
		{Type: trail.ActorUser, ID: "u_alice", Name: "alice@acme.example"},
		{Type: trail.ActorUser, ID: "u_bob", Name: "bob@acme.example"},
		{Type: trail.ActorUser, ID: "u_carol", Name: "carol@acme.example"},
		{Type: trail.ActorAPIKey, ID: "k_ci", Name: "CI deploy key"},
	}
	actions := []string{"document.shared", "document.viewed", "document.deleted", "user.invited",
		"user.role_changed", "project.created", "billing.plan_changed"}
	ips := []string{"203.0.113.7", "198.51.100.23", "2001:db8::42", "192.0.2.10"}
	start := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	var events []*trail.Event
	for i := range n {
		at := start.Add(time.Duration(i) * 71 * time.Hour / time.Duration(n))
		doc := trail.Target{Type: "document", ID: fmt.Sprintf("d_%d", 1000+i%40), Name: fmt.Sprintf("Plan %d", i%40)}
		if i%7 == 0 {
			doc = trail.Target{Type: "document", ID: "d_1042", Name: "Q3 board deck"}
		}
		ev := &trail.Event{
			ID: trail.NewID(at), Tenant: "acme", Action: actions[i%len(actions)], OccurredAt: at, ReceivedAt: at,
			Actor:    actors[i%len(actors)],
			Targets:  []trail.Target{doc, {Type: "project", ID: fmt.Sprintf("p_%d", i%3)}},
			Context:  trail.Context{IP: ips[i%len(ips)], UserAgent: "Mozilla/5.0 (Macintosh) Firefox/140.0", Location: "Berlin, DE"},
			Metadata: json.RawMessage(fmt.Sprintf(`{"permission":"edit","request":%d}`, i)),
			Version:  1, TraceID: fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e%04x", i),
		}
		events = append(events, ev)
	}
	for i := range 3 {
		at := start.Add(time.Duration(i) * time.Hour)
		events = append(events, &trail.Event{
			ID: trail.NewID(at), Tenant: "globex", Action: "secret.globex_only", OccurredAt: at, ReceivedAt: at,
			Actor: trail.Actor{Type: trail.ActorUser, ID: "u_gus"}, Targets: []trail.Target{{Type: "document", ID: "d_1042"}},
			Version: 1,
		})
		events = append(events, trail.NewSystemEvent("", "system.maintenance", trail.Actor{Type: trail.ActorSystem},
			trail.Context{}, at.Add(time.Minute)))
	}
	if err := e.db.AppendBatches(context.Background(), []*trail.Batch{{Events: events}}); err != nil {
		tb.Fatal(err)
	}
	return events
}
