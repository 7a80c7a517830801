-- The settings each node last started with, as trail.SettingsFingerprint:
-- a keyed hash of each setting's value by name (hashes, a JSON object),
-- never a value. started_at is integer microseconds since the Unix epoch.
CREATE TABLE node_settings (
    node       TEXT    PRIMARY KEY,
    salt       TEXT    NOT NULL,
    hashes     BLOB    NOT NULL,
    started_at INTEGER NOT NULL
) WITHOUT ROWID;
