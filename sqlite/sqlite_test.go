package sqlite_test

import (
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) trail.Store { return teststore.SQLite(t) })
}
