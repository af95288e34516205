-- 0001_init: the base schema. Projects own API keys (stored only as SHA-256 hashes, kind write or
-- read, revocable) and events. Events are range-partitioned by event time into daily partitions so
-- queries touch only the days they need and retention drops whole partitions. The primary key
-- (project_id, event_id, "timestamp") makes redelivered entries and client retries no-ops.

CREATE TABLE projects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('write', 'read')),
  key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  -- First characters of the key, so people can tell keys apart without the secret.
  key_prefix  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_project_idx ON api_keys (project_id, kind) WHERE revoked_at IS NULL;

CREATE TABLE events (
  project_id        uuid NOT NULL,
  event_id          text NOT NULL,
  event             text NOT NULL,
  distinct_id       text NOT NULL,
  "timestamp"       timestamptz NOT NULL,
  -- The event time exactly as the client sent it, before skew correction and clamping.
  client_timestamp  text,
  sent_at           timestamptz,
  received_at       timestamptz NOT NULL,
  session_id        text,
  properties        jsonb NOT NULL DEFAULT '{}'::jsonb,
  context           jsonb,
  PRIMARY KEY (project_id, event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE INDEX events_project_event_time_idx ON events (project_id, event, "timestamp");
CREATE INDEX events_project_user_time_idx ON events (project_id, distinct_id, "timestamp");

-- Creates the daily partition holding `day` (UTC) if it does not exist. Safe to call from many
-- processes at once: a transaction-level advisory lock serializes creators of the same day, the
-- existence check after it reads pg_class with a fresh snapshot (the relation cache may be stale),
-- and a concurrent creation that still slips through is treated as success.
CREATE FUNCTION eap_ensure_event_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := 'events_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = part AND relnamespace = 'public'::regnamespace) THEN
    RETURN part;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('eap_event_partition'), (day - DATE '2000-01-01'));
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = part AND relnamespace = 'public'::regnamespace) THEN
    BEGIN
      EXECUTE format(
        'CREATE TABLE public.%I PARTITION OF public.events FOR VALUES FROM (%L) TO (%L)',
        part,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC')
      );
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL; -- another session created it between our check and our CREATE
    END;
  END IF;
  RETURN part;
END;
$$;

-- Creates every daily partition from `from_day` to `to_day` inclusive; returns how many exist.
CREATE FUNCTION eap_ensure_event_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE sql AS $$
  SELECT count(eap_ensure_event_partition(d::date))::integer
  FROM generate_series(from_day, to_day, interval '1 day') AS d;
$$;
