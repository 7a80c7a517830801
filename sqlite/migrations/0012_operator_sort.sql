-- Moves of sealed events from one log to another (trail.MovedEvent): the
-- event sealed at seq of tenant's log is stored at to_seq of to_tenant's.
-- moved_at is integer microseconds since the Unix epoch.
CREATE TABLE ledger_moves (
    tenant    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    to_tenant TEXT    NOT NULL,
    to_seq    INTEGER NOT NULL,
    moved_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, seq)
) WITHOUT ROWID;

-- The one-time move of Trail's own operator records out of the system log
-- (trail.OperatorSort): events stored before this migration (pos <
-- before_pos) are its candidates, looked at from next_seq of the system
-- log on. The row is deleted when nothing is left to move.
CREATE TABLE operator_sort (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    before_pos INTEGER NOT NULL,
    next_seq   INTEGER NOT NULL
);
INSERT INTO operator_sort (one, before_pos, next_seq) SELECT 1, next_pos, 0 FROM stream_pos;
