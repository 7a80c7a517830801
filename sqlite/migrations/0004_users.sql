-- Console users and their sessions. Times are integer microseconds since
-- the Unix epoch (UTC).

-- One row per user; an email is unique within its tenant.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant, email)
);

-- One row per signed-in browser. hash is the SHA-256 of the cookie's token;
-- id is a public handle for listing and revoking.
CREATE TABLE sessions (
    hash         TEXT    PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant       TEXT    NOT NULL,
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL
);
CREATE INDEX sessions_by_tenant ON sessions (tenant, created_at);
