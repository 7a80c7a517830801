package tables_test

import (
	"testing"
	"time"

	"github.com/trailhq/trail/internal/tables"
)

// TestDollar numbers the placeholders of PostgreSQL's statements and
// leaves a ? inside a string literal alone.
func TestDollar(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                           "SELECT 1",
		"a = ? AND b IN (?, ?)":              "a = $1 AND b IN ($2, $3)",
		"a = '?' AND b = ?":                  "a = '?' AND b = $1",
		"a = 'it''s ?' AND b = ? OR c = ?":   "a = 'it''s ?' AND b = $1 OR c = $2",
		"DELETE FROM t WHERE x < ? OR y < ?": "DELETE FROM t WHERE x < $1 OR y < $2",
	} {
		if got := tables.Dollar(in); got != want {
			t.Errorf("Dollar(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScanTime reads both stores' time columns (SQLite's microseconds,
// PostgreSQL's timestamps) as UTC, and NULL as the zero time.
func TestScanTime(t *testing.T) {
	want := time.Date(2026, 12, 4, 21, 0, 0, 123456000, time.UTC)
	zone := time.FixedZone("x", 3600)
	for _, src := range []any{want.UnixMicro(), want.In(zone)} {
		var got time.Time
		if err := tables.ScanTime(&got).Scan(src); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("scan %T: %v, want %v in UTC", src, got, want)
		}
	}
	got := time.Now()
	if err := tables.ScanTime(&got).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("scan NULL: %v, %v; want the zero time", got, err)
	}
	if err := tables.ScanTime(&got).Scan("2026"); err == nil {
		t.Error("scan a string: no error")
	}
}
