package forward_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// Forwarders follow the stream with the node's Follower: a commit of the
// node's Writer wakes an idle forwarder, long before its poll interval.
func TestForwarderWokenByCommit(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	MustCreate(t, s, &trail.Forwarder{Name: "siem", Kind: trail.ForwarderWebhook, URI: rc.URL})
	f := trail.NewFollower()
	w := trail.NewWriter(s, 1000, func(trail.CommitStats) { f.Notify() })
	t.Cleanup(func() { w.Close() })
	cfg := testConfig(s, "node-1")
	cfg.Poll, cfg.Follower = time.Hour, f
	t.Cleanup(RunManager(t, cfg))
	appendOne := func(action string) {
		e := trail.NewSystemEvent("acme", action, trail.Actor{Type: trail.ActorUser, ID: "u1"},
			trail.Context{}, time.Now())
		if err := w.Append(context.Background(), &trail.Batch{Events: []*trail.Event{e}}); err != nil {
			t.Fatal(err)
		}
	}
	appendOne("user.created")
	testenv.Eventually(t, 15*time.Second, "the first delivery", func() bool { return len(rc.Requests()) >= 1 })
	appendOne("user.deleted") // the forwarder is idle now, or about to be
	testenv.Eventually(t, 15*time.Second, "the second delivery, woken by the commit", func() bool { return len(rc.Requests()) >= 2 })
}
