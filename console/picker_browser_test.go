package console_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/trailhq/trail/internal/testenv"
)

// datalistValues reads the actor picker's suggestions.
const datalistValues = `[...document.querySelectorAll("#f-actor-list option")].map(o => o.value + "=" + o.label)`

// submitWith types keys into the field with id and waits for the page
// they open.
func submitWith(id, keys string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.ID(id), keys))(ctx, tg)
		return err
	})
}

// seededOwnerTab starts a console with 60 seeded events and returns it
// with a tab signed in as acme's owner.
func seededOwnerTab(t *testing.T) (*env, context.Context) {
	e := newEnv(t)
	e.seed(t, 60)
	owner := tab(t)
	signIn(t, owner, e.srv.URL, e.owner, password)
	return e, owner
}

// shootForDocs saves a screenshot of the page as name in the test output
// folder, and with -update in docs/.
func shootForDocs(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := shoot(t, ctx, outputDir(t), name)
	if *update {
		b, err := os.ReadFile(png)
		if err == nil {
			err = os.WriteFile(filepath.Join("..", "docs", name), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPickersInBrowser types into the actor picker and chooses an
// actor from the keyboard, picks a target type, and reads an entity's
// own actions; every control passes axe-core.
func TestPickersInBrowser(t *testing.T) {
	e, owner := seededOwnerTab(t)

	t.Run("ActorPicker", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), chromedp.Focus(chromedp.ID("f-actor")),
			chromedp.SendKeys(chromedp.ID("f-actor"), "CAR"))
		want := []string{"u_carol=carol@acme.example · user"}
		testenv.Eventually(t, 5*time.Second, "the picker's suggestions for CAR", func() bool {
			return slices.Equal(eval[[]string](t, owner, datalistValues), want)
		})
		checkAxe(t, owner, "the actor picker")
		shootForDocs(t, owner, "console-picker.png")
		// Choosing a suggestion puts its id in the field. Headless
		// Chromium draws no suggestion list for the keyboard to move in,
		// so the test does what the browser does on a choice: it replaces
		// the text with the option's value and fires an input event.
		eval[int](t, owner, `(() => {
			const input = document.getElementById("f-actor");
			input.value = document.querySelector("#f-actor-list option").value;
			input.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertReplacementText"}));
			return 0;
		})()`)
		if got := eval[string](t, owner, `document.getElementById("f-actor").value`); got != "u_carol" {
			t.Fatalf("after choosing the first suggestion, the field holds %q", got)
		}
		run(t, owner, submitWith("f-actor", kb.Enter))
		if got := eval[string](t, owner, "location.search"); !strings.Contains(got, "actor_id=u_carol") {
			t.Fatalf("after choosing carol, the page is %q", got)
		}
		users := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label=User] a")].map(a => a.textContent.trim())`)
		if len(users) == 0 || slices.ContainsFunc(users, func(u string) bool { return u != "carol@acme.example" }) {
			t.Fatalf("carol's events show users %q", users)
		}
	})
	t.Run("NamesByID", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), chromedp.SendKeys(chromedp.ID("f-actor"), "k_"))
		want := []string{"k_ci=CI deploy key · api_key"}
		testenv.Eventually(t, 5*time.Second, "the picker's suggestions for k_", func() bool {
			return slices.Equal(eval[[]string](t, owner, datalistValues), want)
		})
	})
	t.Run("TargetType", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		got := eval[[]string](t, owner, `[...document.querySelectorAll("#f-ttype option")].map(o => o.value)`)
		if want := []string{"", "document", "project", "user"}; !slices.Equal(got, want) {
			t.Fatalf("target type choices %q, want %q", got, want)
		}
		run(t, owner, chromedp.Focus(chromedp.ID("f-ttype")), chromedp.SendKeys(chromedp.ID("f-ttype"), "p"),
			follow("button.primary"))
		if got := eval[string](t, owner, "location.search"); !strings.Contains(got, "target_type=project") {
			t.Fatalf("after choosing project, the page is %q", got)
		}
		checkAxe(t, owner, "the target type filter")
	})
	t.Run("EntityActions", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/entity?target_type=document&target_id=d_1042"))
		got := eval[[]string](t, owner, `[...document.querySelectorAll("#f-action option")].map(o => o.value)`)
		if want := []string{"", "document.shared"}; !slices.Equal(got, want) {
			t.Fatalf("the entity's action choices %q, want %q", got, want)
		}
	})
}
