-- The ledger: one RFC 6962 Merkle tree per log (tenant; '' is the log of
-- system events), stored as tiles, with the latest signed checkpoint of
-- each log. Only the sequencer (one node at a time, under the "ledger"
-- lease) writes ledger_cursor, ledger_heads and ledger_tiles; only
-- retention writes ledger_pruned.

-- The stream position (events.pos) up to which events are integrated. A
-- round of integration moves it with a compare-and-set, which fences off a
-- node that lost the lease but has not noticed yet.
CREATE TABLE ledger_cursor (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    pos bigint  NOT NULL
);
INSERT INTO ledger_cursor (one, pos) VALUES (true, 0);

-- The latest checkpoint of each log: size leaves are integrated.
CREATE TABLE ledger_heads (
    tenant     text        COLLATE "C" PRIMARY KEY,
    size       bigint      NOT NULL,
    checkpoint bytea       NOT NULL, -- the signed note
    updated_at timestamptz NOT NULL
);

-- Tile (level, idx) holds the hashes of the tree nodes at level with
-- indices from idx*256, 32 bytes each, in order; level 0 are the leaves.
CREATE TABLE ledger_tiles (
    tenant text     COLLATE "C" NOT NULL,
    level  smallint NOT NULL,
    idx    bigint   NOT NULL,
    hashes bytea    NOT NULL,
    PRIMARY KEY (tenant, level, idx)
);

-- Ranges [from_seq, to_seq) of a log deleted by retention, each with the
-- checkpoint that covered it when it was pruned.
CREATE TABLE ledger_pruned (
    tenant     text        COLLATE "C" NOT NULL,
    from_seq   bigint      NOT NULL,
    to_seq     bigint      NOT NULL,
    checkpoint bytea       NOT NULL,
    pruned_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, to_seq)
);
