-- Pairs of adjacent words in the search column (docs/storage.md, Full-text
-- search). Since this migration each event's search tsvector also holds
-- the pairs of adjacent words of each of its strings that
-- trail.SearchPairs makes ("alpha beta", "203 0"), and search_pairs is
-- true for it: a phrase of words that are each in most events, but rarely
-- in a row, is then narrowed by the GIN index to the events that hold its
-- pairs. Events written before (or by a node of an older version during
-- the upgrade) hold words only: search_pairs is NULL, and a search that
-- narrows by pairs reads them as candidates (events_unpaired finds them)
-- until the backfill gives them their pairs; a search of single words
-- does not need them and reads as before.
-- Building the partial index on a large store holds off appends until it
-- is built, like migration 20's (docs/operations.md).
ALTER TABLE events ADD COLUMN IF NOT EXISTS search_pairs boolean;
CREATE INDEX events_unpaired ON events (occurred_at) WHERE search_pairs IS NULL;
