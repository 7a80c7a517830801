-- Sorts by the actor's name and by the first target's type and id
-- (GET /v1/events?sort=actor_name, target_type, target_id; the console's
-- User, Model and Entity ID columns). Only the first target decides, so
-- the keys are expressions over the stored JSON: no column to fill for
-- the events stored before, and nothing for an append to write but the
-- index entries. An event without targets sorts as ''. The expressions
-- must stay exactly those of postgres/query.go (sortColumns), which is
-- what lets the planner use these indexes.
-- A tenant's page reads events_by_actor_name (migration 1) or one of the
-- two tenant indexes below; a page of every tenant reads one of the three
-- indexes without tenant (see everyTenantIndex), as in migration 21.
-- Building them on a large store holds off appends until they are built,
-- and reads every event's JSON once; a store of millions of events can
-- create them beforehand, partition by partition, with CREATE INDEX
-- CONCURRENTLY on each partition and then these statements, which find
-- and attach them (docs/operations.md, Building an index before an
-- upgrade).
CREATE INDEX events_by_first_target_type ON events
    (tenant, (coalesce(data::jsonb #>> '{targets,0,type}', '') COLLATE "C"), occurred_at, id);
CREATE INDEX events_by_first_target_id ON events
    (tenant, (coalesce(data::jsonb #>> '{targets,0,id}', '') COLLATE "C"), occurred_at, id);
CREATE INDEX events_by_actor_name_all ON events (actor_name, occurred_at, id);
CREATE INDEX events_by_first_target_type_all ON events
    ((coalesce(data::jsonb #>> '{targets,0,type}', '') COLLATE "C"), occurred_at, id);
CREATE INDEX events_by_first_target_id_all ON events
    ((coalesce(data::jsonb #>> '{targets,0,id}', '') COLLATE "C"), occurred_at, id);
