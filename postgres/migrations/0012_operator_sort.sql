-- Moves of sealed events from one log to another (trail.MovedEvent): the
-- event sealed at seq of tenant's log is stored at to_seq of to_tenant's.
CREATE TABLE ledger_moves (
    tenant    text        COLLATE "C" NOT NULL,
    seq       bigint      NOT NULL,
    to_tenant text        COLLATE "C" NOT NULL,
    to_seq    bigint      NOT NULL,
    moved_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, seq)
);

-- The one-time move of Trail's own operator records out of the system log
-- (trail.OperatorSort): events stored before this migration (pos <
-- before_pos) are its candidates, looked at from next_seq of the system
-- log on. The row is deleted when nothing is left to move.
CREATE TABLE operator_sort (
    one        int    PRIMARY KEY CHECK (one = 1),
    before_pos bigint NOT NULL,
    next_seq   bigint NOT NULL
);
INSERT INTO operator_sort (one, before_pos, next_seq) SELECT 1, next_pos, 0 FROM stream_pos;
