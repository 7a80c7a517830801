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

-- Every index costs ingest, so there are only those that serve a sort order
-- of the console and API: each is a keyset over (key, occurred_at, id)
-- within a tenant, and doubles as the index of the equality filter on key.
CREATE INDEX events_by_time   ON events (tenant, occurred_at, id);
CREATE INDEX events_by_actor  ON events (tenant, actor_id, occurred_at, id);
CREATE INDEX events_by_action ON events (tenant, action, occurred_at, id);

-- The per-entity view: one row per (event, target), in time order within
-- each entity.
CREATE TABLE event_targets (
    tenant      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    pos         INTEGER NOT NULL,
    PRIMARY KEY (tenant, type, id, occurred_at, event_id)
) WITHOUT ROWID;

-- The distinct actions of each tenant: the action list of the console, and
-- how a prefix filter like user.* becomes exact actions that use the index.
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
