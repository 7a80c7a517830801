package client

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trailhq/trail"
)

// Event is an audit event as an application sends it. The server adds the
// id, received_at and the resolved tenant, and validates every field (see
// trail.EventInput.Validate for the rules).
type Event struct {
	// Action is what happened: lower-case words joined by dots, such as
	// "user.created".
	Action string `json:"action"`
	// OccurredAt is when it happened. When zero, the client sets it to the
	// time the event was handed to Publish.
	OccurredAt time.Time      `json:"occurred_at"`
	Actor      trail.Actor    `json:"actor"`
	Targets    []trail.Target `json:"targets,omitempty"`
	Context    trail.Context  `json:"context,omitzero"`
	// Metadata is any value that encodes as a JSON object, such as a
	// map[string]any or a struct.
	Metadata any `json:"metadata,omitempty"`
	// Version is the version of the action's schema; 0 means 1.
	Version int    `json:"version,omitempty"`
	TraceID string `json:"trace_id,omitempty"`
	// Tenant is the organization of the event. Tenant keys may leave it
	// empty; platform keys set it, or leave it empty for a system event.
	Tenant string `json:"tenant,omitempty"`
}

// Page is one page of events and the cursor of the next page, empty at the
// end.
type Page struct {
	Events     []*trail.Event `json:"events"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// Query filters, sorts and pages event reads. Empty fields do not filter.
type Query struct {
	// Tenant narrows a platform key's read to one tenant (and system
	// events). Tenant keys always read their own tenant.
	Tenant string
	// Actions matches any entry; "user.*" matches a prefix.
	Actions    []string
	ActorType  string
	ActorID    string
	ActorName  string
	TargetType string
	TargetID   string
	TraceID    string
	IP         string
	// Query is a full-text search (the q parameter): words, "phrases",
	// field:value, prefix*, AND, OR, NOT; see docs/api.md.
	Query string
	Since time.Time // occurred_at >= Since
	Until time.Time // occurred_at < Until
	// Sort is "occurred_at" (the default), "action", "actor" (by the
	// actor's id), "actor_name", "target_type" or "target_id" (by the
	// first target's type or id; events without targets sort as "").
	Sort string
	// Order is "asc" or "desc"; the default is newest first for
	// occurred_at and a to z otherwise.
	Order string
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// Limit is the page size, 1 to 1000; 0 means the server's default.
	Limit int
}

// Values returns q as the URL parameters of GET /v1/events.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	for _, a := range q.Actions {
		v.Add("action", a)
	}
	set("tenant", q.Tenant)
	set("actor_type", q.ActorType)
	set("actor_id", q.ActorID)
	set("actor_name", q.ActorName)
	set("target_type", q.TargetType)
	set("target_id", q.TargetID)
	set("trace_id", q.TraceID)
	set("ip", q.IP)
	set("q", q.Query)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	set("sort", q.Sort)
	set("order", q.Order)
	set("cursor", q.Cursor)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Publish stores events as one batch, all or nothing, and returns their ids
// in order once the server has durably committed them.
func (c *Client) Publish(ctx context.Context, events ...Event) ([]string, error) {
	return c.PublishIdempotent(ctx, "", events...)
}

// PublishIdempotent is Publish with an Idempotency-Key: sending the same
// key again (for a retry) returns the first answer and stores nothing
// twice. An empty key sends none.
func (c *Client) PublishIdempotent(ctx context.Context, key string, events ...Event) ([]string, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("trail client: publish: no events")
	}
	now := c.now()
	for i := range events {
		if events[i].OccurredAt.IsZero() {
			events[i].OccurredAt = now
		}
	}
	r := request{method: http.MethodPost, path: "/v1/events", body: publishBody{events}}
	if key != "" {
		r.headers = map[string]string{"Idempotency-Key": key}
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return out.IDs, nil
}

// publishEncoded stores events already encoded (one JSON object each) as
// one batch, with Idempotency-Key key; the Publisher encodes each event
// once, to size its batches.
func (c *Client) publishEncoded(ctx context.Context, key string, events [][]byte) ([]string, error) {
	body := make([]byte, 0, encodedBodySize(events))
	body = append(body, `{"events":[`...)
	for i, e := range events {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, e...)
	}
	body = append(body, "]}"...)
	r := request{method: http.MethodPost, path: "/v1/events", raw: body,
		headers: map[string]string{"Idempotency-Key": key}}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return out.IDs, nil
}

// encodedBodySize is the size of the POST /v1/events body of events:
// {"events":[ ... ]} with commas between them.
func encodedBodySize(events [][]byte) int {
	n := len(`{"events":[]}`) + max(len(events)-1, 0)
	for _, e := range events {
		n += len(e)
	}
	return n
}

type publishBody struct {
	Events []Event `json:"events"`
}

// List returns one page of the events matching q.
func (c *Client) List(ctx context.Context, q Query) (*Page, error) {
	var p Page
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events", query: q.Values()}, &p)
	return &p, err
}

// All iterates over every event matching q, page by page from q.Cursor,
// and stops at the first error, which it yields.
func (c *Client) All(ctx context.Context, q Query) iter.Seq2[*trail.Event, error] {
	return func(yield func(*trail.Event, error) bool) {
		for {
			p, err := c.List(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range p.Events {
				if !yield(e, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			q.Cursor = p.NextCursor
		}
	}
}

// Get returns the event with id; a *Error with Status 404 when it does not
// exist or the key may not see it.
func (c *Client) Get(ctx context.Context, id string) (*trail.Event, error) {
	var e trail.Event
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events/" + url.PathEscape(id)}, &e)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// TargetEvents returns one page of the events that touched the entity
// targetType/targetID, filtered and paged by q.
func (c *Client) TargetEvents(ctx context.Context, targetType, targetID string, q Query) (*Page, error) {
	path := "/v1/targets/" + url.PathEscape(targetType) + "/" + url.PathEscape(targetID) + "/events"
	var p Page
	err := c.do(ctx, request{method: http.MethodGet, path: path, query: q.Values()}, &p)
	return &p, err
}

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Export streams every event matching q (its Cursor and Limit are ignored)
// to w in format, FormatCSV or FormatJSONL, as the server writes it.
func (c *Client) Export(ctx context.Context, format string, q Query, w io.Writer) error {
	q.Cursor, q.Limit = "", 0
	v := q.Values()
	v.Set("format", format)
	resp, err := c.send(ctx, request{method: http.MethodGet, path: "/v1/events/export", query: v})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("trail client: export: %w", err)
	}
	return nil
}
