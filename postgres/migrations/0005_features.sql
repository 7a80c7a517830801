-- Action schemas, retention and legal holds, alert rules, execution logs.

-- One row per immutable schema version of (tenant, action); tenant '' is
-- the platform line. doc is the JSON of trail.ActionSchema.
CREATE TABLE action_schemas (
    tenant     text        COLLATE "C" NOT NULL,
    action     text        COLLATE "C" NOT NULL,
    version    int         NOT NULL,
    doc        text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, action, version)
);

-- Each tenant's schema validation mode; a missing row means off.
CREATE TABLE validation_modes (
    tenant     text        COLLATE "C" PRIMARY KEY,
    mode       text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Each tenant's retention; a missing row means the default (365 days).
CREATE TABLE retention_policies (
    tenant     text        COLLATE "C" PRIMARY KEY,
    days       int         NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Legal holds. kind is tenant, target or time_range; since and until are
-- NULL unless kind is time_range.
CREATE TABLE legal_holds (
    id          text        COLLATE "C" PRIMARY KEY,
    tenant      text        COLLATE "C" NOT NULL,
    kind        text        NOT NULL,
    target_type text        COLLATE "C" NOT NULL,
    target_id   text        COLLATE "C" NOT NULL,
    since       timestamptz,
    until       timestamptz,
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL
);
CREATE INDEX legal_holds_by_tenant ON legal_holds (tenant, created_at);

-- Alert rules; spec is the JSON of trail.AlertRule.
CREATE TABLE alert_rules (
    id         text        COLLATE "C" PRIMARY KEY,
    tenant     text        COLLATE "C" NOT NULL,
    spec       text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX alert_rules_by_tenant ON alert_rules (tenant, created_at);

-- The evaluator's stream cursor: -1 until its first round.
CREATE TABLE alert_cursor (
    one int    PRIMARY KEY CHECK (one = 1),
    pos bigint NOT NULL
);
INSERT INTO alert_cursor (one, pos) VALUES (1, -1);

-- The window state of each group of each threshold rule (JSON of
-- trail.AlertWindow).
CREATE TABLE alert_windows (
    rule_id   text COLLATE "C" NOT NULL,
    group_key text COLLATE "C" NOT NULL,
    state     text NOT NULL,
    PRIMARY KEY (rule_id, group_key)
);

-- Firings, unique per (rule, group, window start), so that a rule never
-- fires twice for one window, and their delivery progress.
CREATE TABLE alert_firings (
    id              text        COLLATE "C" PRIMARY KEY,
    rule_id         text        COLLATE "C" NOT NULL,
    group_key       text        COLLATE "C" NOT NULL,
    window_start    timestamptz NOT NULL,
    fired_at        timestamptz NOT NULL,
    pending         boolean     NOT NULL, -- true until delivered or given up
    next_attempt_at timestamptz NOT NULL,
    doc             text        NOT NULL, -- JSON of trail.AlertFiring
    UNIQUE (rule_id, group_key, window_start)
);
CREATE INDEX alert_firings_pending ON alert_firings (next_attempt_at) WHERE pending;
CREATE INDEX alert_firings_by_rule ON alert_firings (rule_id, fired_at);

-- Execution logs, read by (tenant, trace) in time order.
CREATE TABLE exec_logs (
    id       text        COLLATE "C" NOT NULL,
    tenant   text        COLLATE "C" NOT NULL,
    trace_id text        COLLATE "C" NOT NULL,
    time     timestamptz NOT NULL,
    data     text        NOT NULL -- JSON of trail.LogRecord
);
CREATE INDEX exec_logs_by_trace ON exec_logs (tenant, trace_id, time, id);
CREATE INDEX exec_logs_by_time ON exec_logs (time);
