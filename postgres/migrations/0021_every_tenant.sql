-- Indexes without the tenant, for a platform key's pages (every tenant) in
-- time order that filter on an action, an actor or a target. Every other
-- filter index leads with tenant, so such a page was one scan per tenant:
-- over 300 tenants, 300 index descents in every monthly partition before a
-- row was read (12 to 46 ms a first page), or, read with no tenant
-- condition, a walk of every tenant's events in time order that checked
-- each one (a rare action's page read the whole table). With these, the
-- page is one ordered index range per exact action, actor or target, which
-- stops after a page, whatever the number of tenants or the value's size.
-- A tenant's page keeps the tenant's own indexes, which match more of its
-- conditions.
-- Building them on a large store holds off appends until they are built;
-- a store of millions of events can create them beforehand, partition by
-- partition, with CREATE INDEX CONCURRENTLY on each partition and then
-- these statements, which find and attach them (docs/operations.md,
-- Building an index before an upgrade).
CREATE INDEX events_by_action_all ON events (action, occurred_at, id);
CREATE INDEX events_by_actor_all ON events (actor_id, occurred_at, id);
-- The target index is keyed on the expression id || '' (the same text),
-- which only a page of every tenant writes: on the bare column, a tenant's
-- page of a target took this index and filtered it by tenant, where the
-- primary key has the tenant's range.
CREATE INDEX event_targets_by_target_all ON event_targets ((id || ''), type, occurred_at, event_id);
