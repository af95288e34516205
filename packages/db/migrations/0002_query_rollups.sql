-- 0002_query_rollups: rollups that let the query API answer the common questions without
-- scanning raw events, a covering index for funnels and a time index for the event list.
--
-- * event_counts_hourly: events per (project, event, UTC hour). Trends "count" over any range
--   read at most a few thousand of these rows instead of millions of events.
-- * event_user_days: one row per (project, event, UTC day, user) that did the event that day,
--   with the time of the first such event. Weekly/monthly uniques and retention are distinct
--   counts over it, far fewer rows than the raw events (users repeat events within a day), and
--   a funnel's first step (each user's first event in the range) is the minimum of `first_at`.
-- * event_users_daily: the number of rows of event_user_days per (project, event, UTC day), i.e.
--   daily unique users, incremented when the trigger inserts a new user-day row.
--
-- Both are maintained by a statement-level trigger on `events` that reads the transition table
-- of the INSERT (or COPY): it runs in the writer's transaction and sees only rows actually
-- inserted, so rows skipped by ON CONFLICT DO NOTHING (duplicates) are never counted and a
-- rolled-back batch leaves no trace. A trigger rather than code in the worker keeps every
-- writer exact: the worker, bulk imports with COPY, `eap dlq replay`, manual backfills.
--
-- Contention: the hourly counters of a busy event are hot rows. Each writing session adds to
-- its own `slot` (backend pid mod 16), so concurrent workers rarely wait on the same row; the
-- query layer sums the slots. Rows are inserted in key order, so two writers never deadlock.
--
-- Existing events are counted into the rollups below, after the trigger exists: creating the
-- trigger locks out concurrent inserts until this migration commits, so nothing is missed or
-- counted twice.

CREATE TABLE event_counts_hourly (
  project_id  uuid NOT NULL,
  event       text NOT NULL,
  hour        timestamptz NOT NULL,
  slot        smallint NOT NULL,
  events      bigint NOT NULL,
  PRIMARY KEY (project_id, event, hour, slot)
);

CREATE TABLE event_user_days (
  project_id   uuid NOT NULL,
  event        text NOT NULL,
  day          date NOT NULL,
  distinct_id  text NOT NULL,
  first_at     timestamptz NOT NULL,
  PRIMARY KEY (project_id, event, day, distinct_id)
);

CREATE TABLE event_users_daily (
  project_id  uuid NOT NULL,
  event       text NOT NULL,
  day         date NOT NULL,
  slot        smallint NOT NULL,
  users       bigint NOT NULL,
  PRIMARY KEY (project_id, event, day, slot)
);

CREATE FUNCTION eap_events_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS c (project_id, event, hour, slot, events)
  SELECT project_id, event, date_trunc('hour', "timestamp", 'UTC'), (pg_backend_pid() % 16)::smallint, count(*)
  FROM new_events
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (project_id, event, hour, slot) DO UPDATE SET events = c.events + excluded.events;

  -- A user-day row is new (xmax = 0) or, for a late event earlier than the known first one,
  -- updated; only new rows add a daily unique user.
  WITH days AS (
    INSERT INTO event_user_days AS d (project_id, event, day, distinct_id, first_at)
    SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date, distinct_id, min("timestamp")
    FROM new_events
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

CREATE TRIGGER events_rollup
  AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION eap_events_rollup();

-- Removes rollup rows of UTC days before `before_day`, when the partitions holding those days
-- are dropped by retention, so rollups and raw events keep agreeing.
CREATE FUNCTION eap_drop_rollups_before(before_day date) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM event_counts_hourly WHERE hour < (before_day::timestamp AT TIME ZONE 'UTC');
  DELETE FROM event_user_days WHERE day < before_day;
  DELETE FROM event_users_daily WHERE day < before_day;
$$;

-- Funnels look up each user's step events by name and time; carrying distinct_id in the
-- (project_id, event, "timestamp") index lets them read the index alone. It replaces that index
-- (same key, same uses) instead of adding a third one to every insert.
CREATE INDEX events_project_event_time_user_idx ON events (project_id, event, "timestamp") INCLUDE (distinct_id);
DROP INDEX events_project_event_time_idx;

-- The event list pages through a project's events newest first: with this index each daily
-- partition yields its rows in time order and a page stops after `limit` rows, instead of
-- sorting every event of the range.
CREATE INDEX events_project_time_idx ON events (project_id, "timestamp");

INSERT INTO event_counts_hourly (project_id, event, hour, slot, events)
SELECT project_id, event, date_trunc('hour', "timestamp", 'UTC'), 0, count(*)
FROM events
GROUP BY 1, 2, 3;

INSERT INTO event_user_days (project_id, event, day, distinct_id, first_at)
SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date, distinct_id, min("timestamp")
FROM events
GROUP BY 1, 2, 3, 4;

INSERT INTO event_users_daily (project_id, event, day, slot, users)
SELECT project_id, event, day, 0, count(*)
FROM event_user_days
GROUP BY 1, 2, 3;
