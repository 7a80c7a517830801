-- Single sign-on: each tenant's OpenID Connect provider, the email domains
-- that find it, and the sign-ins that went to a provider and have not come
-- back yet. Times are integer microseconds since the Unix epoch (UTC).

-- settings is the provider's JSON without its secret; client_secret is
-- sealed with the secrets key (see internal/secretbox).
CREATE TABLE sso_providers (
    id            TEXT    PRIMARY KEY,
    tenant        TEXT    NOT NULL UNIQUE,
    settings      TEXT    NOT NULL,
    client_secret TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row per allowed domain of a provider.
CREATE TABLE sso_domains (
    domain TEXT NOT NULL,
    tenant TEXT NOT NULL,
    PRIMARY KEY (domain, tenant)
);

-- A pending sign-in, keyed by the SHA-256 of its state parameter; it is
-- deleted when the provider sends the browser back, or when it expires.
CREATE TABLE sso_logins (
    state_hash   TEXT    PRIMARY KEY,
    binding_hash TEXT    NOT NULL,
    tenant       TEXT    NOT NULL,
    nonce        TEXT    NOT NULL,
    verifier     TEXT    NOT NULL,
    next         TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL
);
