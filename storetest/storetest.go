// Package storetest is the conformance suite of trail.Store, in the spirit
// of testing/slogtest: every store runs it against itself, so that SQLite
// and PostgreSQL cannot drift apart.
//
// A store's test calls Run with a function that opens a fresh, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) trail.Store { return teststore.SQLite(t) })
//	}
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// Run runs every conformance test as a subtest, each against a fresh store
// from open. open must register the store's cleanup with t.
//
// Tests of optional abilities (the ledger, forwarders, ...) live in their
// own files of this package and are added to the list below; a test of an
// optional interface checks for it with a type assertion on the store and
// fails when a store lacks it.
func Run(t *testing.T, open func(t *testing.T) trail.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) trail.Store)
	}{
		{"AppendReadBack", testAppendReadBack},
		{"Positions", testPositions},
		{"ConcurrentAppends", testConcurrentAppends},
		{"AllOrNothing", testAllOrNothing},
		{"Idempotency", testIdempotency},
		{"PruneIdempotency", testPruneIdempotency},
		{"Scope", testScope},
		{"Filters", testFilters},
		{"Sorts", testSorts},
		{"SortKeys", testSortKeys},
		{"PaginationWhileAppending", testPaginationWhileAppending},
		{"StreamAndLog", testStreamAndLog},
		{"Actions", testActions},
		{"DirectoryActors", testDirectoryActors},
		{"DirectoryTargetTypes", testDirectoryTargetTypes},
		{"DirectoryPrune", testDirectoryPrune},
		{"DirectoryFailedAppend", testDirectoryFailedAppend},
		{"TargetActions", testTargetActions},
		{"Keys", testKeys},
		{"Leases", testLeases},
		{"Ping", testPing},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"SSOProviders", testSSOProviders},
		{"SSOLogins", testSSOLogins},
		{"UpdateUser", testUpdateUser},
		{"LastOwner", testLastOwner},
		{"LastOwnerRace", testLastOwnerRace},
		{"DeleteUser", testDeleteUser},
		{"PasswordReset", testPasswordReset},
		{"MFA", testMFA},
		{"MFALogins", testMFALogins},
		{"MFARequired", testMFARequired},
		{"UserSessions", testUserSessions},
		{"Schemas", testSchemas},
		{"RetentionPolicies", testRetentionPolicies},
		{"Holds", testHolds},
		{"DeleteEvents", testDeleteEvents},
		{"AlertRules", testAlertRules},
		{"UpdateAlertRuleWindows", testUpdateAlertRuleWindows},
		{"AlertProgress", testAlertProgress},
		{"StartAlertCursor", testStartAlertCursor},
		{"ExecLogs", testExecLogs},
		{"LedgerCommit", testLedgerCommit},
		{"LedgerRowsAndSize", testLedgerRowsAndSize},
		{"LedgerSequencing", testLedgerSequencing},
		{"LedgerPruned", testLedgerPruned},
		{"Forwarders", testForwarders},
		{"ForwarderStatus", testForwarderStatus},
		{"DeadLetters", testDeadLetters},
		{"StreamHead", testStreamHead},
		{"LogProgress", testLogProgress},
		{"NodeSettings", testNodeSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
	RunSearch(t, open)
}

// RunSearch runs the full-text search tests alone (Run runs them too),
// for a store whose search has several paths to check.
func RunSearch(t *testing.T, open func(t *testing.T) trail.Store) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) trail.Store)
	}{
		{"Search", testSearch},
		{"SearchFilters", testSearchFilters},
		{"SearchAppended", testSearchAppended},
		{"SearchExport", testSearchExport},
		{"SearchDeleted", testSearchDeleted},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// base is the time of the first test event: fixed, so failures reproduce.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context { return t.Context() }

// ev builds a realistic event of tenant with action, actor id and time
// offset (in seconds from base, so tests can make ties).
func ev(tenant, action, actorID string, sec int, targets ...trail.Target) *trail.Event {
	at := base.Add(time.Duration(sec) * time.Second)
	if targets == nil {
		targets = []trail.Target{}
	}
	return &trail.Event{
		ID:         trail.NewID(at),
		Tenant:     tenant,
		Action:     action,
		OccurredAt: at,
		ReceivedAt: at.Add(1500 * time.Microsecond),
		Actor:      trail.Actor{Type: trail.ActorUser, ID: actorID, Name: "Name of " + actorID},
		Targets:    targets,
		Context:    trail.Context{IP: "10.0.0.1", UserAgent: "storetest/1.0"},
		Version:    1,
	}
}

// target is a shorthand for a target without name or metadata.
func target(typ, id string) trail.Target { return trail.Target{Type: typ, ID: id} }

// batch wraps events in a batch without idempotency.
func batch(events ...*trail.Event) *trail.Batch { return &trail.Batch{Events: events} }

// mustAppend appends batches in one call and fails the test on error.
func mustAppend(tb testing.TB, s trail.Store, batches ...*trail.Batch) {
	tb.Helper()
	if err := s.AppendBatches(context.Background(), batches); err != nil {
		tb.Fatalf("AppendBatches: %v", err)
	}
}

// appendEach appends each event in its own call, in order.
func appendEach(tb testing.TB, s trail.Store, events ...*trail.Event) {
	tb.Helper()
	for _, e := range events {
		mustAppend(tb, s, batch(e))
	}
}

// mustGet reads one event back and fails the test on error.
func mustGet(tb testing.TB, s trail.Store, scope trail.Scope, id string) *trail.Event {
	tb.Helper()
	e, err := s.Event(context.Background(), scope, id)
	if err != nil {
		tb.Fatalf("Event(%+v, %s): %v", scope, id, err)
	}
	return e
}

// wantCode fails the test unless err carries the trail error code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := trail.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// wantEqual fails the test unless got and want are deeply equal, showing
// both as JSON-ish values.
func wantEqual(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s:\ngot  %s\nwant %s", what, show(got), show(want))
	}
}

func show(v any) string {
	if e, ok := v.(*trail.Event); ok && e != nil {
		return fmt.Sprintf("%+v", *e)
	}
	return fmt.Sprintf("%+v", v)
}

// ids returns the ids of events, for comparing lists.
func ids(events []*trail.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}
