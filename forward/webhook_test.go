package forward_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

// The Standard Webhooks reference vector: what every receiver library
// checks against.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign(t *testing.T) {
	got, err := forward.Sign(vectorSecret, vectorID, time.Unix(vectorTS, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSig {
		t.Errorf("Sign = %s, want %s", got, vectorSig)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(vectorTS, 0)
	header := func(sig string, ts int64) http.Header {
		h := http.Header{}
		h.Set("webhook-id", vectorID)
		h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		h.Set("webhook-signature", sig)
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		ok   bool
	}{
		{"OK", header(vectorSig, vectorTS), vectorBody, now, true},
		{"OKOneOfSeveral", header("v1,bm9wZQ== "+vectorSig, vectorTS), vectorBody, now, true},
		{"ErrBodyChanged", header(vectorSig, vectorTS), `{"test": 2432232315}`, now, false},
		{"ErrReplayedLater", header(vectorSig, vectorTS), vectorBody, now.Add(6 * time.Minute), false},
		{"ErrFromTheFuture", header(vectorSig, vectorTS), vectorBody, now.Add(-6 * time.Minute), false},
		{"ErrOtherVersion", header("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", vectorTS), vectorBody, now, false},
		{"ErrNoSignature", header("", vectorTS), vectorBody, now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := forward.Verify(vectorSecret, tt.h, []byte(tt.body), forward.DefaultTolerance, tt.now)
			if got := err == nil; got != tt.ok {
				t.Errorf("Verify ok = %v (err %v), want %v", got, err, tt.ok)
			}
		})
	}
}

// TestWebhook delivers events to a real HTTP receiver and checks
// everything the receiver sees: method, headers, bearer token, signature
// and body, in order, with the forwarder's filter applied.
func TestWebhook(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	f := MustCreate(t, s, &trail.Forwarder{
		Name: "siem", Kind: trail.ForwarderWebhook, URI: rc.URL + "/audit", Token: "THE-SECRET-TOKEN",
		Method: "PUT", Filter: trail.ForwarderFilter{Actions: []string{"user.*"}, Tenants: []string{"acme"}},
	})
	StartManager(t, s, "node-1")
	MustAppend(t, s, "acme", "user.created", "doc.viewed", "user.deleted")
	MustAppend(t, s, "globex", "user.created")
	sys := MustAppend(t, s, "", "user.login")
	want := []string{"user.created", "user.deleted", "user.login"}

	testenv.Eventually(t, 15*time.Second, "three deliveries", func() bool { return len(rc.Requests()) >= 3 })
	testenv.Eventually(t, 15*time.Second, "the cursor to reach the last event", func() bool {
		return status(t, s, "", "siem").Cursor == sys[0].Pos
	})
	reqs := rc.Requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3 (filtered events must be skipped)", len(reqs))
	}
	for i, r := range reqs {
		checkWebhookRequest(t, f, r)
		var e trail.Event
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatalf("request %d: body is not one event: %v", i, err)
		}
		if got := e.Action; got != want[i] {
			t.Errorf("request %d: action %s, want %s (in stream order)", i, got, want[i])
		}
		if got, want := r.Header.Get("webhook-id"), e.ID; got != want {
			t.Errorf("request %d: webhook-id %s, want the event id %s", i, got, want)
		}
	}
	st := status(t, s, "", "siem")
	if st.State != trail.ForwarderActive || st.LastSuccessAt.IsZero() {
		t.Errorf("status = %+v, want active with last_success_at", st)
	}
}

func checkWebhookRequest(t *testing.T, f *trail.Forwarder, r request) {
	t.Helper()
	checks := []struct{ name, got, want string }{
		{"method", r.Method, f.Method},
		{"path", r.Path, "/audit"},
		{"Content-Type", r.Header.Get("Content-Type"), "application/json"},
		{"User-Agent", r.Header.Get("User-Agent"), "Trail-Audit-Forwarder/" + trail.Version},
		{"Authorization", r.Header.Get("Authorization"), "Bearer " + f.Token},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if err := forward.Verify(f.Secret, r.Header, r.Body, time.Minute, time.Now()); err != nil {
		t.Errorf("signature: %v", err)
	}
}

// TestWebhookBatch sends JSON arrays of up to batch.size events.
func TestWebhookBatch(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	f := MustCreate(t, s, &trail.Forwarder{
		Name: "batched", Kind: trail.ForwarderWebhook, URI: rc.URL,
		Batch: trail.BatchConfig{Size: 3, Wait: trail.Duration(50 * time.Millisecond)},
	})
	evs := MustAppend(t, s, "acme", "a.one", "a.two", "a.three", "a.four", "a.five")
	StartManager(t, s, "node-1")

	var got []string
	testenv.Eventually(t, 15*time.Second, "all five events", func() bool {
		got = nil
		for _, r := range rc.Requests() {
			got = append(got, eventIDs(t, r.Body)...)
		}
		return len(got) >= 5
	})
	if !slices.Equal(got, ids(evs)) {
		t.Errorf("delivered %v, want %v", got, ids(evs))
	}
	for i, r := range rc.Requests() {
		if !bytes.HasPrefix(r.Body, []byte("[")) {
			t.Errorf("request %d: body is not a JSON array: %.40s", i, r.Body)
		}
		if n := len(eventIDs(t, r.Body)); n > 3 {
			t.Errorf("request %d: %d events, want at most batch.size 3", i, n)
		}
		if err := forward.Verify(f.Secret, r.Header, r.Body, time.Minute, time.Now()); err != nil {
			t.Errorf("request %d: signature: %v", i, err)
		}
	}
}

// TestTenantForwarder: a tenant's forwarder sees its tenant's events and
// system events, never another tenant's.
func TestTenantForwarder(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	MustCreate(t, s, &trail.Forwarder{Tenant: "acme", Name: "mine", Kind: trail.ForwarderWebhook, URI: rc.URL})
	StartManager(t, s, "node-1")
	a := MustAppend(t, s, "acme", "doc.created")
	MustAppend(t, s, "globex", "doc.created")
	sys := MustAppend(t, s, "", "key.created")
	testenv.Eventually(t, 15*time.Second, "the cursor to pass every event", func() bool {
		return status(t, s, "acme", "mine").Cursor == sys[0].Pos
	})
	var got []string
	for _, r := range rc.Requests() {
		got = append(got, eventIDs(t, r.Body)...)
	}
	if want := []string{a[0].ID, sys[0].ID}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want acme's and the system event %v", got, want)
	}
}

// TestStartBeginning: a forwarder created with start: beginning delivers
// events stored before it; one with the default start does not.
func TestStartBeginning(t *testing.T) {
	s := MustOpenStore(t)
	old := MustAppend(t, s, "acme", "doc.created")
	rcAll, rcNew := NewReceiver(t, nil), NewReceiver(t, nil)
	MustCreate(t, s, &trail.Forwarder{Name: "all", Kind: trail.ForwarderWebhook, URI: rcAll.URL, Start: trail.StartBeginning})
	MustCreate(t, s, &trail.Forwarder{Name: "new", Kind: trail.ForwarderWebhook, URI: rcNew.URL})
	StartManager(t, s, "node-1")
	fresh := MustAppend(t, s, "acme", "doc.updated")
	testenv.Eventually(t, 15*time.Second, "both forwarders to deliver", func() bool {
		return len(rcAll.Requests()) == 2 && len(rcNew.Requests()) == 1
	})
	if got, want := eventIDs(t, rcAll.Requests()[0].Body), ids(old); !slices.Equal(got, want) {
		t.Errorf("start=beginning first delivered %v, want the old event %v", got, want)
	}
	if got, want := eventIDs(t, rcNew.Requests()[0].Body), ids(fresh); !slices.Equal(got, want) {
		t.Errorf("start=now delivered %v, want only the new event %v", got, want)
	}
}

func TestCreateValidates(t *testing.T) {
	s := MustOpenStore(t)
	err := forward.Create(context.Background(), s, &trail.Forwarder{Name: "x", Kind: trail.ForwarderWebhook,
		URI: "https://example.com", Method: "GET"}, time.Now())
	if got, want := trail.ErrorMessage(err), "method: must be POST, PUT or PATCH"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	fs, _ := s.Forwarders(context.Background(), trail.Scope{All: true})
	if len(fs) != 0 {
		t.Errorf("an invalid forwarder was stored: %v", fs)
	}
}
