// Package oidctest runs a real OpenID provider for tests: zitadel/oidc's op
// package with its example storage and login page, on a local port. Tests
// sign in through it as a browser would: the provider's login form, its
// redirects, its signed ID tokens.
package oidctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account of the provider. Username signs in on its login page.
type User struct {
	Username, Password string
	Email              string
	EmailVerified      bool
	// Groups is asserted as the "groups" claim, for role mapping.
	Groups []string
}

// Provider is a running OpenID provider with one confidential web client.
type Provider struct {
	Issuer                 string
	ClientID, ClientSecret string
	srv                    *httptest.Server
	users                  userStore
}

// Start runs a provider whose client may redirect to redirectURI, with
// users. It stops when tb ends.
func Start(tb testing.TB, redirectURI string, users ...User) *Provider {
	tb.Helper()
	p := &Provider{ClientID: "trail-console", ClientSecret: "client-secret-" + tb.Name()}
	p.srv = httptest.NewUnstartedServer(nil)
	p.Issuer = "http://" + p.srv.Listener.Addr().String()
	us := userStore{users: map[string]*storage.User{}, groups: &groups{m: map[string][]string{}}}
	for i, u := range users {
		id := fmt.Sprintf("id%d", i+1)
		us.users[id] = &storage.User{
			ID: id, Username: u.Username, Password: u.Password, Email: u.Email, EmailVerified: u.EmailVerified,
			FirstName: "Test", LastName: u.Username, PreferredLanguage: language.English,
		}
		us.groups.m[id] = u.Groups
	}
	p.users = us
	client := storage.WebClient(p.ClientID, p.ClientSecret, redirectURI)
	st := &store{Storage: storage.NewStorageWithClients(us, map[string]*storage.Client{p.ClientID: client}), users: us}
	p.srv.Config.Handler = exampleop.SetupServer(p.Issuer, st, nil, false)
	p.srv.Start()
	tb.Cleanup(p.srv.Close)
	return p
}

// SetGroups changes the groups that username's next ID tokens assert, as
// an administrator of the provider moves a person between groups.
func (p *Provider) SetGroups(username string, groups ...string) {
	u := p.users.GetUserByUsername(username)
	if u == nil {
		panic("oidctest: no user " + username)
	}
	p.users.groups.set(u.ID, groups)
}

// userStore is the example storage's user list, with groups.
type userStore struct {
	users  map[string]*storage.User
	groups *groups
}

// groups are the users' groups by user id; a test changes them while the
// provider serves.
type groups struct {
	mu sync.Mutex
	m  map[string][]string
}

func (g *groups) get(id string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[id]
}

func (g *groups) set(id string, groups []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m[id] = groups
}

func (u userStore) GetUserByID(id string) *storage.User { return u.users[id] }
func (u userStore) ExampleClientID() string             { return storage.ServiceUserID }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

// store puts the email, profile and groups claims in the ID token even
// beside an access token, as Keycloak, Okta, Google and Entra ID do (the
// example client leaves them to the userinfo endpoint then).
type store struct {
	*storage.Storage
	users userStore
}

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimsInIDToken{c}, nil
}

// SetUserinfoFromRequest adds the groups claim to what the example
// storage puts in an ID token.
func (s *store) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	if g := s.users.groups.get(req.GetSubject()); len(g) > 0 {
		ui.AppendClaims("groups", g)
	}
	if u := s.users.users[req.GetSubject()]; u != nil && !u.EmailVerified {
		ui.AppendClaims("email_verified", false) // the library leaves out a false one
	}
	return nil
}

type claimsInIDToken struct{ op.Client }

func (claimsInIDToken) IDTokenUserinfoClaimsAssertion() bool { return true }

var formRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// SignIn follows authURL (the provider's authorization URL that Trail sent
// the browser to) with c, signs in on the provider's login page as
// username, and returns the URL the provider sends the browser back to,
// without following it. c must not follow redirects by itself.
func (p *Provider) SignIn(c *http.Client, authURL, username, password string) (*url.URL, error) {
	loc, err := redirectOf(c.Get(authURL))
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	resp, err := c.Get(loc.String())
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no login form at %s: %s", loc, page)
	}
	form := url.Values{"id": {string(m[1])}, "username": {username}, "password": {password}}
	loc, err = redirectOf(c.PostForm(p.Issuer+"/login/username", form))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	for strings.HasPrefix(loc.String(), p.Issuer) { // the provider's own callback, then back to the client
		if loc, err = redirectOf(c.Get(loc.String())); err != nil {
			return nil, err
		}
	}
	return loc, nil
}

func redirectOf(resp *http.Response, err error) (*url.URL, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 3 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %d, want a redirect: %s", resp.StatusCode, b)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, errors.New("redirect without Location")
	}
	return loc, nil
}
