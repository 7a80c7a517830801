package console_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
)

func TestLedgerProof(t *testing.T) {
	var led *ledger.Ledger
	s := teststore.SQLite(t)
	e := newEnv(t, onStore(s), func(c *console.Config) {
		key, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), "trail.test")
		if err != nil {
			t.Fatal(err)
		}
		if led, err = ledger.New(s, ledger.Config{Key: key, Origin: "trail.test"}); err != nil {
			t.Fatal(err)
		}
		c.Proof = console.LedgerProof(led)
	})
	events := e.seed(t, 5)
	if _, err := led.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	late := trail.NewSystemEvent("acme", "document.viewed", e.owner.Actor(), trail.Context{}, time.Now())
	if err := e.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{late}}); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(t, e.owner)
	t.Run("Sealed", func(t *testing.T) {
		_, body := e.get(t, c, "/events/"+events[2].ID)
		if !strings.Contains(body, "verified: leaf 2 of the signed checkpoint of size 5") {
			t.Fatalf("event page lacks a verified proof:\n%s", body)
		}
	})
	t.Run("Pending", func(t *testing.T) {
		_, body := e.get(t, c, "/events/"+late.ID)
		if !strings.Contains(body, "pending: not sealed") {
			t.Fatal("an unsealed event's page does not say pending")
		}
	})
}
