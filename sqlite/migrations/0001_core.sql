-- Core schema: events, their per-tenant and store-wide positions, the
-- per-entity view, idempotency records, API keys and leases.
-- Times are integer microseconds since the Unix epoch (UTC).

-- One row per event. pos is the store-wide stream position (the rowid, so
-- reading the stream in order costs nothing extra); data is the event's JSON
-- exactly as trail.Event marshals it, and the other columns copy the fields
-- that queries filter on. data comes last so that filtering columns never
-- sit behind an overflow page.
CREATE TABLE events (
    pos         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    tenant      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    actor_type  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor_name  TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    trace_id    TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    UNIQUE (tenant, seq)
);

-- Each tenant's events in time order, the default view, and every tenant's
-- (for platform keys); new events land at the end of a range, so these
-- indexes cost ingest little.
CREATE INDEX events_by_time ON events (tenant, occurred_at, id);
CREATE INDEX events_by_time_all ON events (occurred_at, id);

-- Postings find events by actor ("a:" || actor id), action ("c:" || action)
-- and target ("t:" || type || '|' || id). They are grouped in segments of
-- consecutive positions, one table each, named postings_<seg>:
--     (k TEXT, t INTEGER occurred_at, id TEXT event id, tenant TEXT,
--      pos INTEGER, PRIMARY KEY (k, t, id)) WITHOUT ROWID
-- so that new postings touch only the small table of the live segment, and
-- a background merge combines sealed segments (see postings.go and
-- docs/storage.md). Within a segment postings are in (k, t, id) order: the
-- keyset of a page.
--
-- Level 0 segments cover 2^12 positions each (by default) and are visible
-- ('ready') from their first posting; a merge fills a new 'building'
-- segment (invisible) from sources that point at it, then in one
-- transaction makes it 'ready' and its sources 'dead' (invisible, their
-- tables dropped next). first_pos and last_pos bound the positions covered,
-- min_t and max_t the occurred_at of its postings, so that a query skips
-- segments outside its time range and stops once older segments cannot
-- change its page.
CREATE TABLE segments (
    seg        INTEGER PRIMARY KEY,
    level      INTEGER NOT NULL,
    first_pos  INTEGER NOT NULL,
    last_pos   INTEGER NOT NULL,
    min_t      INTEGER NOT NULL,
    max_t      INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    merge_into INTEGER
);

-- The distinct actions of each tenant: the action list of the console, and
-- how a prefix filter like user.* becomes exact posting keys.
CREATE TABLE event_actions (
    tenant TEXT NOT NULL,
    action TEXT NOT NULL,
    PRIMARY KEY (tenant, action)
) WITHOUT ROWID;

-- The next Seq of each tenant's log. Counters, not max(seq), so that
-- retention deleting old events never makes a number come back.
CREATE TABLE tenant_seqs (
    tenant   TEXT    PRIMARY KEY,
    next_seq INTEGER NOT NULL
) WITHOUT ROWID;

-- The next Pos of the store-wide stream, in its one row.
CREATE TABLE stream_pos (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    next_pos INTEGER NOT NULL
);
INSERT INTO stream_pos (one, next_pos) VALUES (1, 1);

CREATE TABLE idempotency (
    namespace    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (namespace, key)
);
CREATE INDEX idempotency_by_time ON idempotency (created_at);

CREATE TABLE api_keys (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    platform   INTEGER NOT NULL,
    scopes     TEXT    NOT NULL, -- JSON array
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    hash       TEXT    NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at);

CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
