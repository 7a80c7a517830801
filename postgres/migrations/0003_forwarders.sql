-- Forwarders: their settings, their delivery progress (a cursor into the
-- store-wide stream), and the events they gave up on.

-- settings is the forwarder's JSON as trail.Forwarder marshals it, secrets
-- included; the columns beside it are what lookups and progress need.
-- cursor_pos only moves forward; pending is the last Pos of the batch in
-- flight (0 when none), so that a restart resends exactly that batch.
CREATE TABLE forwarders (
    id              text        COLLATE "C" PRIMARY KEY,
    tenant          text        COLLATE "C" NOT NULL,
    name            text        COLLATE "C" NOT NULL,
    kind            text        NOT NULL,
    managed_by      text        NOT NULL,
    settings        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    cursor_pos      bigint      NOT NULL,
    pending         bigint      NOT NULL DEFAULT 0,
    state           text        NOT NULL DEFAULT 'active',
    attempts        integer     NOT NULL DEFAULT 0,
    last_success_at timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    last_error_at   timestamptz,
    UNIQUE (tenant, name)
);

-- One row per event a forwarder gave up on, until it is replayed or
-- discarded. replay is set when an admin asks for another delivery.
CREATE TABLE forwarder_dead_letters (
    forwarder_id text        COLLATE "C" NOT NULL REFERENCES forwarders (id) ON DELETE CASCADE,
    pos          bigint      NOT NULL,
    event_id     text        COLLATE "C" NOT NULL,
    tenant       text        COLLATE "C" NOT NULL,
    action       text        NOT NULL,
    attempts     integer     NOT NULL,
    error        text        NOT NULL,
    failed_at    timestamptz NOT NULL,
    replay       boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (forwarder_id, pos)
);
