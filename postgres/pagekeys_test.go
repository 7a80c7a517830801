package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
)

// TestPageByKeys checks how pages are read: a target's or an actor's page
// reads its keys first, then its events in concurrent runs of bitmap heap
// scans, in page order; and the settings that force that scan do not outlive
// it on the connection.
func TestPageByKeys(t *testing.T) {
	ctx := context.Background()
	// One connection per pool, so that every page query and plan below
	// runs on the same session.
	db := MustOpen(t, pgtest.NewDB(t)+"&pool_max_conns=1")
	// Over the past year, so that a target's page spans several months
	// and its keys several time slices.
	at := time.Now().UTC().AddDate(-1, 0, 0).Truncate(time.Second)
	var evs []*trail.Event
	for i := range 150 {
		e := event([]string{"acme", "", "globex"}[i%3], at.Add(time.Duration(i)*48*time.Hour))
		e.Targets = []trail.Target{{Type: "project", ID: "p1"}}
		evs = append(evs, e)
	}
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	scope := trail.Scope{Tenant: "acme"}
	for name, q := range map[string]trail.Query{
		"Target":   {TargetType: "project", TargetID: "p1", Desc: true, Limit: 40},
		"TargetID": {TargetID: "p1", Limit: 40},
		"ActorID":  {ActorID: "u1", Desc: true, Limit: 40},
		"TargetRange": {TargetType: "project", TargetID: "p1", Desc: true, Limit: 20,
			Since: at.AddDate(0, 2, 0), Until: at.AddDate(0, 8, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			q.Scope = scope
			page, err := db.Events(ctx, &q)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(page.Events), q.Limit; got != want || page.Next == nil {
				t.Fatalf("page of %d events, next %v; want %d and a cursor", got, page.Next, want)
			}
			// Every event has this actor type, so this is the same page,
			// read in one step.
			ref := q
			ref.ActorType = trail.ActorUser
			want, err := db.Events(ctx, &ref)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(page.Events), ids(want.Events); !slices.Equal(got, want) {
				t.Errorf("page by keys =\n%v\nwant\n%v", got, want)
			}
			plan, err := db.Explain(ctx, &q)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"-- 1. keys", "-- 2. events", "Bitmap Heap Scan on events_p"} {
				if !strings.Contains(plan, want) {
					t.Errorf("plan lacks %q:\n%s", want, plan)
				}
			}
			newest, err := db.Explain(ctx, &trail.Query{Scope: scope, Desc: true})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(newest, "Bitmap") || strings.Contains(newest, "-- 2. events") {
				t.Errorf("the newest page, planned after a page by keys, reads by bitmap or keys:\n%s", newest)
			}
		})
	}
}

func ids(evs []*trail.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
