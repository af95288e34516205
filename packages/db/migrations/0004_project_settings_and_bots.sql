-- 0004_project_settings_and_bots: per-project collection settings, and bot traffic kept but
-- marked.
--
-- * projects.settings: the project's collection settings as JSON (allowed browser origins, IP
--   storage, user-agent and GeoIP enrichment, bot filtering). The one schema of its fields and
--   their defaults is ProjectSettings in packages/core; '{}' means every default.
-- * events.is_bot: true when the API recognised the sender as a bot or crawler. Bot events are
--   stored (the decision is recorded, nothing disappears) but left out of the rollups, and the
--   query API leaves them out unless a query asks for them. Adding a column with a constant
--   default rewrites no partition.
-- Compatible with the previous release: its workers write events without is_bot (false) and its
-- API reads no settings.

ALTER TABLE projects ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE events ADD COLUMN is_bot boolean NOT NULL DEFAULT false;

-- The rollups count people, not crawlers: the same function as in 0002, reading only the rows
-- that are not bots.
CREATE OR REPLACE FUNCTION eap_events_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS c (project_id, event, hour, slot, events)
  SELECT project_id, event, date_trunc('hour', "timestamp", 'UTC'), (pg_backend_pid() % 16)::smallint, count(*)
  FROM new_events
  WHERE NOT is_bot
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (project_id, event, hour, slot) DO UPDATE SET events = c.events + excluded.events;

  WITH days AS (
    INSERT INTO event_user_days AS d (project_id, event, day, distinct_id, first_at)
    SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date, distinct_id, min("timestamp")
    FROM new_events
    WHERE NOT is_bot
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, event, day, distinct_id) DO UPDATE SET first_at = excluded.first_at
      WHERE excluded.first_at < d.first_at
    RETURNING d.project_id, d.event, d.day, (d.xmax = 0) AS inserted
  )
  INSERT INTO event_users_daily AS u (project_id, event, day, slot, users)
  SELECT project_id, event, day, (pg_backend_pid() % 16)::smallint, count(*)
  FROM days
  WHERE inserted
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (project_id, event, day, slot) DO UPDATE SET users = u.users + excluded.users;
  RETURN NULL;
END;
$$;
