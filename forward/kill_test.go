package forward_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/sqlite"
)

// childDBEnv names the store a child process forwards from; the kill test
// starts this test binary again with it set.
const childDBEnv = "TRAIL_FORWARD_CHILD_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(childDBEnv); path != "" {
		runChild(path)
		return
	}
	os.Exit(pgtest.Main(m))
}

// runChild forwards from the store at path until it is killed, or for a
// minute at most should the parent die first.
func runChild(path string) {
	s, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open store:", err)
		os.Exit(2)
	}
	cfg := testConfig(s, "child")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	forward.New(cfg).Run(ctx)
	os.Exit(3)
}

// TestKillMidDelivery kills a process in the middle of delivering (SIGKILL:
// no chance to save anything) and lets another take over from the store:
// every event arrives, a batch delivered again carries the same
// webhook-id and the same events, and no event travels under two ids.
func TestKillMidDelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	slowly := func(int, *http.Request, []byte) int {
		time.Sleep(time.Millisecond) // keeps delivery going while the child is killed
		return http.StatusOK
	}
	single, batched := NewReceiver(t, slowly), NewReceiver(t, slowly)
	MustCreate(t, s, &trail.Forwarder{Name: "single", Kind: trail.ForwarderWebhook, URI: single.URL})
	MustCreate(t, s, &trail.Forwarder{Name: "batched", Kind: trail.ForwarderWebhook, URI: batched.URL,
		Batch: trail.BatchConfig{Size: 7}})
	var evs []*trail.Event
	for range 4 {
		evs = append(evs, MustAppend(t, s, "acme", slices.Repeat([]string{"doc.viewed"}, 100)...)...)
	}

	var stderr bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childDBEnv+"="+path)
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the child to deliver part of the events", func() bool {
		return len(single.Requests()) >= 100 && len(batched.Requests()) >= 15
	})
	child.Process.Kill()
	child.Wait()
	if stderr.Len() > 0 {
		t.Logf("child stderr: %s", stderr.String())
	}
	atKill := len(single.Requests())

	StartManager(t, s, "parent")
	testenv.Eventually(t, 15*time.Second, "every event at both receivers", func() bool {
		return covers(t, single, evs) && covers(t, batched, evs)
	})
	t.Logf("single: %d requests for %d events, %d before the kill", len(single.Requests()), len(evs), atKill)
	for name, rc := range map[string]*Receiver{"single": single, "batched": batched} {
		checkStableIDs(t, name, rc)
		if got := firstSeen(t, rc); !slices.Equal(got, ids(evs)) {
			t.Errorf("%s: first deliveries out of stream order", name)
		}
	}
}

// covers reports whether rc received every event of evs.
func covers(tb testing.TB, rc *Receiver, evs []*trail.Event) bool {
	seen := map[string]bool{}
	for _, r := range rc.Requests() {
		for _, id := range eventIDs(tb, r.Body) {
			seen[id] = true
		}
	}
	for _, e := range evs {
		if !seen[e.ID] {
			return false
		}
	}
	return true
}

// checkStableIDs checks that each webhook-id always carried the same
// events and each event travelled under one webhook-id.
func checkStableIDs(t *testing.T, name string, rc *Receiver) {
	t.Helper()
	bodyOf := map[string][]string{}
	idOf := map[string]string{}
	for _, r := range rc.Requests() {
		wid, evIDs := r.Header.Get("webhook-id"), eventIDs(t, r.Body)
		if prev, ok := bodyOf[wid]; ok && !slices.Equal(prev, evIDs) {
			t.Errorf("%s: webhook-id %s redelivered with other events: %v then %v", name, wid, prev, evIDs)
		}
		bodyOf[wid] = evIDs
		for _, id := range evIDs {
			if prev, ok := idOf[id]; ok && prev != wid {
				t.Errorf("%s: event %s delivered under webhook-ids %s and %s", name, id, prev, wid)
			}
			idOf[id] = wid
		}
	}
}

// firstSeen returns event ids in the order of their first delivery.
func firstSeen(tb testing.TB, rc *Receiver) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rc.Requests() {
		for _, id := range eventIDs(tb, r.Body) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}
