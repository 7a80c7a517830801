-- Full-text search (GET /v1/events?q=, docs/storage.md, Full-text search).
-- search holds an event's search tokens: trail.SearchTokens over
-- trail.SearchFields, made in Go at append and written with the row, so
-- that the index and the queries split words the same way, whatever the
-- server's text search configuration. It is a tsvector without positions
-- (phrases, fields and NOT are checked in Go, by trail.Search.Match, on
-- the rows the index finds), and the GIN index on it finds the events that
-- hold a word, or a word that begins with a prefix.
-- Events stored before this migration have no tokens (NULL) until the
-- store's backfill gives them theirs; events_unsearched finds them, and a
-- search reads them as candidates meanwhile, so none is missed.
-- Building the indexes on a large store holds off appends until they are
-- built; they can be built beforehand, partition by partition, with CREATE
-- INDEX CONCURRENTLY after adding the column (docs/operations.md).
ALTER TABLE events ADD COLUMN IF NOT EXISTS search tsvector;
CREATE INDEX events_search ON events USING gin (search);
CREATE INDEX events_unsearched ON events (occurred_at) WHERE search IS NULL;
