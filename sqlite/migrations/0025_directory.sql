-- The directory of each tenant's actors and target types: the console's
-- actor picker and target type list, GET /v1/actors and GET
-- /v1/target-types. Appends add to it (internal/tables/directory.go), and
-- retention forgets what it no longer has events for.
--
-- One row per name an actor went by, so that the picker finds an actor by
-- its recent names too. fold is the name in lower case, for a prefix match
-- that ignores case. last_day is the UTC day (days since 1970-01-01) of the
-- latest event that named it, by occurred_at, the clock retention goes by.
-- The key, in id order, serves the lookup by id; one index more, by fold,
-- the lookup by name: each index is a write of a new actor at append.
CREATE TABLE event_actors (
    tenant   TEXT    NOT NULL,
    type     TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    fold     TEXT    NOT NULL,
    last_day INTEGER NOT NULL,
    PRIMARY KEY (tenant, id, type, name)
) WITHOUT ROWID;
CREATE INDEX event_actors_by_fold ON event_actors (tenant, fold);

CREATE TABLE event_target_types (
    tenant   TEXT    NOT NULL,
    type     TEXT    NOT NULL,
    last_day INTEGER NOT NULL,
    PRIMARY KEY (tenant, type)
) WITHOUT ROWID;

-- The backfill reads every event once. SQLite's lower() folds ASCII
-- letters only; the next event of an actor stores Go's fold of its name.
INSERT INTO event_actors (tenant, type, id, name, fold, last_day)
SELECT tenant, actor_type, actor_id, actor_name, lower(actor_name), max(occurred_at) / 86400000000
FROM events WHERE actor_id <> '' GROUP BY tenant, actor_type, actor_id, actor_name;

INSERT INTO event_target_types (tenant, type, last_day)
SELECT e.tenant, t.value ->> 'type', max(e.occurred_at) / 86400000000
FROM events e, json_each(CAST(e.data AS TEXT), '$.targets') AS t
WHERE t.value ->> 'type' <> '' GROUP BY e.tenant, t.value ->> 'type';
