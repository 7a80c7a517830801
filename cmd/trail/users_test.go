package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/internal/testenv"
)

const userPassword = "correct horse battery staple"

// usersCLI runs `trail users args...` in-process with stdin as its input.
func usersCLI(tb testing.TB, stdin string, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	e := &main.Env{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
	code := main.Run(context.Background(), e, append([]string{"users"}, args...))
	return result{code, stdout.String(), stderr.String()}
}

func TestUsersCreate(t *testing.T) { forEachCLIStore(t, testUsersCreate) }

func testUsersCreate(t *testing.T, st cliStore) {
	r := usersCLI(t, userPassword+"\n", append([]string{"create", "--tenant", "acme",
		"--email", "A@Example.com", "--role", "owner", "--password-stdin", "--output", "json"}, st.args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out trail.User
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	db := st.open(t)
	u, err := db.UserByEmail(context.Background(), "acme", "a@example.com")
	if err != nil || u.ID != out.ID || u.Role != trail.RoleOwner {
		t.Fatalf("stored user %+v (%v), printed %+v", u, err, out)
	}
	if !console.CheckPassword(u.PasswordHash, userPassword) || strings.Contains(r.stdout, u.PasswordHash) {
		t.Fatal("the stored hash does not match the piped password, or the hash was printed")
	}
	e := onlyEvent(t, db, "acme", trail.ActionUserCreated)
	if e.Actor.Type != trail.ActorSystem || e.Targets[0].ID != u.ID {
		t.Fatalf("user.created event %+v", e)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"ErrNoPasswordStdin", userPassword, []string{"--email", "b@example.com", "--role", "admin"}, 2, "--password-stdin is required"},
		{"ErrShortPassword", "short\n", []string{"--email", "b@example.com", "--role", "admin", "--password-stdin"}, 2, "--password-stdin: must be at least 12"},
		{"ErrEmptyStdin", "", []string{"--email", "b@example.com", "--role", "admin", "--password-stdin"}, 2, "standard input was empty"},
		{"ErrRole", userPassword, []string{"--email", "b@example.com", "--role", "root", "--password-stdin"}, 2, "--role: must be owner, admin or member"},
		{"ErrEmail", userPassword, []string{"--email", "b", "--role", "admin", "--password-stdin"}, 2, "--email:"},
		{"ErrDuplicate", userPassword, []string{"--email", "a@example.com", "--role", "admin", "--password-stdin"}, 1, "already has a user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"create", "--tenant", "acme"}, st.args...), tc.args...)
			r := usersCLI(t, tc.stdin, args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	t.Run("List", func(t *testing.T) {
		r := usersCLI(t, "", append([]string{"list", "--tenant", "acme"}, st.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "a@example.com") || !strings.Contains(r.stdout, "owner") {
			t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
		}
	})
}

var (
	csrfField     = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	verifiedProof = regexp.MustCompile(`<dt>Proof</dt><dd>verified: leaf \d+ of the signed checkpoint of size \d+ \(trail\.local/acme\)</dd>`)
)

// TestServeConsole signs in to the console of a running server, checks
// that the API keeps its own paths, that an event's page shows its ledger
// proof, and that shutdown ends a live tail.
func TestServeConsole(t *testing.T) {
	m := startMain(t)
	if r := usersCLI(t, userPassword, "create", "--data", m.Config.Data, "--tenant", "acme",
		"--email", "a@example.com", "--role", "admin", "--password-stdin"); r.code != 0 {
		t.Fatalf("users create while serving: exit %d: %s", r.code, r.stderr)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	page := fetch(t, c, m.URL()+"/login", http.StatusOK)
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no sign-in form at /login:\n%s", page)
	}
	resp, err := c.PostForm(m.URL()+"/login", url.Values{"csrf": {token[1]}, "tenant": {"acme"},
		"email": {"a@example.com"}, "password": {userPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/events" || resp.StatusCode != http.StatusOK {
		t.Fatalf("after sign-in: %s %d, want the audit log", resp.Request.URL.Path, resp.StatusCode)
	}
	if body := fetch(t, c, m.URL()+"/events", http.StatusOK); !strings.Contains(body, "login.success") {
		t.Fatal("the audit log does not show the sign-in")
	}
	fetch(t, c, m.URL()+"/healthz", http.StatusOK)
	if body := fetch(t, c, m.URL()+"/v1/nothing", http.StatusNotFound); !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("an unknown /v1 path answered %q, want the API's JSON 404", body)
	}
	t.Run("EventProof", func(t *testing.T) {
		_, key := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:write")
		code, _, ids := post(t, m.URL(), key, "proof", 1)
		if code != http.StatusCreated || len(ids) != 1 {
			t.Fatalf("ingest: status %d, ids %v", code, ids)
		}
		// The sequencer seals new events within a poll or two; until then
		// the page says pending.
		var body string
		testenv.Eventually(t, 20*time.Second, "the event to be sealed", func() bool {
			body = fetch(t, c, m.URL()+"/events/"+ids[0], http.StatusOK)
			return !strings.Contains(body, "pending: not sealed")
		})
		if !verifiedProof.MatchString(body) {
			t.Fatalf("the event page shows no verified proof:\n%s", body)
		}
	})
	t.Run("ShutdownEndsLiveTail", func(t *testing.T) {
		resp, err := c.Get(m.URL() + "/events/tail")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Scan() // the stream is open
		start := time.Now()
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("shutdown took %v with a live tail open", d)
		}
	})
}

// fetch GETs url, fails unless the status is want, and returns the body.
func fetch(tb testing.TB, c *http.Client, url string, want int) string {
	tb.Helper()
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		tb.Fatalf("GET %s: status %d, want %d:\n%s", url, resp.StatusCode, want, b)
	}
	return string(b)
}
