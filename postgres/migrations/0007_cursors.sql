-- One table of stream cursors: each follower of the event stream (see
-- trail.Follower) keeps the Pos it has handled under its name. A round
-- moves its row with a compare-and-set, which fences off a node that lost
-- its lease but has not noticed yet. The ledger's and the alert
-- evaluator's cursors move here from their own tables; the alerts' -1
-- still means "never set".
CREATE TABLE stream_cursors (
    name text   PRIMARY KEY,
    pos  bigint NOT NULL
);
INSERT INTO stream_cursors (name, pos) SELECT 'ledger', pos FROM ledger_cursor;
INSERT INTO stream_cursors (name, pos) SELECT 'alerts', pos FROM alert_cursor;
DROP TABLE ledger_cursor;
DROP TABLE alert_cursor;
