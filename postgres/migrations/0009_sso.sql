-- Single sign-on: each tenant's OpenID Connect provider, the email domains
-- that find it, and the sign-ins that went to a provider and have not come
-- back yet.

-- settings is the provider's JSON without its secret; client_secret is
-- sealed with the secrets key (see internal/secretbox).
CREATE TABLE sso_providers (
    id            text        COLLATE "C" PRIMARY KEY,
    tenant        text        COLLATE "C" NOT NULL UNIQUE,
    settings      text        NOT NULL,
    client_secret text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- One row per allowed domain of a provider.
CREATE TABLE sso_domains (
    domain text COLLATE "C" NOT NULL,
    tenant text COLLATE "C" NOT NULL,
    PRIMARY KEY (domain, tenant)
);

-- A pending sign-in, keyed by the SHA-256 of its state parameter; it is
-- deleted when the provider sends the browser back, or when it expires.
CREATE TABLE sso_logins (
    state_hash   text        PRIMARY KEY,
    binding_hash text        NOT NULL,
    tenant       text        COLLATE "C" NOT NULL,
    nonce        text        NOT NULL,
    verifier     text        NOT NULL,
    next         text        NOT NULL,
    expires_at   timestamptz NOT NULL
);
