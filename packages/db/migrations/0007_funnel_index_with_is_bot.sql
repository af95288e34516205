-- 0007_funnel_index_with_is_bot: the funnels' covering index carries is_bot too.
--
-- Queries leave bot events out (`NOT is_bot`, 0004), so the 0002 index on (project_id, event,
-- "timestamp") INCLUDE (distinct_id) no longer covers a funnel step: PostgreSQL cannot read it
-- alone, and on a full-size project (2.3 million events, 10,000 users) the planner then joins each
-- user to their own events through events_project_user_time_idx, visiting every event of every
-- user: the dashboard funnel took 1.8 s instead of 0.23 s before is_bot, 0.29 s with this index
-- (visibility map set; benchmarks/funnel-plan.md). With is_bot in the index, `NOT is_bot` is
-- checked on the index tuple (Index Only Scan with a filter), and queries with include_bots use
-- the same index; a partial index (WHERE NOT is_bot) would leave them without one. The flag fits
-- in the padding of the index tuple: same size, no measurable cost to the writer.
--
-- Same key, built on every partition like 0002's, in the migration's transaction: writes to
-- events wait until the build ends (1.5 s for 2.3 million events on 2 cores). PostgreSQL 15 has
-- no CONCURRENTLY for a partitioned index. Compatible with the previous release: its queries use
-- this index as they used the one it replaces.

CREATE INDEX events_project_event_time_user_bot_idx ON events (project_id, event, "timestamp") INCLUDE (distinct_id, is_bot);
DROP INDEX events_project_event_time_user_idx;
