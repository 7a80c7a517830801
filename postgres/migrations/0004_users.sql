-- Console users and their sessions. Text that is sorted or compared uses
-- the "C" collation, so order is byte order, as in SQLite.

-- One row per user; an email is unique within its tenant.
CREATE TABLE users (
    id            text        PRIMARY KEY,
    tenant        text        COLLATE "C" NOT NULL,
    email         text        COLLATE "C" NOT NULL,
    role          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (tenant, email)
);

-- One row per signed-in browser. hash is the SHA-256 of the cookie's token;
-- id is a public handle for listing and revoking.
CREATE TABLE sessions (
    hash         text        PRIMARY KEY,
    id           text        COLLATE "C" NOT NULL UNIQUE,
    user_id      text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant       text        COLLATE "C" NOT NULL,
    csrf         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text        NOT NULL,
    user_agent   text        NOT NULL
);
CREATE INDEX sessions_by_tenant ON sessions (tenant, created_at);
