-- Multi-factor sign-in: each user's TOTP secret (sealed with the secrets
-- key), the hashes of their unused recovery codes (a JSON list) and the
-- time step of the last code accepted; the tenants that require it; and
-- sign-ins that passed their password and wait for a code. Times are
-- integer microseconds since the Unix epoch (UTC).
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_recovery TEXT;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;

CREATE TABLE mfa_required (
    tenant     TEXT    PRIMARY KEY,
    updated_at INTEGER NOT NULL
);

-- A pending sign-in, keyed by the SHA-256 of the browser's token; deleted
-- when it is used, or when it expires.
CREATE TABLE mfa_logins (
    hash       TEXT    PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    next       TEXT    NOT NULL,
    enroll     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
