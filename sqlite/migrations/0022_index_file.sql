-- Postings move to a file of their own beside this one (see
-- sqlite/indexfile.go and docs/storage.md): the store opens it and drops
-- the old segments tables here, and its indexer indexes every event again.
-- Postings also find every event of a tenant, and every event, in time
-- order, so commits no longer maintain the two time indexes.
-- store_meta names this store, so that an index file is only used with the
-- store it indexes, and counts the transactions that deleted events, so
-- that one newer than a restored backup is noticed.
CREATE TABLE store_meta (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    id        TEXT    NOT NULL,
    deletions INTEGER NOT NULL
);
INSERT INTO store_meta (one, id, deletions) VALUES (1, lower(hex(randomblob(16))), 0);
DELETE FROM stream_cursors WHERE name = 'postings';
DROP INDEX IF EXISTS events_by_time;
DROP INDEX IF EXISTS events_by_time_all;
