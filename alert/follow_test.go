package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/alert"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
)

// The evaluator follows the stream with the node's Follower: a commit of
// the node's Writer wakes it, long before its poll interval.
func TestEvaluatorWokenByCommit(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		f := trail.NewFollower()
		w := trail.NewWriter(s, 1000, func(trail.CommitStats) { f.Notify() })
		t.Cleanup(func() { w.Close() })
		h := &harness{t: t, store: s.(alert.Store), writer: w, allow: loopback}
		h.rule(&trail.AlertRule{Tenant: "acme", Name: "team deleted",
			Filter:    trail.AlertFilter{Actions: []string{"team.*"}},
			Condition: trail.AlertCondition{Type: trail.AlertAny},
			Webhook:   trail.AlertWebhook{URL: "http://127.0.0.1:1/hook"}})
		ctx, cancel := context.WithCancel(context.Background())
		ev := alert.New(alert.Config{Store: h.store, Writer: w, Poll: time.Hour, Follower: f})
		done := make(chan error, 1)
		go func() { done <- ev.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("evaluator: %v", err)
			}
		}()
		testenv.Eventually(t, 10*time.Second, "the evaluator to start", func() bool {
			cursor, _, err := h.store.AlertState(context.Background())
			return err == nil && cursor >= 0
		})
		e := h.emit("team.deleted", "u7")
		stored, err := s.Event(ctx, trail.Scope{All: true}, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, "the evaluator to read the committed event", func() bool {
			cursor, _, err := h.store.AlertState(context.Background())
			return err == nil && cursor >= stored.Pos
		})
	})
}
