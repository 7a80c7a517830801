package teststore

import (
	"testing"

	"github.com/trailhq/trail/ledger"
)

// Ledger returns a ledger over s with a fresh signing key.
func Ledger(tb testing.TB, s ledger.Store) *ledger.Ledger {
	tb.Helper()
	skey, err := ledger.GenerateKey("test")
	if err != nil {
		tb.Fatal(err)
	}
	key, err := ledger.ParseKey(skey)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := ledger.New(s, ledger.Config{Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// Seal integrates every stored event into l, so that retention may
// delete them.
func Seal(tb testing.TB, l *ledger.Ledger) {
	tb.Helper()
	for {
		n, err := l.Step(tb.Context())
		if err != nil {
			tb.Fatalf("ledger step: %v", err)
		}
		if n == 0 {
			return
		}
	}
}
