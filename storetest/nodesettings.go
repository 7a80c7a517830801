package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func testNodeSettings(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	fp, err := s.LastSettings(ctx(t), "n1")
	if err != nil || fp != nil {
		t.Fatalf("LastSettings of an empty store = %+v, %v; want nil, nil", fp, err)
	}
	n1 := &trail.SettingsFingerprint{Node: "n1", Salt: "00ff", Hashes: map[string]string{"addr": "aa", "store": "bb"}, StartedAt: base}
	n2 := &trail.SettingsFingerprint{Node: "n2", Salt: "00ff", Hashes: map[string]string{"addr": "cc"}, StartedAt: base.Add(time.Minute)}
	for _, fp := range []*trail.SettingsFingerprint{n1, n2} {
		if err := s.SaveSettings(ctx(t), fp); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LastSettings(ctx(t), "n1")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "n1's own fingerprint", got, n1)
	got, _ = s.LastSettings(ctx(t), "n3")
	wantEqual(t, "a new node gets the newest", got, n2)

	n1b := &trail.SettingsFingerprint{Node: "n1", Salt: "00ff", Hashes: map[string]string{"addr": "dd"}, StartedAt: base.Add(2 * time.Minute)}
	if err := s.SaveSettings(ctx(t), n1b); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LastSettings(ctx(t), "n1")
	wantEqual(t, "n1 replaced", got, n1b)
	got, _ = s.LastSettings(ctx(t), "n3")
	wantEqual(t, "the newest is n1 again", got, n1b)
}
