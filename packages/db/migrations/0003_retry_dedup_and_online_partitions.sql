-- 0003_retry_dedup_and_online_partitions: a retried event is stored once whatever time it
-- carries, and creating a day's partition never waits for readers.
--
-- * event_ids: one row per (project, event_id) stored in the last DEDUP_WINDOW_DAYS (7 by
--   default). The primary key of `events` has to include the partition key "timestamp", and the
--   stored time of an event depends on the request that carried it (clock-skew correction with
--   sent_at, receive time when the client sent no timestamp), so a client retry could differ
--   from the first copy in "timestamp" alone and be stored twice. The worker inserts each batch's
--   ids here first (ON CONFLICT DO NOTHING … RETURNING) and writes to `events` only the copies
--   whose id was new: a retry keeps the first copy's time. The worker deletes rows older than
--   the window; a BRIN index on first_seen (rows arrive in time order) makes that cheap.
--   The primary key of `events` goes: event_ids now decides what is new, and keeping both
--   unique indexes cost every write a second index insertion (benchmarks/write-path.md). A
--   copy resent after the window is stored again; DEDUP_WINDOW_DAYS says how long to remember.
--   Compatible with the previous release: its workers write with ON CONFLICT DO NOTHING, which
--   needs no unique index; during the rolling upgrade they skip no duplicates, and the new
--   workers do.
-- * eap_ensure_event_partition creates the day's table on its own and then ATTACHes it. ATTACH
--   PARTITION takes SHARE UPDATE EXCLUSIVE on `events`, which neither readers (ACCESS SHARE) nor
--   writers (ROW EXCLUSIVE) conflict with; CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE,
--   so it queued behind any open analytics query, and every later reader and writer queued
--   behind it.

CREATE TABLE event_ids (
  project_id   uuid NOT NULL,
  event_id     text NOT NULL,
  -- The stored time of the copy that was kept.
  "timestamp"  timestamptz NOT NULL,
  first_seen   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, event_id)
);
CREATE INDEX event_ids_first_seen_idx ON event_ids USING brin (first_seen);

-- Ids received in the last 7 days are deduplicated from the first retry after the upgrade.
-- (Partition pruning keeps this to recent partitions; events received late with much older
-- times are deduplicated by the primary key of `events`, as before.)
INSERT INTO event_ids (project_id, event_id, "timestamp", first_seen)
SELECT DISTINCT ON (project_id, event_id) project_id, event_id, "timestamp", received_at
FROM events
WHERE received_at > now() - interval '7 days' AND "timestamp" > now() - interval '60 days'
ORDER BY project_id, event_id, "timestamp"
ON CONFLICT DO NOTHING;

ALTER TABLE events DROP CONSTRAINT events_pkey;

CREATE OR REPLACE FUNCTION eap_ensure_event_partition(day date) RETURNS text
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
      EXECUTE format('CREATE TABLE public.%I (LIKE public.events INCLUDING DEFAULTS)', part);
      EXECUTE format(
        'ALTER TABLE public.events ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
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
