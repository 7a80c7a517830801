-- The ledger: one RFC 6962 Merkle tree per log (tenant; '' is the log of
-- system events), stored as tiles, with the latest signed checkpoint of
-- each log. Only the sequencer writes ledger_cursor, ledger_heads and
-- ledger_tiles; only retention writes ledger_pruned.

-- The stream position (events.pos) up to which events are integrated.
CREATE TABLE ledger_cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    pos INTEGER NOT NULL
);
INSERT INTO ledger_cursor (one, pos) VALUES (1, 0);

-- The latest checkpoint of each log: size leaves are integrated.
CREATE TABLE ledger_heads (
    tenant     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    checkpoint BLOB    NOT NULL, -- the signed note
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Tile (level, idx) holds the hashes of the tree nodes at level with
-- indices from idx*256, 32 bytes each, in order; level 0 are the leaves.
-- A rowid table, since tiles reach 8 KiB.
CREATE TABLE ledger_tiles (
    tenant TEXT    NOT NULL,
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB    NOT NULL,
    UNIQUE (tenant, level, idx)
);

-- Ranges [from_seq, to_seq) of a log deleted by retention, each with the
-- checkpoint that covered it when it was pruned.
CREATE TABLE ledger_pruned (
    tenant     TEXT    NOT NULL,
    from_seq   INTEGER NOT NULL,
    to_seq     INTEGER NOT NULL,
    checkpoint BLOB    NOT NULL,
    pruned_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, to_seq)
) WITHOUT ROWID;
