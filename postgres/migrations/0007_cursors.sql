-- One table of stream cursors: each follower of the event stream (see
-- trail.Follower) keeps the Pos it has handled under its name: "ledger",
-- "alerts", "forwarder:" and the forwarder's id. The ledger and the alert
-- evaluator move theirs with a compare-and-set, which fences off a node
-- that lost its lease but has not noticed yet; a forwarder's only moves
-- forward. The cursors move here from ledger_cursor, alert_cursor and
-- forwarders.cursor_pos; the alerts' -1 still means "never set".
CREATE TABLE stream_cursors (
    name text   PRIMARY KEY,
    pos  bigint NOT NULL
);
INSERT INTO stream_cursors (name, pos) SELECT 'ledger', pos FROM ledger_cursor;
INSERT INTO stream_cursors (name, pos) SELECT 'alerts', pos FROM alert_cursor;
DROP TABLE ledger_cursor;
DROP TABLE alert_cursor;
INSERT INTO stream_cursors (name, pos) SELECT 'forwarder:' || id, cursor_pos FROM forwarders;
ALTER TABLE forwarders DROP COLUMN cursor_pos;
