package httpapi_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// fixture is a small data set posted through the API, with each event's id
// under a short name.
type fixture struct {
	ids  map[string]string // name -> id
	base time.Time         // e1 occurred at base-50m, e2 at base-40m, ...
}

func at(base time.Time, minutesAgo int) string {
	return `"` + base.Add(-time.Duration(minutesAgo)*time.Minute).Format(time.RFC3339Nano) + `"`
}

func postFixture(t *testing.T, e *env) *fixture {
	t.Helper()
	base := time.Now().UTC().Truncate(time.Second)
	platform := e.newKey(t, "", true, trail.ScopeEventsWrite)
	body := batch(
		event("user.created", "occurred_at", at(base, 50), "tenant", `"acme"`, "trace_id", `"t1"`,
			"targets", `[{"type":"user","id":"u2"}]`, "context", `{"ip":"10.0.0.1"}`),
		event("user.deleted", "occurred_at", at(base, 40), "tenant", `"acme"`, "trace_id", `"t2"`,
			"actor", `{"type":"user","id":"u2","name":"Bob"}`,
			"targets", `[{"type":"user","id":"u1"},{"type":"doc","id":"d1"}]`, "context", `{"ip":"10.0.0.2"}`),
		event("doc.viewed", "occurred_at", at(base, 30), "tenant", `"acme"`,
			"actor", `{"type":"api_key","id":"k9","name":"CI"}`,
			"targets", `[{"type":"doc","id":"d1"}]`, "context", `{"ip":"2001:db8::1"}`),
		event("user.login.failure", "occurred_at", at(base, 20), "tenant", `"acme"`),
		event("user.created", "occurred_at", at(base, 10), "tenant", `"globex"`,
			"targets", `[{"type":"user","id":"u2"}]`),
		event("system.started", "occurred_at", at(base, 5), "actor", `{"type":"system"}`),
	)
	got := e.ingest(t, platform, body)
	f := &fixture{ids: map[string]string{}, base: base}
	for i, name := range []string{"e1", "e2", "e3", "e4", "e5", "sys"} {
		f.ids[name] = got[i]
	}
	return f
}

// names maps a page's events back to fixture names, sorted.
func (f *fixture) names(events []*trail.Event) []string {
	var out []string
	for _, e := range events {
		for name, id := range f.ids {
			if id == e.ID {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestListFilters(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		f := postFixture(t, e)
		reader := e.newKey(t, "", true, trail.ScopeEventsRead)
		ts := func(m int) string {
			return url.QueryEscape(f.base.Add(-time.Duration(m) * time.Minute).Format(time.RFC3339))
		}
		tests := []struct{ query, want string }{
			{"", "e1 e2 e3 e4 e5 sys"},
			{"action=user.created", "e1 e5"},
			{"action=user.*", "e1 e2 e4 e5"},
			{"action=user.deleted&action=doc.viewed", "e2 e3"},
			{"actor_type=api_key", "e3"},
			{"actor_id=u1", "e1 e4 e5"},
			{"actor_name=Bob", "e2"},
			{"target_type=doc", "e2 e3"},
			{"target_id=u2", "e1 e5"},
			{"target_type=user&target_id=u1", "e2"},
			{"trace_id=t2", "e2"},
			{"ip=10.0.0.1", "e1"},
			{"ip=2001:db8::1", "e3"},
			{"since=" + ts(35), "e3 e4 e5 sys"},
			{"until=" + ts(35), "e1 e2"},
			{"since=" + ts(35) + "&until=" + ts(25), "e3"},
			{"tenant=globex", "e5 sys"},
			{"tenant=acme&actor_id=u1", "e1 e4"},
			{"sort=action&order=asc", "e1 e2 e3 e4 e5 sys"},
			{"q=ada", "e1 e4 e5"},
			{"q=BOB", "e2"},
			{"q=doc", "e2 e3"},
			{"q=%22login+failure%22", "e4"},
			{"q=ip:10.0.0.*", "e1 e2"},
			{"q=user.*+-actor.name:ada", "e2"},
			{"q=ada&tenant=globex&sort=actor", "e5"},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				got := f.names(e.list(t, reader, tt.query).Events)
				if want := strings.Fields(tt.want); !slices.Equal(got, want) {
					t.Fatalf("GET /v1/events?%s = %v, want %v", tt.query, got, want)
				}
			})
		}
		t.Run("TargetRoute", func(t *testing.T) {
			for path, want := range map[string]string{
				"/v1/targets/doc/d1/events":                      "e2 e3",
				"/v1/targets/user/u2/events":                     "e1 e5",
				"/v1/targets/user/u2/events?tenant=acme":         "e1",
				"/v1/targets/user/u2/events?since=" + ts(15):     "e5",
				"/v1/targets/doc/nothing/events":                 "",
				"/v1/targets/user/u1/events?action=user.deleted": "e2",
				"/v1/targets/doc/d1/events?q=bob":                "e2",
			} {
				page := decode[eventsPage](t, e.do(t, "GET", path, reader, "").want(t, 200))
				if got := f.names(page.Events); !slices.Equal(got, strings.Fields(want)) {
					t.Errorf("GET %s = %v, want %v", path, got, want)
				}
			}
		})
		t.Run("ExportSearch", func(t *testing.T) {
			body := e.do(t, "GET", "/v1/events/export?format=jsonl&q=ada+OR+bob", reader, "").want(t, 200).body
			var got []*trail.Event
			for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
				ev, err := trail.DecodeEvent([]byte(line))
				if err != nil {
					t.Fatalf("export line %q: %v", line, err)
				}
				got = append(got, ev)
			}
			if names, want := f.names(got), []string{"e1", "e2", "e4", "e5"}; !slices.Equal(names, want) {
				t.Fatalf("export q=ada OR bob = %v, want %v", names, want)
			}
		})
	})
}

// TestListSortKeys pages through each sort by a key, two events a page,
// and checks the order: by the actor's name (none first), by the first
// target's type or id (none first; e2's second target does not count),
// then by time.
func TestListSortKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		f := postFixture(t, e)
		reader := e.newKey(t, "", true, trail.ScopeEventsRead)
		for _, tt := range []struct{ query, want string }{
			{"sort=actor_name", "sys e1 e4 e5 e2 e3"},
			{"sort=actor_name&order=desc", "e3 e2 e5 e4 e1 sys"},
			{"sort=target_type", "e4 sys e3 e1 e2 e5"},
			{"sort=target_id", "e4 sys e3 e2 e1 e5"},
			{"sort=target_id&order=desc&action=user.*", "e5 e1 e2 e4"},
			{"sort=actor_name&q=ada+OR+bob", "e1 e4 e5 e2"},
		} {
			t.Run(tt.query, func(t *testing.T) {
				var got []string
				query := tt.query + "&limit=2"
				for range 10 {
					page := e.list(t, reader, query)
					for _, ev := range page.Events {
						got = append(got, f.names([]*trail.Event{ev})...)
					}
					if page.NextCursor == nil {
						break
					}
					query = tt.query + "&limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
				}
				if want := strings.Fields(tt.want); !slices.Equal(got, want) {
					t.Fatalf("GET /v1/events?%s = %v, want %v", tt.query, got, want)
				}
			})
		}
	})
}

func TestListOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		f := postFixture(t, e)
		reader := e.newKey(t, "", true, trail.ScopeEventsRead)
		var got []string
		for _, ev := range e.list(t, reader, "").Events {
			got = append(got, f.names([]*trail.Event{ev})...)
		}
		// Newest first by default.
		if want := []string{"sys", "e5", "e4", "e3", "e2", "e1"}; !slices.Equal(got, want) {
			t.Fatalf("default order = %v, want %v", got, want)
		}
	})
}

func TestPagination(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		var events []string
		for i := range 25 {
			events = append(events, event(fmt.Sprintf("a.n%02d", i%7), "occurred_at",
				at(time.Now().UTC(), 60-i)))
		}
		posted := e.ingest(t, writer, batch(events...))
		for _, order := range []string{"", "sort=action", "sort=actor&order=desc", "order=asc", "sort=actor_name",
			"sort=target_type&order=desc", "sort=target_id"} {
			t.Run("Order="+order, func(t *testing.T) {
				var got []string
				var sizes []int
				query := order + "&limit=10"
				for range 10 {
					page := e.list(t, writer, query)
					got = append(got, ids(page.Events)...)
					sizes = append(sizes, len(page.Events))
					if page.NextCursor == nil {
						break
					}
					query = order + "&limit=10&cursor=" + url.QueryEscape(*page.NextCursor)
				}
				if want := []int{10, 10, 5}; !slices.Equal(sizes, want) {
					t.Fatalf("page sizes = %v, want %v", sizes, want)
				}
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(posted))) {
					t.Fatalf("pages hold %d distinct events, want the 25 posted", len(slices.Compact(slices.Sorted(slices.Values(got)))))
				}
			})
		}
		t.Run("CursorOfAnotherOrder", func(t *testing.T) {
			page := e.list(t, writer, "limit=1")
			e.do(t, "GET", "/v1/events?sort=action&cursor="+url.QueryEscape(*page.NextCursor), writer, "").
				wantError(t, 400, trail.EINVALID, "cursor")
		})
	})
}

// TestListInvalid checks that bad query parameters are 4xx errors naming
// the parameter, never 5xx and never a silently ignored filter.
func TestListInvalid(t *testing.T) {
	tests := []struct{ path, field string }{
		{"/v1/events?actr_id=u1", "actr_id"},
		{"/v1/events?limit=0", "limit"},
		{"/v1/events?limit=1001", "limit"},
		{"/v1/events?limit=x", "limit"},
		{"/v1/events?since=yesterday", "since"},
		{"/v1/events?until=2024-13-01T00:00:00Z", "until"},
		{"/v1/events?since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z", "until"},
		{"/v1/events?sort=size", "sort"},
		{"/v1/events?sort=actor.name", "sort"},
		{"/v1/events?sort=target_id&cursor=" + (&trail.Cursor{Sort: "actor_name", ID: trail.NewID(time.Now())}).Encode(), "cursor"},
		{"/v1/events?order=up", "order"},
		{"/v1/events?ip=nope", "ip"},
		{"/v1/events?action=User+Created", "action"},
		{"/v1/events?cursor=!!!", "cursor"},
		{"/v1/events?cursor=eyJzIjoib2NjdXJyZWRfYXQifQ", "cursor"},
		{"/v1/events?actor_id=a&actor_id=b", "actor_id"},
		{"/v1/events?actor_id=a%00b", "actor_id"},
		{"/v1/events?actor_id=%ff", "actor_id"},
		{"/v1/events?tenant=no+spaces", "tenant"},
		{"/v1/events?actor_id=" + strings.Repeat("a", 1025), "actor_id"},
		{"/v1/targets/doc/d1/events?target_id=d2", "target_id"},
		{"/v1/targets/doc/a%00b/events", "id"},
		{"/v1/events/export?format=xml", "format"},
		{"/v1/events/export", "format"},
		{"/v1/events/export?format=csv&limit=5", "limit"},
	}
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		for _, tt := range tests {
			t.Run(tt.path, func(t *testing.T) {
				e.do(t, "GET", tt.path, reader, "").wantError(t, 400, trail.EINVALID, tt.field)
			})
		}
		if got := e.allEvents(t); len(got) != 0 {
			t.Fatalf("%d events stored by bad reads (exports must not record), want 0", len(got))
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		f := postFixture(t, e)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		globex := e.newKey(t, "globex", false, trail.ScopeEventsRead)

		t.Run("OwnAndSystemEventsOnly", func(t *testing.T) {
			if got, want := f.names(e.list(t, acme, "").Events), []string{"e1", "e2", "e3", "e4", "sys"}; !slices.Equal(got, want) {
				t.Fatalf("acme sees %v, want %v", got, want)
			}
			if got, want := f.names(e.list(t, globex, "").Events), []string{"e5", "sys"}; !slices.Equal(got, want) {
				t.Fatalf("globex sees %v, want %v", got, want)
			}
		})
		t.Run("OtherTenantsEventIsNotFound", func(t *testing.T) {
			e.do(t, "GET", "/v1/events/"+f.ids["e5"], acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/events/"+f.ids["e1"], globex, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/events/"+f.ids["sys"], globex, "").want(t, 200)
			e.do(t, "GET", "/v1/events/not-an-id", globex, "").wantError(t, 404, trail.ENOTFOUND, "")
		})
		t.Run("TenantParamOfAnotherTenant", func(t *testing.T) {
			if got := e.list(t, acme, "tenant=globex").Events; len(got) != 0 {
				t.Fatalf("acme asking for globex sees %v, want nothing", f.names(got))
			}
			if got := f.names(e.list(t, acme, "tenant=acme").Events); len(got) != 5 {
				t.Fatalf("acme asking for acme sees %v", got)
			}
			page := decode[eventsPage](t, e.do(t, "GET", "/v1/targets/user/u2/events?tenant=globex", acme, "").want(t, 200))
			if len(page.Events) != 0 {
				t.Fatalf("acme reads globex's target events: %v", f.names(page.Events))
			}
		})
		t.Run("TenantKeyCannotWriteElsewhere", func(t *testing.T) {
			e.do(t, "POST", "/v1/events", acme, event("a.b", "tenant", `"globex"`)).
				wantError(t, 400, trail.EINVALID, "tenant")
			if got := f.names(e.list(t, globex, "").Events); len(got) != 2 {
				t.Fatalf("globex sees %v after acme's attempt", got)
			}
		})
	})
}
