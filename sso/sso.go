// Package sso is the OpenID Connect relying party of the console: it sends
// a browser to a tenant's provider (authorization code flow with PKCE,
// state and nonce) and verifies what comes back, with coreos/go-oidc and
// golang.org/x/oauth2. Deciding who may sign in (domains, roles, users) is
// the console's; this package only proves who the provider says it is.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/trailhq/trail"
)

// Reasons of a failed sign-in, recorded in login.failure's metadata.
const (
	ReasonStateMismatch   = "state_mismatch"
	ReasonProviderError   = "provider_error"
	ReasonInvalidIDToken  = "invalid_id_token"
	ReasonEmailMissing    = "email_missing"
	ReasonEmailUnverified = "email_not_verified"
)

// Failure is a sign-in that the provider's answer does not prove: Reason
// is one of the Reason constants.
type Failure struct {
	Reason string
	// Email is the proven address, when the refusal came after the token
	// was verified.
	Email string
	Err   error
}

func (f *Failure) Error() string { return "sso " + f.Reason + ": " + f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func fail(reason string, err error) error { return &Failure{Reason: reason, Err: err} }

// loginTTL is how long a browser has at its provider.
const loginTTL = 10 * time.Minute

// discoveryTTL is how long a provider's discovery document and keys are
// reused before they are fetched again.
const discoveryTTL = time.Hour

// Identity is who a verified ID token names.
type Identity struct {
	Subject string
	// Email is normalized (see trail.NormalizeEmail).
	Email string
	// Claims are every claim of the ID token, for role mapping.
	Claims map[string]any
}

// Client starts and finishes sign-ins.
type Client struct {
	// HTTP fetches discovery documents, keys and tokens.
	HTTP *http.Client
	// Now is the clock that tokens' expiry is checked against.
	Now func() time.Time

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p  *oidc.Provider
	at time.Time
}

// Begin starts a sign-in for provider p that comes back to redirect. It
// returns the provider's URL to send the browser to, the login for the
// store, and the binding token for the browser's cookie.
func (c *Client) Begin(ctx context.Context, p *trail.SSOProvider, redirect, next, loginHint string) (string, *trail.SSOLogin, string, error) {
	op, err := c.provider(ctx, p.Issuer)
	if err != nil {
		return "", nil, "", err
	}
	state, binding := random(), random()
	l := &trail.SSOLogin{
		StateHash: Hash(state), BindingHash: Hash(binding), Tenant: p.Tenant, Nonce: random(),
		Verifier: oauth2.GenerateVerifier(), Next: next, ExpiresAt: c.Now().Add(loginTTL),
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(l.Verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return config(p, op, redirect).AuthCodeURL(state, opts...), l, binding, nil
}

// Finish exchanges code for tokens and verifies the ID token of login l:
// signature, issuer, audience, expiry and nonce. It requires an email and,
// when the token says whether it is verified, a verified one.
func (c *Client) Finish(ctx context.Context, p *trail.SSOProvider, l *trail.SSOLogin, redirect, code string) (*Identity, error) {
	op, err := c.provider(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	tok, err := config(p, op, redirect).Exchange(c.context(ctx), code, oauth2.VerifierOption(l.Verifier))
	if err != nil {
		return nil, fail(ReasonInvalidIDToken, fmt.Errorf("exchange code: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fail(ReasonInvalidIDToken, errors.New("the token response has no id_token"))
	}
	idt, err := op.VerifierContext(c.context(ctx), &oidc.Config{ClientID: p.ClientID, Now: c.Now}).Verify(c.context(ctx), raw)
	if err != nil {
		return nil, fail(ReasonInvalidIDToken, err)
	}
	if idt.Nonce != l.Nonce {
		return nil, fail(ReasonInvalidIDToken, errors.New("nonce does not match the sign-in"))
	}
	return identity(idt)
}

func identity(idt *oidc.IDToken) (*Identity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fail(ReasonInvalidIDToken, err)
	}
	id := &Identity{Subject: idt.Subject, Claims: claims}
	email, _ := claims["email"].(string)
	id.Email = trail.NormalizeEmail(email)
	if !trail.ValidEmail(id.Email) {
		return nil, fail(ReasonEmailMissing, errors.New("the ID token has no email claim; ask for the email scope"))
	}
	if v, ok := claims["email_verified"]; ok && v != true && v != "true" {
		return nil, fail(ReasonEmailUnverified, fmt.Errorf("the provider has not verified %s", id.Email))
	}
	return id, nil
}

func config(p *trail.SSOProvider, op *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: op.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// context makes the oauth2 and oidc packages use c.HTTP.
func (c *Client) context(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, c.HTTP), oauth2.HTTPClient, c.HTTP)
}

// provider returns the discovered provider of issuer, fetching it at most
// once an hour. Failures are not kept.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	c.mu.Lock()
	cp, ok := c.providers[issuer]
	c.mu.Unlock()
	if ok && time.Since(cp.at) < discoveryTTL {
		return cp.p, nil
	}
	// The provider keeps this context to fetch keys later: it must outlive
	// the request. c.HTTP's timeout bounds each fetch.
	p, err := oidc.NewProvider(c.context(context.WithoutCancel(ctx)), issuer)
	if err != nil {
		return nil, errors.Join(trail.Errorf(trail.EUNAVAILABLE,
			"the single sign-on provider %s does not answer; try again or ask an admin to check its issuer URL", issuer), err)
	}
	c.mu.Lock()
	if c.providers == nil {
		c.providers = make(map[string]cachedProvider)
	}
	c.providers[issuer] = cachedProvider{p, time.Now()}
	c.mu.Unlock()
	return p, nil
}

// Forget drops what was discovered about issuer, so that changed settings
// take effect at the next sign-in.
func (c *Client) Forget(issuer string) {
	c.mu.Lock()
	delete(c.providers, issuer)
	c.mu.Unlock()
}

// Hash is the stored form of a state or binding token.
func Hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
