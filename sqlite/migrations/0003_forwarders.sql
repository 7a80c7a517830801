-- Forwarders: their settings, their delivery progress (a cursor into the
-- store-wide stream), and the events they gave up on.

-- settings is the forwarder's JSON as trail.Forwarder marshals it, secrets
-- included; the columns beside it are what lookups and progress need.
-- cursor_pos only moves forward; pending is the last Pos of the batch in
-- flight (0 when none), so that a restart resends exactly that batch.
CREATE TABLE forwarders (
    id              TEXT    PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    managed_by      TEXT    NOT NULL,
    settings        BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    cursor_pos      INTEGER NOT NULL,
    pending         INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL DEFAULT 'active',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_error_at   INTEGER,
    UNIQUE (tenant, name)
);

-- One row per event a forwarder gave up on, until it is replayed or
-- discarded. replay is set when an admin asks for another delivery.
CREATE TABLE forwarder_dead_letters (
    forwarder_id TEXT    NOT NULL REFERENCES forwarders (id) ON DELETE CASCADE,
    pos          INTEGER NOT NULL,
    event_id     TEXT    NOT NULL,
    tenant       TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    error        TEXT    NOT NULL,
    failed_at    INTEGER NOT NULL,
    replay       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (forwarder_id, pos)
) WITHOUT ROWID;
