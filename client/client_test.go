package client_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
)

// testServer is a real HTTP API over a real SQLite store.
type testServer struct {
	URL   string
	Store trail.Store
}

// newServer starts the API. wrap, if not nil, wraps its handler, so that a
// test can inject faults in front of the real server.
func newServer(tb testing.TB, wrap func(http.Handler) http.Handler) *testServer {
	tb.Helper()
	db := teststore.SQLite(tb)
	w := trail.NewWriter(db, 5000, nil)
	tb.Cleanup(func() { w.Close() })
	var h http.Handler = httpapi.New(httpapi.Config{Store: db, Writer: w}).Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &testServer{URL: srv.URL, Store: db}
}

// mustKey creates a key in the store and returns its secret.
func (s *testServer) mustKey(tb testing.TB, tenant string, scopes ...string) string {
	tb.Helper()
	k, secret, err := trail.NewAPIKey("test", tenant, tenant == "", scopes, time.Time{}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Store.CreateKey(context.Background(), k); err != nil {
		tb.Fatal(err)
	}
	return secret
}

// client returns a client with a tenant key of acme that reads and writes.
func (s *testServer) client(tb testing.TB) *client.Client {
	tb.Helper()
	return client.New(s.URL, s.mustKey(tb, "acme", trail.ScopeEventsWrite, trail.ScopeEventsRead))
}

func event(action, target string) client.Event {
	return client.Event{
		Action:     action,
		OccurredAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Actor:      trail.Actor{Type: "user", ID: "u_1", Name: "Ada"},
		Targets:    []trail.Target{{Type: "document", ID: target}},
		Context:    trail.Context{IP: "10.0.0.1"},
		Metadata:   map[string]any{"plan": "pro"},
	}
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		c := newServer(t, nil).client(t)
		ids, err := c.Publish(ctx, event("document.created", "d1"), event("document.shared", "d1"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(ids), 2; got != want {
			t.Fatalf("got %d ids, want %d", got, want)
		}
		e, err := c.Get(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.Action, "document.shared"; got != want {
			t.Errorf("action: got %q, want %q", got, want)
		}
		if got, want := string(e.Metadata), `{"plan":"pro"}`; got != want {
			t.Errorf("metadata: got %s, want %s", got, want)
		}
		if got, want := e.Tenant, "acme"; got != want {
			t.Errorf("tenant: got %q, want %q", got, want)
		}
	})
	t.Run("ZeroOccurredAtIsNow", func(t *testing.T) {
		now := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
		s := newServer(t, nil)
		c := client.New(s.URL, s.mustKey(t, "acme", trail.ScopeAdmin), client.WithClock(func() time.Time { return now }))
		e := event("user.login", "d1")
		e.OccurredAt = time.Time{}
		ids, err := c.Publish(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Get(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if !got.OccurredAt.Equal(now) {
			t.Errorf("occurred_at: got %v, want %v", got.OccurredAt, now)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		c := newServer(t, nil).client(t)
		bad := event("document.created", "")
		_, err := c.Publish(ctx, event("document.created", "d1"), bad)
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("got %v, want *client.Error", err)
		}
		if got, want := e.Status, 400; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		if got, want := e.Code, trail.EINVALID; got != want {
			t.Errorf("code: got %q, want %q", got, want)
		}
		if len(e.Details) != 1 || e.Details[0].Field != "targets[0].id" || e.Details[0].Index == nil || *e.Details[0].Index != 1 {
			t.Errorf("details: got %+v, want one for events[1] targets[0].id", e.Details)
		}
		page, err := c.List(ctx, client.Query{Actions: []string{"document.*"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 0 {
			t.Errorf("a rejected batch stored %d events", len(page.Events))
		}
	})
	t.Run("ErrNoEvents", func(t *testing.T) {
		c := newServer(t, nil).client(t)
		if _, err := c.Publish(ctx); err == nil {
			t.Error("publishing nothing succeeded")
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		s := newServer(t, nil)
		_, err := client.New(s.URL, "trail_k_nope_0000").Publish(ctx, event("a.b", "d1"))
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 401 || e.Code != trail.EUNAUTHORIZED {
			t.Errorf("got %v, want a 401 unauthorized *client.Error", err)
		}
	})
	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := client.New("localhost:8080", "k").Publish(ctx, event("a.b", "d1"))
		if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:8080") {
			t.Errorf("got %v, want an error that shows the URL form", err)
		}
	})
}

func TestPublishIdempotent(t *testing.T) {
	ctx := context.Background()
	c := newServer(t, nil).client(t)
	first, err := c.PublishIdempotent(ctx, "order-42", event("order.paid", "o42"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.PublishIdempotent(ctx, "order-42", event("order.paid", "o42"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, again) {
		t.Errorf("retry returned ids %v, want the first answer %v", again, first)
	}
	page, err := c.List(ctx, client.Query{Actions: []string{"order.paid"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(page.Events), 1; got != want {
		t.Errorf("stored %d events, want %d", got, want)
	}
}

// publishN stores n events of action acme.tested with targets t0..t(n-1).
func publishN(tb testing.TB, c *client.Client, n int) []string {
	tb.Helper()
	events := make([]client.Event, n)
	for i := range events {
		events[i] = event("acme.tested", fmt.Sprintf("t%d", i))
		events[i].OccurredAt = events[i].OccurredAt.Add(time.Duration(i) * time.Second)
	}
	ids, err := c.Publish(context.Background(), events...)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

func TestList(t *testing.T) {
	ctx := context.Background()
	c := newServer(t, nil).client(t)
	ids := publishN(t, c, 5)
	t.Run("Pages", func(t *testing.T) {
		q := client.Query{Actions: []string{"acme.*"}, Order: "asc", Limit: 2}
		var got []string
		for {
			page, err := c.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				got = append(got, e.ID)
			}
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if !slices.Equal(got, ids) {
			t.Errorf("got %v, want %v", got, ids)
		}
	})
	t.Run("All", func(t *testing.T) {
		var got []string
		for e, err := range c.All(ctx, client.Query{Actions: []string{"acme.tested"}, Limit: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.ID)
		}
		want := slices.Clone(ids)
		slices.Reverse(want) // newest first by default
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		page, err := c.List(ctx, client.Query{TargetType: "document", TargetID: "t3",
			Since: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), IP: "10.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 || page.Events[0].ID != ids[3] {
			t.Errorf("got %d events, want only %s", len(page.Events), ids[3])
		}
	})
	t.Run("ErrBadQuery", func(t *testing.T) {
		_, err := c.List(ctx, client.Query{Sort: "size"})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 400 || len(e.Details) == 0 || e.Details[0].Field != "sort" {
			t.Errorf("got %v, want a 400 naming sort", err)
		}
	})
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, nil)
	c := s.client(t)
	ids := publishN(t, c, 1)
	t.Run("ErrOtherTenant", func(t *testing.T) {
		other := client.New(s.URL, s.mustKey(t, "globex", trail.ScopeEventsRead))
		_, err := other.Get(ctx, ids[0])
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 404 || e.Code != trail.ENOTFOUND {
			t.Errorf("got %v, want 404 not_found", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.Get(ctx, trail.NewID(time.Now()))
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 404 {
			t.Errorf("got %v, want 404", err)
		}
	})
}

func TestTargetEvents(t *testing.T) {
	c := newServer(t, nil).client(t)
	ids := publishN(t, c, 3)
	page, err := c.TargetEvents(context.Background(), "document", "t1", client.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].ID != ids[1] {
		t.Errorf("got %d events, want only %s", len(page.Events), ids[1])
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	c := newServer(t, nil).client(t)
	ids := publishN(t, c, 3)
	t.Run("CSV", func(t *testing.T) {
		var buf bytes.Buffer
		if err := c.Export(ctx, client.FormatCSV, client.Query{Actions: []string{"acme.tested"}, Order: "asc"}, &buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rows), 4; got != want {
			t.Fatalf("got %d rows, want %d (header and 3 events)", got, want)
		}
		if got, want := rows[0][0], "id"; got != want {
			t.Errorf("header starts with %q, want %q", got, want)
		}
		if got, want := rows[3][0], ids[2]; got != want {
			t.Errorf("last row id: got %s, want %s", got, want)
		}
	})
	t.Run("JSONL", func(t *testing.T) {
		var buf bytes.Buffer
		if err := c.Export(ctx, client.FormatJSONL, client.Query{Actions: []string{"acme.tested"}}, &buf); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Count(buf.String(), "\n"), 3; got != want {
			t.Errorf("got %d lines, want %d", got, want)
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		err := c.Export(ctx, "xml", client.Query{}, &bytes.Buffer{})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Errorf("got %v, want 400", err)
		}
	})
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, nil)
	admin := client.New(s.URL, s.mustKey(t, "", trail.ScopeAdmin))
	k, secret, err := admin.CreateKey(ctx, client.KeyRequest{Name: "billing", Tenant: "acme",
		Scopes: []string{trail.ScopeEventsWrite}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == "" || !strings.Contains(secret, k.ID) || k.Tenant != "acme" || k.ExpiresAt.IsZero() {
		t.Fatalf("got key %+v and secret %q", k, secret)
	}
	writer := client.New(s.URL, secret)
	if _, err := writer.Publish(ctx, event("a.b", "d")); err != nil {
		t.Fatalf("new key cannot publish: %v", err)
	}
	keys, err := admin.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(keys, func(x *trail.APIKey) bool { return x.ID == k.ID }) {
		t.Errorf("list lacks %s", k.ID)
	}
	revoked, err := admin.RevokeKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if revoked.RevokedAt.IsZero() {
		t.Error("revoked key has no revoked_at")
	}
	_, err = writer.Publish(ctx, event("a.b", "d"))
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 401 {
		t.Errorf("revoked key: got %v, want 401", err)
	}
}

func TestErrorNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	_, err := client.New(srv.URL, "k").List(context.Background(), client.Query{})
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *client.Error", err)
	}
	if e.Status != 502 || e.Code != trail.EUNAVAILABLE || !strings.Contains(e.Message, "bad gateway") ||
		e.RetryAfter != 7*time.Second || !e.Temporary() {
		t.Errorf("got %+v", e)
	}
}
