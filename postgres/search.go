package postgres

import "github.com/trailhq/trail"

// errNoSearch refuses a query with a full-text search until this store
// can answer one: reading it without the search would list more events
// than were asked for.
var errNoSearch = trail.Invalid("q", "full-text search is not supported by the PostgreSQL store yet")
