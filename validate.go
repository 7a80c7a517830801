package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a client may send.
const (
	MaxBatchEvents   = 1000            // events in one POST /v1/events
	MaxBodyBytes     = 5 << 20         // bytes in one POST /v1/events body
	MaxEventBytes    = 64 << 10        // bytes of one event's JSON
	MaxTargets       = 50              // targets of one event
	MaxActionLen     = 128             // characters of an action
	MaxTraceIDLen    = 128             // characters of a trace id
	MaxFutureSkew    = 5 * time.Minute // how far in the future occurred_at may be
	maxIDLen         = 256
	maxNameLen       = 512
	maxTypeLen       = 64
	maxUserAgentLen  = 1024
	maxLocationLen   = 256
	maxTenantNameLen = 64
)

// EventInput is an event as a client sends it, before validation. Unknown
// fields are rejected when decoding, so a typo is never silently dropped.
type EventInput struct {
	Action     string          `json:"action"`
	OccurredAt string          `json:"occurred_at"`
	Actor      *Actor          `json:"actor"`
	Targets    []Target        `json:"targets"`
	Context    Context         `json:"context"`
	Metadata   json.RawMessage `json:"metadata"`
	Version    *int            `json:"version"`
	TraceID    string          `json:"trace_id"`
	Tenant     string          `json:"tenant"`

	occurredAt time.Time // parsed by Validate
	clean      bool      // decoded strictly: no object repeats a name (decode.go)
}

// ParseEvents decodes and validates the body of POST /v1/events: either one
// event object or {"events": [...]}. It returns every problem of every event
// at once, as an EINVALID (or ETOOLARGE) *Error, so that a batch is accepted
// or rejected as a whole.
func ParseEvents(body []byte, now time.Time) ([]*EventInput, error) {
	var p Problems
	if len(body) <= MaxBodyBytes && utf8.Valid(body) {
		if ins, ok := parseFast(body); ok {
			for i, in := range ins {
				in.Validate(i, now, &p)
			}
			if err := p.Err(); err != nil {
				return nil, err
			}
			return ins, nil
		}
	}
	return parseCareful(body, now)
}

// parseCareful is ParseEvents with encoding/json: it accepts what the fast
// path may refuse (see decode.go) and names every problem.
func parseCareful(body []byte, now time.Time) ([]*EventInput, error) {
	var p Problems
	raws, err := splitEvents(body)
	if err != nil {
		return nil, err
	}
	ins := make([]*EventInput, len(raws))
	for i, raw := range raws {
		in, err := decodeEvent(raw)
		if err != nil {
			p.Add(i, err.field, err.problem)
			continue
		}
		in.Validate(i, now, &p)
		ins[i] = in
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return ins, nil
}

func splitEvents(body []byte) ([]json.RawMessage, error) {
	switch {
	case len(body) > MaxBodyBytes:
		return nil, Errorf(ETOOLARGE, "body: larger than %d bytes", MaxBodyBytes)
	case !utf8.Valid(body):
		return nil, Invalid("body", "not valid UTF-8")
	case bytes.IndexByte(body, 0) >= 0:
		return nil, Invalid("body", "contains a NUL byte")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, Invalid("body", jsonProblem(err, "a JSON object"))
	}
	batch, ok := top["events"]
	if !ok {
		return []json.RawMessage{body}, nil
	}
	if field, problem := checkMembers(body, batchType, true); problem != "" {
		return nil, Invalid(field, problem)
	}
	if len(top) != 1 {
		for k := range top {
			if k != "events" {
				return nil, Invalid(k, "unknown field (a batch holds only \"events\")")
			}
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(batch, &raws); err != nil || raws == nil {
		return nil, Invalid("events", "must be an array of event objects")
	}
	switch {
	case len(raws) == 0:
		return nil, Invalid("events", "must hold at least one event")
	case len(raws) > MaxBatchEvents:
		return nil, Errorf(ETOOLARGE, "events: more than %d events in one batch", MaxBatchEvents)
	}
	return raws, nil
}

type decodeError struct{ field, problem string }

var (
	eventInputType = reflect.TypeFor[EventInput]()
	batchType      = reflect.TypeFor[map[string]json.RawMessage]()
)

func decodeEvent(raw json.RawMessage) (*EventInput, *decodeError) {
	if len(raw) > MaxEventBytes {
		return nil, &decodeError{"event", fmt.Sprintf("larger than %d bytes", MaxEventBytes)}
	}
	if hasEscapedNUL(raw) {
		return nil, &decodeError{"event", `contains a NUL character (\u0000)`}
	}
	// Repeated and unknown members first, named by their full path:
	// encoding/json would take the last of two, and name an unknown
	// member without its parents.
	if field, problem := checkMembers(raw, eventInputType, true); problem != "" {
		return nil, &decodeError{field, problem}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in EventInput
	if err := dec.Decode(&in); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute) && ute.Field != "":
			return nil, &decodeError{ute.Field, "must be " + kindName(ute.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return nil, &decodeError{name, "unknown field"}
		default:
			return nil, &decodeError{"event", jsonProblem(err, "a JSON object")}
		}
	}
	return &in, nil
}

// hasEscapedNUL reports whether raw JSON holds the escape \u0000 inside a
// string. PostgreSQL cannot store NUL in text, so no store accepts it.
func hasEscapedNUL(raw []byte) bool {
	for off := 0; ; {
		i := bytes.Index(raw[off:], []byte(`\u0000`))
		if i < 0 {
			return false
		}
		i += off
		// The backslash starts an escape if an even number of backslashes
		// precede it: `\\u0000` is an escaped backslash, then "u0000".
		n := 0
		for j := i - 1; j >= 0 && raw[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		off = i + 1
	}
}

func jsonProblem(err error, want string) string {
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &ute):
		return "must be " + want
	default:
		return "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage
			return "a JSON object"
		}
		return "an array"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return "an object"
	default:
		return "a " + t.Kind().String()
	}
}

// Validate checks in against Trail's rules, adding every problem to p with
// the event's index in its batch. now bounds occurred_at.
func (in *EventInput) Validate(index int, now time.Time, p *Problems) {
	add := func(field, problem string) { p.Add(index, field, problem) }
	switch {
	case in.Action == "":
		add("action", "required")
	case len(in.Action) > MaxActionLen:
		add("action", fmt.Sprintf("longer than %d characters", MaxActionLen))
	case !isDottedWords(in.Action):
		add("action", "must be lower-case words joined by dots, like user.created")
	}
	in.validateTime(now, add)
	if in.Actor == nil {
		add("actor", "required")
	} else {
		validateActor(in.Actor, in.clean, add)
	}
	if len(in.Targets) > MaxTargets {
		add("targets", fmt.Sprintf("more than %d targets", MaxTargets))
	}
	for i := range in.Targets {
		validateTarget(i, &in.Targets[i], in.clean, add)
	}
	validateContext(&in.Context, add)
	validateObject("metadata", in.Metadata, in.clean, add)
	if in.Version != nil && (*in.Version < 1 || *in.Version > maxExactInt) {
		add("version", "must be an integer >= 1 and <= 9007199254740992 (2^53)") // number.go
	}
	if len(in.TraceID) > MaxTraceIDLen {
		add("trace_id", fmt.Sprintf("longer than %d characters", MaxTraceIDLen))
	} else if !printable(in.TraceID) {
		add("trace_id", "must hold printable characters only")
	}
	if in.Tenant != "" && !ValidTenant(in.Tenant) {
		add("tenant", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
}

func (in *EventInput) validateTime(now time.Time, add func(string, string)) {
	if in.OccurredAt == "" {
		add("occurred_at", "required")
		return
	}
	t, err := time.Parse(time.RFC3339Nano, in.OccurredAt)
	switch {
	case err != nil:
		add("occurred_at", "must be an RFC 3339 timestamp like 2026-11-23T12:00:00Z")
	case t.After(now.Add(MaxFutureSkew)):
		add("occurred_at", "more than 5 minutes in the future")
	case t.Year() < 1970:
		add("occurred_at", "before 1970")
	default:
		in.occurredAt = NormalTime(t)
	}
}

func validateActor(a *Actor, clean bool, add func(string, string)) {
	switch {
	case a.Type == "":
		add("actor.type", "required")
	case len(a.Type) > maxTypeLen || !isWord(a.Type):
		add("actor.type", "must be a lower-case word like user, api_key or system")
	}
	switch {
	case a.ID == "" && a.Type != ActorSystem:
		add("actor.id", "required")
	case len(a.ID) > maxIDLen:
		add("actor.id", fmt.Sprintf("longer than %d characters", maxIDLen))
	}
	if len(a.Name) > maxNameLen {
		add("actor.name", fmt.Sprintf("longer than %d characters", maxNameLen))
	}
	validateObject("actor.metadata", a.Metadata, clean, add)
}

// validateTarget checks targets[i]. Field names are made only for
// problems: formatting one per target would cost every valid event.
func validateTarget(i int, t *Target, clean bool, report func(string, string)) {
	add := func(field, problem string) { report(fmt.Sprintf("targets[%d]%s", i, field), problem) }
	switch {
	case t.Type == "":
		add(".type", "required")
	case len(t.Type) > maxTypeLen || !isTargetType(t.Type):
		add(".type", "must be 1 to 64 letters, digits, '_', '.', ':' or '-'")
	}
	switch {
	case t.ID == "":
		add(".id", "required")
	case len(t.ID) > maxIDLen:
		add(".id", fmt.Sprintf("longer than %d characters", maxIDLen))
	}
	if len(t.Name) > maxNameLen {
		add(".name", fmt.Sprintf("longer than %d characters", maxNameLen))
	}
	validateObject(".metadata", t.Metadata, clean, add)
}

func validateContext(c *Context, add func(string, string)) {
	if c.IP != "" {
		if problem := ipProblem(c.IP); problem != "" {
			add("context.ip", problem)
		}
	}
	if len(c.UserAgent) > maxUserAgentLen {
		add("context.user_agent", fmt.Sprintf("longer than %d characters", maxUserAgentLen))
	}
	if len(c.Location) > maxLocationLen {
		add("context.location", fmt.Sprintf("longer than %d characters", maxLocationLen))
	}
}

// ipProblem says why s is not a plain IPv4 or IPv6 address. netip accepts
// an IPv6 zone of any text ("fe80::1%<img src=x>"); a zone names an
// interface of the sender's host, meaningless to anyone else, so it is
// refused with everything that is not an address.
func ipProblem(s string) string {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return "must be an IPv4 or IPv6 address"
	case a.Zone() != "":
		return "must be an IPv4 or IPv6 address without a zone (%...)"
	}
	return ""
}

// validateObject accepts an absent or null value or a JSON object. When
// clean, the strict decoder has already ruled out repeated names.
func validateObject(field string, raw json.RawMessage, clean bool, add func(string, string)) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	if raw[0] != '{' {
		add(field, "must be a JSON object")
	} else if problem := checkObject(raw, clean); problem != "" {
		add(field, problem)
	} else if path, lit := InexactNumber(raw); lit != nil {
		add(field+path, numberProblem(lit)) // number.go
	}
}

// Event turns a validated input into the event to store, with a new id,
// received_at and the resolved tenant. Call Validate first. An event sent
// without a trace id gets its own id as its trace id, so that execution
// logs posted with trace_id=<event id> attach to it.
func (in *EventInput) Event(tenant string, now time.Time) *Event {
	now = NormalTime(now)
	e := &Event{
		ID:         NewID(now),
		Tenant:     tenant,
		Action:     in.Action,
		OccurredAt: in.occurredAt,
		ReceivedAt: now,
		Actor:      *in.Actor,
		Targets:    in.Targets,
		Context:    in.Context,
		Metadata:   compactObject(in.Metadata),
		Version:    1,
		TraceID:    in.TraceID,
	}
	e.Actor.Metadata = compactObject(e.Actor.Metadata)
	if e.Targets == nil {
		e.Targets = []Target{}
	}
	for i := range e.Targets {
		e.Targets[i].Metadata = compactObject(e.Targets[i].Metadata)
	}
	if in.Version != nil {
		e.Version = *in.Version
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	if e.TraceID == "" {
		e.TraceID = e.ID
	}
	return e
}

func compactObject(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if bytes.IndexAny(raw, " \t\r\n") < 0 {
		return raw // compact already, as most clients send it
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// ValidTenant reports whether s is a valid tenant (organization) name.
func ValidTenant(s string) bool {
	if s == "" || len(s) > maxTenantNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// isWord reports whether s is a lower-case word: a letter, then letters,
// digits or underscores.
func isWord(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

func isDottedWords(s string) bool {
	for _, w := range strings.Split(s, ".") {
		if !isWord(w) {
			return false
		}
	}
	return true
}

func isTargetType(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return s != ""
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
