-- Indexes and statistics that give every page query an index of its own,
-- so that its plan does not depend on statistics (docs/storage.md, Query
-- plans).

-- Events of one target type, in time order within each tenant: the type
-- filter without a target id (GET /v1/events?target_type=document), and the
-- probe that checks an event has a target of a type while another index
-- drives the page. Without it, a type filter sorted every event of the type.
-- It is keyed on the expression type || '' (the same text), which only the
-- queries that want this index write: a condition on the column type
-- cannot use it, so a page of one target (type and id) keeps the primary
-- key. On the bare column, a generic plan made without statistics took this
-- index for a target's page and read every event of the type. type is
-- included so that scans of the index need not visit the table.
CREATE INDEX event_targets_by_type ON event_targets (tenant, (type || ''), occurred_at, event_id) INCLUDE (type);

-- Filters combine tenant with action or actor, whose values depend on the
-- tenant; statistics on the pairs keep row estimates of the maintenance
-- queries and of exports near the truth once Trail has analyzed the tables.
CREATE STATISTICS events_tenant_action (ndistinct, dependencies) ON tenant, action FROM events;
CREATE STATISTICS events_tenant_actor (ndistinct, dependencies) ON tenant, actor_id FROM events;
