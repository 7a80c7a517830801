-- The settings each node last started with, as trail.SettingsFingerprint:
-- a keyed hash of each setting's value by name (hashes, a JSON object),
-- never a value.
CREATE TABLE node_settings (
    node       text        COLLATE "C" PRIMARY KEY,
    salt       text        NOT NULL,
    hashes     text        NOT NULL,
    started_at timestamptz NOT NULL
);
