-- Action schemas, retention and legal holds, alert rules, execution logs.
-- Times are integer microseconds since the Unix epoch (UTC).

-- One row per immutable schema version of (tenant, action); tenant '' is
-- the platform line. doc is the JSON of trail.ActionSchema.
CREATE TABLE action_schemas (
    tenant     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    doc        BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, action, version)
) WITHOUT ROWID;

-- Each tenant's schema validation mode; a missing row means off.
CREATE TABLE validation_modes (
    tenant     TEXT    PRIMARY KEY,
    mode       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Each tenant's retention; a missing row means the default (365 days).
CREATE TABLE retention_policies (
    tenant     TEXT    PRIMARY KEY,
    days       INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Legal holds. kind is tenant, target or time_range; since and until are
-- NULL unless kind is time_range.
CREATE TABLE legal_holds (
    id          TEXT    PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL,
    since       INTEGER,
    until       INTEGER,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);
CREATE INDEX legal_holds_by_tenant ON legal_holds (tenant, created_at);

-- Alert rules; spec is the JSON of the rule's filter, condition and webhook.
CREATE TABLE alert_rules (
    id         TEXT    PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    spec       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX alert_rules_by_tenant ON alert_rules (tenant, created_at);

-- The evaluator's stream cursor: -1 until its first round.
CREATE TABLE alert_cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    pos INTEGER NOT NULL
);
INSERT INTO alert_cursor (one, pos) VALUES (1, -1);

-- The window state of each group of each threshold rule (JSON of
-- trail.AlertWindow).
CREATE TABLE alert_windows (
    rule_id   TEXT NOT NULL,
    group_key TEXT NOT NULL,
    state     BLOB NOT NULL,
    PRIMARY KEY (rule_id, group_key)
) WITHOUT ROWID;

-- Firings, unique per (rule, group, window start), so that a rule never
-- fires twice for one window, and their delivery progress.
CREATE TABLE alert_firings (
    id              TEXT    PRIMARY KEY,
    rule_id         TEXT    NOT NULL,
    group_key       TEXT    NOT NULL,
    window_start    INTEGER NOT NULL,
    fired_at        INTEGER NOT NULL,
    pending         INTEGER NOT NULL, -- 1 until delivered or given up
    next_attempt_at INTEGER NOT NULL,
    doc             BLOB    NOT NULL, -- JSON of trail.AlertFiring
    UNIQUE (rule_id, group_key, window_start)
);
CREATE INDEX alert_firings_pending ON alert_firings (pending, next_attempt_at);
CREATE INDEX alert_firings_by_rule ON alert_firings (rule_id, fired_at);

-- Execution logs, read by (tenant, trace) in time order. A rowid table,
-- since a record with its attributes reaches tens of KiB.
CREATE TABLE exec_logs (
    id       TEXT    NOT NULL,
    tenant   TEXT    NOT NULL,
    trace_id TEXT    NOT NULL,
    time     INTEGER NOT NULL,
    data     BLOB    NOT NULL -- JSON of trail.LogRecord
);
CREATE INDEX exec_logs_by_trace ON exec_logs (tenant, trace_id, time, id);
CREATE INDEX exec_logs_by_time ON exec_logs (time);
