package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserMFA drives multi-factor sign-in in Chromium: the owner sets
// it up on the Account page (reading the key off the page, as someone
// typing it into an app would), keeps the recovery codes, and then signs
// in with a password and a code.
func TestBrowserMFA(t *testing.T) {
	e := newEnv(t)
	dir := outputDir(t)
	owner, other := tab(t), tab(t)
	signIn(t, owner, e.srv.URL, e.owner, password)
	var secret string
	t.Run("Enrol", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/account"), follow("#mfa-setup"))
		if w := eval[float64](t, owner, `document.getElementById("mfa-qr").naturalWidth`); w == 0 {
			t.Fatal("the QR code did not load (is it allowed by the CSP?)")
		}
		shoot(t, owner, dir, "mfa-enrol.png")
		secret = eval[string](t, owner, `document.getElementById("mfa-secret").value`)
		run(t, owner, chromedp.SendKeys(chromedp.ID("code"), e.code(t, secret)), follow("button.primary"))
		if n := eval[float64](t, owner, `document.querySelectorAll("#recovery-codes li").length`); n != 10 {
			t.Fatalf("%v recovery codes shown, want 10", n)
		}
		shoot(t, owner, dir, "mfa-recovery.png")
		run(t, owner, follow("#mfa-continue"))
		if msg := eval[string](t, owner, `document.getElementById("mfa").textContent`); !strings.Contains(msg, "10 recovery codes left") {
			t.Fatalf("the Account page says %q", msg)
		}
	})
	t.Run("SignInWithCode", func(t *testing.T) {
		e.nextStep()
		signIn(t, other, e.srv.URL, e.owner, password)
		if loc := eval[string](t, other, "location.pathname"); loc != "/login/mfa" {
			t.Fatalf("after the password at %s, want /login/mfa", loc)
		}
		run(t, other, chromedp.SendKeys(chromedp.ID("code"), "000000"), follow("button.primary"))
		if msg := eval[string](t, other, `document.getElementById("mfa-error").textContent`); !strings.Contains(msg, "Wrong code") {
			t.Fatalf("a wrong code: %q", msg)
		}
		run(t, other, chromedp.SendKeys(chromedp.ID("code"), e.code(t, secret)), follow("button.primary"))
		if loc := eval[string](t, other, "location.pathname"); loc != "/events" {
			t.Fatalf("after the code at %s, want /events", loc)
		}
	})
}
