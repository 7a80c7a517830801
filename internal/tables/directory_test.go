package tables_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

func actorEvent(tenant, id, name string, at time.Time, targetTypes ...string) *trail.Event {
	e := &trail.Event{Tenant: tenant, OccurredAt: at, Actor: trail.Actor{Type: "user", ID: id, Name: name}}
	for _, t := range targetTypes {
		e.Targets = append(e.Targets, trail.Target{Type: t, ID: "x"})
	}
	return e
}

func TestDirectoryCache(t *testing.T) {
	day1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	var d tables.Directory
	batch := &trail.Batch{Events: []*trail.Event{
		actorEvent("acme", "u1", "Ada", day1, "doc"),
		actorEvent("acme", "u1", "Ada", day2, "doc", "doc"),
		actorEvent("acme", "u1", "Ada", day1),
		actorEvent("acme", "", "No id", day1),
		actorEvent("globex", "u1", "Ada", day1),
	}}
	t.Run("DedupedPerBatch", func(t *testing.T) {
		rows := d.Fresh([]*trail.Batch{batch})
		want := fmt.Sprint([]tables.ActorRow{{"acme", "user", "u1", "Ada", "ada", trail.DirectoryDay(day2)},
			{"globex", "user", "u1", "Ada", "ada", trail.DirectoryDay(day1)}})
		if got := fmt.Sprint(rows.Actors); got != want {
			t.Fatalf("actor rows %s, want %s", got, want)
		}
		if got, want := fmt.Sprint(rows.Types), fmt.Sprint([]tables.TypeRow{{"acme", "doc", trail.DirectoryDay(day2)}}); got != want {
			t.Fatalf("target type rows %s, want %s", got, want)
		}
		if d.Len() != 0 {
			t.Fatal("Fresh remembered rows before their commit")
		}
		d.Remember(rows)
	})
	t.Run("KnownWritesNothing", func(t *testing.T) {
		rows := d.Fresh([]*trail.Batch{batch})
		if len(rows.Actors)+len(rows.Types) != 0 {
			t.Fatalf("a batch of known entries gives rows %+v", rows)
		}
	})
	t.Run("NewDayWritesAgain", func(t *testing.T) {
		rows := d.Fresh([]*trail.Batch{{Events: []*trail.Event{actorEvent("globex", "u1", "Ada", day2)}}})
		if len(rows.Actors) != 1 || rows.Actors[0].Day != trail.DirectoryDay(day2) {
			t.Fatalf("a known actor on a later day gives rows %+v", rows.Actors)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		var big tables.Directory
		for i := range 600_000 {
			big.Remember(&tables.DirectoryRows{Actors: []tables.ActorRow{{Tenant: "acme", Type: "user", ID: fmt.Sprint(i), Day: 1}}})
		}
		if n := big.Len(); n > 1<<18 {
			t.Fatalf("the cache holds %d entries, over its bound", n)
		}
		rows := big.Fresh([]*trail.Batch{{Events: []*trail.Event{actorEvent("acme", "599999", "", time.Unix(86400, 0))}}})
		if len(rows.Actors) != 0 {
			t.Fatal("the cache forgot its newest entry")
		}
	})
}
