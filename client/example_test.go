package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
)

func ExampleClient_Publish() {
	c := client.New("http://127.0.0.1:8080", os.Getenv("TRAIL_KEY"))
	ids, err := c.Publish(context.Background(), client.Event{
		Action:   "document.shared",
		Actor:    trail.Actor{Type: "user", ID: "u_42", Name: "Ada"},
		Targets:  []trail.Target{{Type: "document", ID: "d_7"}},
		Context:  trail.Context{IP: "203.0.113.7"},
		Metadata: map[string]any{"with": "u_43"},
	})
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Code == trail.EINVALID:
		for _, d := range e.Details {
			log.Printf("%s: %s", d.Field, d.Problem)
		}
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("stored", ids[0])
	}
}

func ExamplePublisher() {
	c := client.New("http://127.0.0.1:8080", os.Getenv("TRAIL_KEY"))
	p := client.NewPublisher(c, client.PublisherConfig{
		BatchSize:     200,
		FlushInterval: 500 * time.Millisecond,
		OnError: func(err error, events []client.Event) {
			log.Printf("trail: %d audit events not stored: %v", len(events), err)
		},
	})
	// Publish never blocks the request path.
	if err := p.Publish(client.Event{
		Action: "user.login",
		Actor:  trail.Actor{Type: "user", ID: "u_42"},
	}); err != nil {
		log.Print(err) // ErrBufferFull: Trail is unreachable for a while
	}
	// On shutdown, send what is buffered.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		log.Print(err)
	}
}

func ExampleClient_All() {
	c := client.New("http://127.0.0.1:8080", os.Getenv("TRAIL_KEY"))
	q := client.Query{Actions: []string{"user.*"}, Since: time.Now().Add(-24 * time.Hour)}
	for e, err := range c.All(context.Background(), q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.OccurredAt, e.Action, e.Actor.ID)
	}
}
