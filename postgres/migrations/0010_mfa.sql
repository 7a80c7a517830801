-- Multi-factor sign-in: each user's TOTP secret (sealed with the secrets
-- key), the hashes of their unused recovery codes (a JSON list) and the
-- time step of the last code accepted; the tenants that require it; and
-- sign-ins that passed their password and wait for a code.
ALTER TABLE users ADD COLUMN mfa_secret text;
ALTER TABLE users ADD COLUMN mfa_recovery text;
ALTER TABLE users ADD COLUMN mfa_last_step bigint NOT NULL DEFAULT 0;

CREATE TABLE mfa_required (
    tenant     text        COLLATE "C" PRIMARY KEY,
    updated_at timestamptz NOT NULL
);

-- A pending sign-in, keyed by the SHA-256 of the browser's token; deleted
-- when it is used, or when it expires.
CREATE TABLE mfa_logins (
    hash       text        PRIMARY KEY,
    tenant     text        COLLATE "C" NOT NULL,
    user_id    text        COLLATE "C" NOT NULL,
    next       text        NOT NULL,
    enroll     boolean     NOT NULL,
    expires_at timestamptz NOT NULL
);
