package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/trailhq/trail"
)

// TestBrowserUsers drives the Users page in Chromium as an owner: change a
// member's role, make a password reset link that the member uses, then
// deactivate the member, who can no longer sign in.
func TestBrowserUsers(t *testing.T) {
	e := newEnv(t)
	dir := outputDir(t)
	owner, member := tab(t), tab(t)
	signIn(t, owner, e.srv.URL, e.owner, password)
	mia := e.member.Email
	button := func(label string) string { return `button[aria-label="` + label + `"]` }

	t.Run("ChangeRole", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/users"),
			chromedp.SetValue(chromedp.ID("role-"+e.member.ID), "admin"),
			follow(button("Change role of "+mia)))
		if msg := eval[string](t, owner, `document.querySelector(".notice").textContent`); !strings.Contains(msg, "role was changed") {
			t.Fatalf("notice %q", msg)
		}
		if u, _ := e.db.User(t.Context(), "acme", e.member.ID); u.Role != trail.RoleAdmin {
			t.Fatalf("role = %s, want admin", u.Role)
		}
	})
	newPassword := "a fresh passphrase for mia"
	t.Run("ResetPassword", func(t *testing.T) {
		run(t, owner, follow(button("Reset password of "+mia)))
		shoot(t, owner, dir, "users-reset.png")
		link := eval[string](t, owner, `document.getElementById("reset-link").value`)
		if !strings.Contains(link, "/password/reset?token=") {
			t.Fatalf("reset link %q", link)
		}
		run(t, member, chromedp.Navigate(link),
			chromedp.SendKeys(chromedp.ID("new_password"), newPassword),
			chromedp.SendKeys(chromedp.ID("confirm_password"), newPassword),
			follow("button.primary"))
		if loc := eval[string](t, member, "location.pathname"); loc != "/login" {
			t.Fatalf("after the reset at %s, want /login", loc)
		}
		if got := eval[string](t, member, `document.getElementById("tenant").value`); got != "acme" {
			t.Fatalf("the sign-in form after a reset names organization %q, want acme", got)
		}
		signIn(t, member, e.srv.URL, e.member, newPassword)
		if loc := eval[string](t, member, "location.pathname"); loc != "/events" {
			t.Fatalf("signing in with the new password: at %s", loc)
		}
		run(t, member, chromedp.Navigate(link), chromedp.SendKeys(chromedp.ID("new_password"), "yet another passphrase"),
			chromedp.SendKeys(chromedp.ID("confirm_password"), "yet another passphrase"), follow("button.primary"))
		if msg := eval[string](t, member, `document.getElementById("reset-error").textContent`); !strings.Contains(msg, "used") {
			t.Fatalf("a used link worked again: %q", msg)
		}
	})
	t.Run("Deactivate", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/users"), follow(button("Deactivate "+mia)))
		status := eval[string](t, owner, `document.querySelector('tr[data-user="`+mia+`"] td[data-label=Status]').textContent`)
		if !strings.Contains(status, "deactivated") {
			t.Fatalf("status %q", status)
		}
		shoot(t, owner, dir, "users.png")
		run(t, member, chromedp.Navigate(e.srv.URL+"/events"))
		if loc := eval[string](t, member, "location.pathname"); loc != "/login" {
			t.Fatalf("the deactivated user's browser is at %s, want /login", loc)
		}
		signIn(t, member, e.srv.URL, e.member, newPassword)
		msg := eval[string](t, member, `document.getElementById("login-error").textContent`)
		if !strings.Contains(msg, "deactivated") {
			t.Fatalf("a deactivated user signing in: %q", msg)
		}
	})
}
