package trail

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sort keys for event queries. Every sort is a keyset over
// (key, occurred_at, id), so pages stay correct while events arrive.
//
// An event's first target alone decides its place in a target sort: it is
// the one the console's Model and Entity ID columns show, and one key per
// event keeps every page a keyset. An event without targets sorts as "",
// and so does an actor without a name.
const (
	SortOccurredAt = "occurred_at" // newest first by default
	SortAction     = "action"      // a to z by default
	SortActor      = "actor"       // by actor id, a to z by default
	SortActorName  = "actor_name"  // by the actor's name, a to z by default
	SortTargetType = "target_type" // by the first target's type, a to z by default
	// SortTargetID sorts by the first target's id alone, not by its
	// (type, id) pair: the Entity ID column shows the id, and sorting by
	// the pair would list rows whose ids look unsorted wherever types
	// change. SortTargetType groups by type.
	SortTargetID = "target_id"
)

// Sorts lists the sort keys, in the order documents name them.
var Sorts = []string{SortOccurredAt, SortAction, SortActor, SortActorName, SortTargetType, SortTargetID}

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Query selects events. Empty fields do not filter. Stores must apply Scope
// to every read.
type Query struct {
	Scope Scope

	// Actions matches any of its entries; an entry ending in ".*" matches
	// that prefix ("user.*" matches user.created and user.login.failure).
	Actions    []string
	ActorType  string
	ActorID    string
	ActorName  string
	TargetType string
	TargetID   string
	TraceID    string
	IP         string
	// Search, when not nil, keeps only the events it matches (Search.Match);
	// a store that cannot honour it must fail, never ignore it.
	Search *Search
	Since  time.Time // occurred_at >= Since, when not zero
	Until  time.Time // occurred_at < Until, when not zero

	Sort  string // one of the Sort constants; "" means SortOccurredAt
	Desc  bool   // descending order
	After *Cursor
	Limit int // page size; stores treat <= 0 as DefaultLimit
}

// Cursor is the position after the last event of a page: the sort key of
// that event. Clients see it only as an opaque string.
type Cursor struct {
	Sort       string    `json:"s"`
	Desc       bool      `json:"d,omitempty"`
	Key        string    `json:"k,omitempty"` // the sort key (SortKeyOf); empty for SortOccurredAt
	OccurredAt time.Time `json:"t"`
	ID         string    `json:"i"`
}

// CursorAfter returns the cursor that continues query q after event e.
func CursorAfter(q *Query, e *Event) *Cursor {
	return &Cursor{Sort: q.sort(), Desc: q.Desc, Key: SortKeyOf(q.sort(), e), OccurredAt: e.OccurredAt, ID: e.ID}
}

// SortKeyOf returns the key that sort orders e by before its occurred_at
// and id: "" for SortOccurredAt.
func SortKeyOf(sort string, e *Event) string {
	switch sort {
	case SortAction:
		return e.Action
	case SortActor:
		return e.Actor.ID
	case SortActorName:
		return e.Actor.Name
	case SortTargetType:
		if len(e.Targets) > 0 {
			return e.Targets[0].Type
		}
	case SortTargetID:
		if len(e.Targets) > 0 {
			return e.Targets[0].ID
		}
	}
	return ""
}

func (q *Query) sort() string {
	if q.Sort == "" {
		return SortOccurredAt
	}
	return q.Sort
}

// Encode returns the opaque form of c.
func (c *Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an opaque cursor string. Only the exact form Encode
// gives is accepted: a cursor with a repeated or differently cased member,
// an extra one or other spacing would be read by encoding/json all the
// same, so that many strings meant one position.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 {
		return nil, Invalid("cursor", "not a cursor this server issued")
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || !ValidID(c.ID) || !validSort(c.Sort) || c.Encode() != s {
		return nil, Invalid("cursor", "not a cursor this server issued")
	}
	return &c, nil
}

func validSort(s string) bool { return slices.Contains(Sorts, s) }

// Page is one page of events and the cursor of the next page, nil at the end.
type Page struct {
	Events []*Event
	Next   *Cursor
}

// NewPage builds a page from up to q.Limit+1 events read in query order: the
// extra event only tells that another page exists.
func NewPage(q *Query, events []*Event) *Page {
	limit := q.PageLimit()
	if len(events) <= limit {
		return &Page{Events: events}
	}
	events = events[:limit]
	return &Page{Events: events, Next: CursorAfter(q, events[limit-1])}
}

// PageLimit returns q.Limit, or DefaultLimit when it is unset.
func (q *Query) PageLimit() int { return PageSize(q.Limit) }

// PageSize treats a limit <= 0 as DefaultLimit, as every page read does.
func PageSize(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return limit
}

// SortKey returns the sort (one of Sorts, SortOccurredAt when unset) whose
// key stores order by before occurred_at and id.
func (q *Query) SortKey() string { return q.sort() }

// ParseQuery reads the filters (q, the full-text search, included), sort, cursor and limit of GET /v1/events
// and the export from URL parameters. Scope is left for the caller. Every
// problem names its parameter.
func ParseQuery(v url.Values) (*Query, error) {
	q := &Query{
		Actions:    v["action"],
		ActorType:  v.Get("actor_type"),
		ActorID:    v.Get("actor_id"),
		ActorName:  v.Get("actor_name"),
		TargetType: v.Get("target_type"),
		TargetID:   v.Get("target_id"),
		TraceID:    v.Get("trace_id"),
		IP:         v.Get("ip"),
		Sort:       v.Get("sort"),
	}
	var p Problems
	for _, a := range q.Actions {
		if !isDottedWords(strings.TrimSuffix(a, ".*")) && a != "*" {
			p.Add(-1, "action", "must be an action like user.created or a prefix like user.*")
		}
	}
	if q.IP != "" {
		if problem := ipProblem(q.IP); problem != "" {
			p.Add(-1, "ip", problem)
		}
	}
	if s := v.Get("q"); s != "" {
		if sq, err := ParseSearch(s); err != nil {
			p.Add(-1, "q", searchProblem(err))
		} else {
			q.Search = sq
		}
	}
	q.Since = parseTime(v.Get("since"), "since", &p)
	q.Until = parseTime(v.Get("until"), "until", &p)
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		p.Add(-1, "until", "must be after since")
	}
	parseSort(q, v.Get("order"), &p)
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			p.Add(-1, "limit", "must be an integer from 1 to 1000")
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		c, err := DecodeCursor(s)
		switch {
		case err != nil:
			p.Add(-1, "cursor", "not a cursor this server issued")
		case c.Sort != q.sort() || c.Desc != q.Desc:
			p.Add(-1, "cursor", "was issued for another sort order")
		default:
			q.After = c
		}
	}
	return q, p.Err()
}

func parseSort(q *Query, order string, p *Problems) {
	if q.Sort != "" && !validSort(q.Sort) {
		p.Add(-1, "sort", "must be one of "+strings.Join(Sorts, ", "))
	}
	switch order {
	case "":
		q.Desc = q.sort() == SortOccurredAt
	case "asc":
	case "desc":
		q.Desc = true
	default:
		p.Add(-1, "order", "must be asc or desc")
	}
}

func parseTime(s, field string, p *Problems) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.Add(-1, field, "must be an RFC 3339 timestamp like 2026-11-23T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// MaxQueryParams bounds the parameters of one query string. It is well
// above what any route takes (200 tile parameters at most) and below
// net/url's silent cut at 10,000.
const MaxQueryParams = 1000

// ParseQueryString parses a raw URL query (or form body) strictly. Where
// net/url.ParseQuery drops what it cannot read and goes on, so that
// "action=x;" filters nothing, ParseQueryString refuses the whole string:
// a raw ';', a malformed %-escape, a parameter without a name, a name that
// is not printable UTF-8, or more than MaxQueryParams parameters. The
// error is EINVALID and names the parameter, or "query" when there is no
// name to give. '+' means a space, as in HTML forms. Empty pieces ("a=1&"
// or "&&") carry no parameter and are skipped.
func ParseQueryString(raw string) (url.Values, error) {
	v := url.Values{}
	n := 0
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		if n++; n > MaxQueryParams {
			return nil, Invalid("query", "more than "+strconv.Itoa(MaxQueryParams)+" parameters")
		}
		name, val, err := parseQueryPiece(piece)
		if err != nil {
			return nil, err
		}
		v[name] = append(v[name], val)
	}
	return v, nil
}

// parseQueryPiece parses one name=value piece of a query string.
func parseQueryPiece(piece string) (name, val string, err error) {
	rawName, rawVal, _ := strings.Cut(piece, "=")
	rawName, _, semi := strings.Cut(rawName, ";")
	name, err = url.QueryUnescape(rawName)
	switch {
	case err != nil:
		return "", "", Invalid("query", "a parameter name has a malformed %-escape")
	case name == "":
		return "", "", Invalid("query", "a parameter has no name")
	case len(name) > 64 || !utf8.ValidString(name) || !printable(name):
		return "", "", Invalid("query", "a parameter name is not 1 to 64 printable characters")
	case semi || strings.Contains(rawVal, ";"):
		return "", "", Invalid(name, "contains a raw ';': send it as %3B")
	}
	if val, err = url.QueryUnescape(rawVal); err != nil {
		return "", "", Invalid(name, "has a malformed %-escape")
	}
	return name, val, nil
}

// ActionSet is a query's Actions split the way stores filter them: exact
// actions, and prefixes ("user." for "user.*") that stores read as the
// byte range ["user.", "user/"), which an index can serve.
type ActionSet struct {
	Any      bool     // no filter, or "*"
	Exact    []string // user.created
	Prefixes []string // "user." for user.*
}

// SplitActions splits a query's Actions into an ActionSet.
func SplitActions(actions []string) ActionSet {
	f := ActionSet{Any: len(actions) == 0}
	for _, a := range actions {
		switch {
		case a == "*":
			f.Any = true
		case strings.HasSuffix(a, ".*"):
			f.Prefixes = append(f.Prefixes, strings.TrimSuffix(a, "*"))
		default:
			f.Exact = append(f.Exact, a)
		}
	}
	return f
}

// PrefixEnd is the first string past every action with prefix p (which
// ends in '.'): '/' follows '.' in byte order.
func PrefixEnd(p string) string { return p[:len(p)-1] + "/" }
