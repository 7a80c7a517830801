package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// newKey makes an API key created sec seconds after base.
func newKey(t *testing.T, name, tenant string, sec int) *trail.APIKey {
	t.Helper()
	now := base.Add(time.Duration(sec) * time.Second)
	k, _, err := trail.NewAPIKey(name, tenant, tenant == "", []string{trail.ScopeEventsRead}, now.Add(time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testKeys(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	a1, a2, b1 := newKey(t, "a one", "a", 0), newKey(t, "a two", "a", 1), newKey(t, "b one", "b", 2)
	platform := newKey(t, "ops", "", 3)
	for _, k := range []*trail.APIKey{a1, a2, b1, platform} {
		if err := s.CreateKey(ctx(t), k); err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
	}
	t.Run("Key", func(t *testing.T) {
		got, err := s.Key(ctx(t), a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "Key", got, a1)
		_, err = s.Key(ctx(t), "k_missing")
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		wantCode(t, s.CreateKey(ctx(t), a1), trail.ECONFLICT)
	})
	t.Run("Keys", func(t *testing.T) {
		for _, tt := range []struct {
			scope trail.Scope
			want  []*trail.APIKey
		}{
			{trail.Scope{Tenant: "a"}, []*trail.APIKey{a2, a1}},
			{trail.Scope{Tenant: "b"}, []*trail.APIKey{b1}},
			{trail.Scope{Tenant: "c"}, []*trail.APIKey{}},
			{trail.Scope{All: true}, []*trail.APIKey{platform, b1, a2, a1}},
		} {
			got, err := s.Keys(ctx(t), tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "Keys", got, tt.want)
		}
	})
	t.Run("RevokeKey", func(t *testing.T) { testRevokeKey(t, s, a1, b1) })
}

func testRevokeKey(t *testing.T, s trail.Store, a1, b1 *trail.APIKey) {
	at := base.Add(time.Minute)
	wantCode(t, s.RevokeKey(ctx(t), trail.Scope{Tenant: "b"}, a1.ID, at), trail.ENOTFOUND)
	wantCode(t, s.RevokeKey(ctx(t), trail.Scope{Tenant: "a"}, "k_missing", at), trail.ENOTFOUND)
	if got, _ := s.Key(ctx(t), a1.ID); !got.RevokedAt.IsZero() {
		t.Fatal("a key was revoked through another tenant's scope")
	}
	if err := s.RevokeKey(ctx(t), trail.Scope{Tenant: "a"}, a1.ID, at); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if err := s.RevokeKey(ctx(t), trail.Scope{All: true}, b1.ID, at); err != nil {
		t.Fatalf("RevokeKey with scope all: %v", err)
	}
	got, err := s.Key(ctx(t), a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RevokedAt.Equal(at) {
		t.Fatalf("RevokedAt = %v, want %v", got.RevokedAt, at)
	}
	if got.Authenticate("any", at) {
		t.Fatal("revoked key authenticates")
	}
}

func testLeases(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	acquire := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx(t), name, holder, ttl)
		if err != nil {
			t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
		}
		return ok
	}
	steps := []struct {
		name, holder string
		ttl          time.Duration
		want         bool
	}{
		{"ledger", "n1", time.Hour, true},  // free
		{"ledger", "n2", time.Hour, false}, // held by n1
		{"ledger", "n1", time.Hour, true},  // renewal
		{"other", "n2", time.Hour, true},   // leases are independent
		{"exp", "n1", -time.Second, true},  // taken already expired by the store's clock
		{"exp", "n2", time.Hour, true},     // an expired lease is free
		{"exp", "n1", time.Hour, false},    // and now belongs to n2
	}
	for i, st := range steps {
		if got := acquire(st.name, st.holder, st.ttl); got != st.want {
			t.Fatalf("step %d: AcquireLease(%s, %s) = %v, want %v", i, st.name, st.holder, got, st.want)
		}
	}
	if err := s.ReleaseLease(ctx(t), "ledger", "n2"); err != nil {
		t.Fatal(err)
	}
	if acquire("ledger", "n2", time.Hour) {
		t.Fatal("a release by a non-holder freed the lease")
	}
	if err := s.ReleaseLease(ctx(t), "ledger", "n1"); err != nil {
		t.Fatal(err)
	}
	if !acquire("ledger", "n2", time.Hour) {
		t.Fatal("a released lease could not be taken")
	}
}
