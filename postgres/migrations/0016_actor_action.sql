-- One actor's events in action order, then time order within each tenant:
-- a page sorted by action that filters on an actor
-- (GET /v1/events?actor_id=u1&sort=action). Without it, such a page read
-- every event of the actor through events_by_actor and sorted them (110 ms
-- for an actor of 6,000 events in a tenant, growing with the actor), or
-- walked the tenant's events in action order until the actor's were found.
-- With it, the page is an ordered index scan that stops after a page,
-- whatever the actor's size. A page of one actor in time order keeps
-- events_by_actor, whose order this index does not give.
CREATE INDEX events_by_actor_action ON events (tenant, actor_id, action, occurred_at, id);
