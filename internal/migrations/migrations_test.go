package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/trailhq/trail/internal/migrations"
)

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		fsys := fstest.MapFS{
			"m/0002_b.sql": {Data: []byte("B")},
			"m/0001_a.sql": {Data: []byte("A")},
			"m/README":     {Data: []byte("not sql")},
		}
		ms, err := migrations.Load(fsys, "m")
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].Version != 1 || ms[0].SQL != "A" || ms[1].Name != "0002_b.sql" {
			t.Errorf("got %+v, want 0001_a then 0002_b", ms)
		}
	})
	for name, fsys := range map[string]fstest.MapFS{
		"ErrBadName":      {"m/first.sql": {}},
		"ErrSharedNumber": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := migrations.Load(fsys, "m")
			if err == nil || !strings.Contains(err.Error(), "migration") {
				t.Errorf("err = %v, want a migration error", err)
			}
		})
	}
}
