-- Core schema: events (partitioned by month of occurred_at), the per-entity
-- view, the counters behind Seq and Pos, idempotency records, API keys and
-- leases. Text that is sorted or compared in a keyset uses the "C"
-- collation, so that order is byte order on every server, as in SQLite.

-- One row per event. data is the event's JSON exactly as trail.Event
-- marshals it (text, not jsonb, so that it reads back byte for byte: the
-- ledger hashes it); the other columns copy the fields that queries filter
-- on. A partitioned table cannot have a unique index without the partition
-- key, so event_ids below keeps ids unique across months, and (tenant, seq)
-- and pos are unique by how they are made: from locked counters.
CREATE TABLE events (
    id          uuid        NOT NULL,
    tenant      text        COLLATE "C" NOT NULL,
    seq         bigint      NOT NULL,
    pos         bigint      NOT NULL,
    action      text        COLLATE "C" NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    actor_type  text        COLLATE "C" NOT NULL,
    actor_id    text        COLLATE "C" NOT NULL,
    actor_name  text        COLLATE "C" NOT NULL,
    ip          text        COLLATE "C" NOT NULL,
    trace_id    text        COLLATE "C" NOT NULL,
    data        text        NOT NULL,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Every event id, unique across all months, with the month to find it in.
-- Retention deletes an id with its event.
CREATE TABLE event_ids (
    id          uuid        PRIMARY KEY,
    occurred_at timestamptz NOT NULL
);

-- The log and the stream: LogEvents reads (tenant, seq), StreamEvents pos.
CREATE INDEX events_by_seq ON events (tenant, seq);
CREATE INDEX events_by_pos ON events (pos);

-- Each remaining index is a keyset over (key, occurred_at, id) within a
-- tenant, and doubles as the index of the equality filter on key, so that
-- every filter of GET /v1/events reads its first page from one index range.
-- trace_id and ip are often empty, so only rows that have one are indexed.
CREATE INDEX events_by_time       ON events (tenant, occurred_at, id);
-- A platform key reading every tenant merges one scan per tenant while
-- there are few; past that it walks time across tenants.
CREATE INDEX events_by_time_all   ON events (occurred_at, id);
CREATE INDEX events_by_action     ON events (tenant, action, occurred_at, id);
CREATE INDEX events_by_actor      ON events (tenant, actor_id, occurred_at, id);
CREATE INDEX events_by_actor_type ON events (tenant, actor_type, occurred_at, id);
CREATE INDEX events_by_actor_name ON events (tenant, actor_name, occurred_at, id);
CREATE INDEX events_by_trace      ON events (tenant, trace_id, occurred_at, id) WHERE trace_id <> '';
CREATE INDEX events_by_ip         ON events (tenant, ip, occurred_at, id) WHERE ip <> '';

-- The per-entity view: one row per (event, target), in time order within
-- each entity, partitioned like events so that dropping a month drops both.
CREATE TABLE event_targets (
    tenant      text        COLLATE "C" NOT NULL,
    type        text        COLLATE "C" NOT NULL,
    id          text        COLLATE "C" NOT NULL,
    occurred_at timestamptz NOT NULL,
    event_id    uuid        NOT NULL,
    PRIMARY KEY (tenant, type, id, occurred_at, event_id)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX event_targets_by_id ON event_targets (tenant, id, occurred_at, event_id);

-- The distinct actions of each tenant: the action list of the console, and
-- how a prefix filter like user.* becomes exact actions.
CREATE TABLE event_actions (
    tenant text COLLATE "C" NOT NULL,
    action text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, action)
);

-- The next Seq of each tenant's log. Counters, not max(seq), so that
-- retention dropping old events never makes a number come back. An append
-- locks the stream row first and then its tenants' rows in sorted order, so
-- appends from several nodes never deadlock and numbers follow commit order.
CREATE TABLE tenant_seqs (
    tenant   text   COLLATE "C" PRIMARY KEY,
    next_seq bigint NOT NULL
);

-- The next Pos of the store-wide stream, in its one row.
CREATE TABLE stream_pos (
    one      int    PRIMARY KEY CHECK (one = 1),
    next_pos bigint NOT NULL
);
INSERT INTO stream_pos (one, next_pos) VALUES (1, 1);

CREATE TABLE idempotency (
    namespace    text        COLLATE "C" NOT NULL,
    key          text        COLLATE "C" NOT NULL,
    request_hash text        NOT NULL,
    status       int         NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE INDEX idempotency_by_time ON idempotency (created_at);

CREATE TABLE api_keys (
    id         text        COLLATE "C" PRIMARY KEY,
    name       text        NOT NULL,
    tenant     text        COLLATE "C" NOT NULL,
    platform   boolean     NOT NULL,
    scopes     text[]      NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,
    hash       text        NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at);

-- Leases of singleton background work. Expiry is on the database's clock,
-- so that nodes whose clocks disagree still agree on who holds a lease.
CREATE TABLE leases (
    name       text        COLLATE "C" PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
