package schema_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/schema"
)

// BenchmarkCheck measures the ingest hook on a batch of 100 events, with
// validation off and with every event checked against a cached schema.
func BenchmarkCheck(b *testing.B) {
	db := teststore.SQLite(b)
	ctx := context.Background()
	s := &trail.ActionSchema{Tenant: "acme", Action: "user.created", CreatedAt: time.Now(),
		Metadata: json.RawMessage(`{"type":"object","required":["plan"],"properties":{"plan":{"enum":["free","pro"]},
			"seats":{"type":"integer","minimum":1},"email":{"format":"email"}}}`)}
	if err := schema.Register(ctx, db, s); err != nil {
		b.Fatal(err)
	}
	events := make([]*trail.Event, 100)
	for i := range events {
		events[i] = &trail.Event{Tenant: "acme", Action: "user.created", Version: 1,
			Metadata: json.RawMessage(fmt.Sprintf(`{"plan":"pro","seats":%d,"email":"u%d@example.com"}`, i+1, i))}
	}
	for _, mode := range []string{trail.ValidationOff, trail.ValidationEnforce} {
		b.Run(mode, func(b *testing.B) {
			if err := db.SetValidationMode(ctx, "acme", mode, time.Now()); err != nil {
				b.Fatal(err)
			}
			v := schema.NewValidator(db, nil)
			for b.Loop() {
				if err := v.Check(ctx, events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}
